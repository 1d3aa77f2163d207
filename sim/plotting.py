"""Figures: error rate vs x per group (through ``sinter.plot_error_rate``) and data collapse."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sinter

from .threshold import ThresholdResult, _getter, _load

__all__ = ["plot", "plot_collapse", "save_figure"]


def save_figure(fig: Any, out: str | os.PathLike) -> list[Path]:
    """Save ``fig`` as PNG and SVG next to each other (``out``'s suffix picks the first)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower() or ".png"
    if suffix not in (".png", ".svg", ".pdf"):
        raise ValueError(f"out: unsupported figure format {suffix!r} (use .png, .svg or .pdf)")
    paths = [out.with_suffix(suffix)]
    paths += [out.with_suffix(o) for o in (".png", ".svg") if o != suffix]
    for p in paths:
        fig.savefig(p, dpi=150, bbox_inches="tight")
    return paths


def _sort_key(g: Any) -> tuple:
    """Numbers first, in numeric order, then everything else by its text."""
    numeric = isinstance(g, int | float | np.integer | np.floating) and not isinstance(g, bool)
    return (0, float(g), "") if numeric else (1, 0.0, str(g))


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot(
    stats: Any,
    *,
    x: str | Callable,
    group: str | Callable | None = None,
    out: str | os.PathLike | None = None,
    theory: Callable[[dict], float | None] | None = None,
    logy: bool = True,
    title: str | None = None,
    ylabel: str = "error rate (errors / shots)",
    ax: Any = None,
) -> Any:
    """Plot error rate against ``x``, one curve per ``group``, with likelihood bands.

    Parameters
    ----------
    stats : rows or CSV path(s).
    x, group : json_metadata keys or callables.
    out : where to save (PNG and SVG are both written); ``None`` only returns the figure.
    theory : ``f(json_metadata) -> rate or None``, drawn as dashed lines per group.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import sim, tempfile, os
    >>> st = sim.collect([("repetition", {"n": n, "p": p}) for n in (3, 5)
    ...                   for p in (0.1, 0.2)], max_shots=2000, seed=0, workers=1)
    >>> fig = sim.plot(st, x="p", group="n")
    """
    plt = _mpl()
    rows = _load(stats)
    fx = _getter(x, "x")
    fg = _getter(group, "group") if group is not None else (lambda s: s.decoder)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
    else:
        fig = ax.figure
    def curve_label(g: Any) -> str:
        return f"{group}={g}" if isinstance(group, str) else str(g)

    def curve(s: sinter.TaskStats) -> dict:
        # numeric order (L = 6, 8, 10, not 10, 6, 8) and a label that names the key
        g = fg(s)
        label = curve_label(g)
        return {"label": label, "sort": _sort_key(g), "color": label, "marker": label}

    sinter.plot_error_rate(
        ax=ax,
        stats=rows,
        x_func=lambda s: fx(s),
        group_func=curve,
    )
    if theory is not None:
        groups: dict[Any, list[tuple[float, float]]] = {}
        for s in rows:
            try:
                val = theory(dict(s.json_metadata))
            except ValueError:
                val = None
            if val is not None and np.isfinite(val):
                groups.setdefault(fg(s), []).append((float(fx(s)), float(val)))
        # the same colour as the group's simulated curve (sinter numbers colours in the
        # numeric-aware order of the labels)
        order = sorted({str(curve_label(g)) for g in groups}, key=sinter.better_sorted_str_terms)
        for g, pts in sorted(groups.items(), key=lambda kv: _sort_key(kv[0])):
            pts = sorted(set(pts))
            label = curve_label(g)
            i = order.index(label)
            ax.plot(*zip(*pts), "--", color=f"C{i}", alpha=0.8, label=f"{label} (theory)")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(x if isinstance(x, str) else "x")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.4)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    if out is not None:
        save_figure(fig, out)
    return fig


def plot_collapse(
    result: ThresholdResult,
    *,
    out: str | os.PathLike | None = None,
    xlabel: str = "(x - x_c) L^{1/nu}",
) -> Any:
    """Data-collapse plot of a :func:`sim.threshold` result (rate against the scaling variable)."""
    plt = _mpl()
    d = result.data
    xs, Ls, n, k, mask = d["x"], d["size"], d["shots"], d["errors"], d["mask"]
    u = (xs - result.value) * Ls ** (1.0 / result.nu)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, L in enumerate(np.unique(Ls)):
        m = (Ls == L) & mask
        r = k[m] / n[m]
        err = np.sqrt(np.maximum(r * (1 - r), 1e-12) / n[m])
        ax.errorbar(u[m], r, yerr=err, fmt="o", ms=4, color=f"C{i}", label=f"L={L:g}")
    grid = np.linspace(u[mask].min(), u[mask].max(), 200)
    ax.plot(grid, np.polyval(result.coefficients[::-1], grid), "k--", lw=1, label="fit")
    ax.set_xlabel(f"${xlabel}$")
    ax.set_ylabel("logical error rate")
    ax.set_title(f"collapse: x_c = {result.value:.5g}, nu = {result.nu:.3g}")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.4)
    if out is not None:
        save_figure(fig, out)
    return fig
