"""The harness's evaluator: a small CNN trained on *real* images, never on generated ones.

Two heads on one trunk: the digit (10 classes) and the style (``plain``, ``bold``,
``slanted``, ``outlined``).  The 64-d penultimate layer is the feature space of the Fréchet
distance.  It is trained by :func:`train_evaluator` on the real training split in every style
(random one-pixel shifts as augmentation) and shipped as ``weights/evaluator.safetensors``,
pinned by sha256 (:data:`SHA256`); ``scripts/t2i_train.py evaluator`` reproduces it.  Its
accuracy on the real held-out split is stored in the file (``Evaluator.info``).

Examples
--------
>>> from unlearn.t2i.evaluator import Evaluator
>>> from unlearn.t2i import data
>>> ev = Evaluator.load()
>>> x, digit, _ = data.images("test", "bold")
>>> float((ev.predict(x)["digit"].argmax(1) == digit).mean()) > 0.95
True
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from . import _torch
from .data import SIZE, STYLES, images

__all__ = ["FEATURES", "SHA256", "Evaluator", "train_evaluator"]

FEATURES = 64
_PATH = Path(__file__).parent / "weights" / "evaluator.safetensors"
#: sha256 of the shipped evaluator file.
SHA256 = "e94e8a284810f7a18f057c1c0efec738db411831bf42b31408ea2488aebdba6f"


def _net():
    torch = _torch.torch()
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
                nn.Conv2d(32, 64, 3, padding=1, stride=2), nn.ReLU(),   # 8x8
                nn.Conv2d(64, 64, 3, padding=1, stride=2), nn.ReLU(),   # 4x4
                nn.Flatten(), nn.Linear(64 * (SIZE // 4) ** 2, FEATURES), nn.ReLU(),
            )
            self.digit = nn.Linear(FEATURES, 10)
            self.style = nn.Linear(FEATURES, len(STYLES))

        def forward(self, x):
            f = self.trunk(x)
            return f, self.digit(f), self.style(f)

    return Net()


class Evaluator:
    """Digit and style classifier with a feature layer (torch, eval mode, no gradients)."""

    def __init__(self, net, info: dict | None = None):
        self.net = net.eval()
        self.net.requires_grad_(False)
        self.info = dict(info or {})

    @staticmethod
    def _x(x):
        torch = _torch.torch()
        if torch.is_tensor(x):
            t = x.detach().float()
        else:
            a = np.asarray(x, np.float32)
            t = torch.from_numpy(np.ascontiguousarray(a))
        if t.ndim == 2:
            t = t[None]
        if t.ndim == 3:
            t = t[:, None]
        if t.ndim != 4 or tuple(t.shape[1:]) != (1, SIZE, SIZE):
            raise ValueError(f"x must be images of shape (n, {SIZE}, {SIZE}), got "
                             f"{tuple(t.shape)}")
        return t * 2.0 - 1.0

    def _run(self, x, batch: int = 2048):
        torch = _torch.torch()
        t = self._x(x)
        with torch.no_grad():
            outs = [self.net(t[lo:lo + batch]) for lo in range(0, t.shape[0], batch)]
        if not outs:
            z = torch.zeros((0, FEATURES))
            return z, torch.zeros((0, 10)), torch.zeros((0, len(STYLES)))
        return tuple(torch.cat([o[i] for o in outs]) for i in range(3))

    def predict(self, x) -> dict[str, np.ndarray]:
        """Class probabilities: ``{"digit": (n, 10), "style": (n, 4)}`` for images in [0, 1]."""
        _, d, s = self._run(x)
        return {"digit": d.softmax(1).numpy(), "style": s.softmax(1).numpy()}

    def features(self, x) -> np.ndarray:
        """Penultimate-layer features ``(n, 64)`` (float64), for the Fréchet distance."""
        return self._run(x)[0].numpy().astype(np.float64)

    def logits(self, x):
        """Differentiable ``(digit_logits, style_logits)`` for a torch batch in [0, 1]."""
        t = x if x.ndim == 4 else x[:, None]
        _, d, s = self.net(t * 2.0 - 1.0)
        return d, s

    def save(self, path, info: dict | None = None) -> str:
        from safetensors.torch import save_file

        from .model import _sha256

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format": "erasurelab.t2i.evaluator/1",
                "info": json.dumps(info if info is not None else self.info, sort_keys=True)}
        save_file({k: v.contiguous() for k, v in self.net.state_dict().items()}, str(path),
                  metadata=meta)
        return _sha256(path)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, *, sha256: str | None = None):
        """The shipped evaluator (sha256-checked, cached per process) or one from ``path``."""
        if path is None:
            return _shipped()
        return cls._read(Path(path), sha256)

    @classmethod
    def _read(cls, path: Path, sha256: str | None):
        from safetensors import safe_open

        from .model import _sha256

        if not path.is_file():
            raise FileNotFoundError(f"path: no evaluator file at {path}")
        if sha256 is not None and _sha256(path) != sha256:
            raise ValueError(f"path: {path} has sha256 {_sha256(path)}, expected {sha256}")
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        if meta.get("format") != "erasurelab.t2i.evaluator/1":
            raise ValueError(f"path: {path} is not an erasurelab t2i evaluator file")
        net = _net()
        net.load_state_dict(state, strict=True)
        return cls(net, json.loads(meta.get("info", "{}")))


@functools.lru_cache(maxsize=1)
def _shipped() -> Evaluator:
    return Evaluator._read(_PATH, SHA256)


def _real_sets(part: str):
    xs, ds, ss = [], [], []
    for s in STYLES:
        x, d, si = images(part, s)
        xs.append(x)
        ds.append(d)
        ss.append(si)
    return np.concatenate(xs), np.concatenate(ds), np.concatenate(ss)


def train_evaluator(*, seed: int = 0, epochs: int = 30, batch_size: int = 128,
                    lr: float = 2e-3) -> tuple[Evaluator, dict]:
    """Train the evaluator on the real training split (all styles); report test accuracy.

    Augmentation: each batch is shifted by up to one pixel in each direction (zero fill) and
    gets small Gaussian pixel noise (σ 0.05), so that samples of a diffusion model, which are
    slightly noisier and less centred than the data, are read like real digits.
    """
    torch = _torch.torch()
    torch.manual_seed(int(seed))
    net = _net()
    x, d, s = _real_sets("train")
    xt = torch.from_numpy(x)[:, None] * 2.0 - 1.0
    dt, st = torch.from_numpy(d), torch.from_numpy(s)
    gen = _torch.generator(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    n = xt.shape[0]
    steps = epochs * ((n + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for lo in range(0, n, batch_size):
            idx = perm[lo:lo + batch_size]
            xb = xt[idx]
            dy, dx = (int(v) for v in torch.randint(-1, 2, (2,), generator=gen))
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            if dy:
                xb[:, :, 0 if dy > 0 else -1, :] = -1.0
            if dx:
                xb[:, :, :, 0 if dx > 0 else -1] = -1.0
            xb = xb + 0.1 * torch.randn(xb.shape, generator=gen)
            _, ld, ls = net(xb)
            loss = (torch.nn.functional.cross_entropy(ld, dt[idx])
                    + torch.nn.functional.cross_entropy(ls, st[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    ev = Evaluator(net)
    report = {"epochs": epochs, "batch_size": batch_size, "lr": lr}
    for s_name in STYLES:
        xs, ds, _ = images("test", s_name)
        p = ev.predict(xs)
        report[f"test_digit_acc_{s_name}"] = round(float((p["digit"].argmax(1) == ds).mean()), 4)
        report[f"test_style_acc_{s_name}"] = round(
            float((p["style"].argmax(1) == STYLES.index(s_name)).mean()), 4)
    ev.info = report
    return ev, report
