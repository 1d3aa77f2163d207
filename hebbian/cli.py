"""Hebbian associative memories: recall sweeps into sinter CSV, and closed forms.

Verbs of ``erasurelab hebbian`` (registered through the ``erasurelab.commands`` entry
point; the flags are generated from the declared parameters of :mod:`hebbian.params`):

``sweep``
    ``erasurelab hebbian sweep --clusters 8 --neurons 256 --messages 5000:30000:6
    --erased 4 --rule som --iterations 4 --out stats.csv``.  Every parameter takes a
    list (``1 2 3``, ``1,2,3`` or ``START:STOP:COUNT``); the sweep is their product.
    ``--model`` takes any key of :data:`hebbian.params.MODELS`.
``theory``
    Print the closed-form error (and, with ``--capacity P``, the capacity M* and
    efficiency at target error P) for the same parameters.

Examples
--------
>>> from sim.cli import main
>>> main(["hebbian", "theory", "--clusters", "8", "--neurons", "256", "--messages",
...       "10000", "--erased", "4"])
clique-sos-wta M=10000 erased=4: 0.371204
0
"""

from __future__ import annotations

import argparse

from sim.cli import Parser, add_param_flags, grid_from_args, sweep_command

__all__ = ["register"]

#: Parameters of the closed-form capacity, per model.
_CAPACITY_KEYS = {"clique": ("clusters", "neurons", "erased"),
                  "sparse": ("clusters", "neurons", "active", "erased", "guided"),
                  "willshaw": ("neurons", "active", "erased"),
                  "hopfield": ("neurons", "erased")}


def register(parser: argparse.ArgumentParser) -> None:
    """Add the verbs of ``erasurelab hebbian`` to ``parser``."""
    from .params import MemoryParams

    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    sweep_command(sub, "sweep", MemoryParams, max_shots=20_000,
                  help="simulate recall errors into sinter CSV",
                  description="Sweep the recall error of Hebbian memories into sinter CSV "
                              "(sampler hebbian).  Each flag names the models it applies "
                              "to; a multi-model sweep gives each model only its own.")
    th = sub.add_parser("theory", help="print closed-form error rates / capacity",
                        description="Closed-form one-step error of each grid point.")
    add_param_flags(th, MemoryParams)
    th.add_argument("--capacity", type=float, default=None, metavar="P",
                    help="also print M* and efficiency at target error P")
    th.set_defaults(handler=_theory)


def _theory(a: argparse.Namespace) -> int:
    from .params import MemoryParams
    from .theory import capacity, theory_curve

    rows = [MemoryParams.from_json(r) for r in grid_from_args(a, MemoryParams)]
    for p in rows:
        try:
            val = f"{theory_curve(p.to_json()):.6g}"
        except ValueError as exc:
            val = f"n/a ({exc})"
        print(f"{p.decoder_label()} M={p.messages} erased={p.erased}: {val}")
    if a.capacity is None:
        return 0
    seen = set()
    for p in rows:
        keys = _CAPACITY_KEYS.get(p.model)
        if keys is None:
            raise ValueError(f"--capacity: no closed form for model {p.model!r}")
        kw = {k: getattr(p, k) for k in keys}
        if tuple(kw.items()) in seen:
            continue
        seen.add(tuple(kw.items()))
        cap = capacity(p.model, a.capacity, **kw)
        print(f"capacity {p.model} {kw} at P*={a.capacity}: M*={cap.messages}, "
              f"eta={cap.efficiency:.4f} ({cap.bits:.1f} bits/message, Q={cap.resource:.4g})")
    return 0
