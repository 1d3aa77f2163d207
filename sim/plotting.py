"""Figures: error rate against a parameter, one curve per group (through
``sinter.plot_error_rate``), and the data collapse of a threshold fit.

:func:`plot` never pools rows that differ in a field besides ``x``: every such field
(the decoder included) becomes part of the curve, as in ``sinter plot``.  Axis labels
come in words from the samplers' :attr:`~sim.Sampler.labels`, the title states what is
fixed (network, decoder, …) and the shots per point, and a caption line under the axes
says what the bands are.  Points with no errors are drawn as upper bounds (▽), closed
forms as dashed lines on a fine grid on top of the data, and a threshold with its CI as
a shaded vertical band.
"""

from __future__ import annotations

import os
import textwrap
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import sinter

from .selection import (
    Where,
    axis_label,
    fields,
    format_group,
    load,
    sampler_labels,
    select,
    sort_key,
    varying_fields,
)
from .threshold import ThresholdResult, _getter

__all__ = ["axis_label", "plot", "plot_collapse", "save_figure"]

#: sinter's highlight: rates whose likelihood is within this factor of the best fit.
BAND_FACTOR = 1e3
MARKERS = "osD^P*Xh<>p"
BAND_TEXT = ("shaded bands: rates whose likelihood is within ×1000 of the best fit "
             "(sinter's highlight, ≈ ±3.7σ)")
UPPER_TEXT = "▽: no errors seen, drawn at the upper end of its band"


def save_figure(fig: Any, out: str | os.PathLike, *, dpi: int = 150,
                svg: bool = True) -> list[Path]:
    """Save ``fig`` as PNG and SVG next to each other (``out``'s suffix picks the first;
    ``svg=False`` writes only that one)."""
    out = Path(out)
    suffix = out.suffix.lower() or ".png"
    if suffix not in (".png", ".svg", ".pdf"):
        raise ValueError(f"out: unsupported figure format {suffix!r} (use .png, .svg or .pdf)")
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out.with_suffix(suffix)]
    if svg:
        paths += [out.with_suffix(o) for o in (".png", ".svg") if o != suffix]
    for p in paths:
        fig.savefig(p, dpi=dpi, bbox_inches="tight")
    return paths


def _plt():
    # No backend is forced: Jupyter keeps its inline backend, and a headless machine
    # gets Agg from matplotlib's own fallback.
    import matplotlib.pyplot as plt

    return plt


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _auto_title(rows: list[sinter.TaskStats], skip: set[str]) -> str:
    samplers = sorted({s.decoder.split(":", 1)[0] for s in rows if ":" in s.decoder})
    fixed = {}
    for k in sorted({k for s in rows for k in fields(s)} - skip):
        vals = {str(fields(s).get(k)) for s in rows}
        if len(vals) == 1:
            fixed[k] = fields(rows[0]).get(k)
    if "decoder" in fixed and ":" in str(fixed["decoder"]):
        fixed["decoder"] = str(fixed["decoder"]).split(":", 1)[1]
    shots = sorted({s.shots - s.discards for s in rows})
    sh = (f"{shots[0]:,} shots per point" if len(shots) == 1
          else f"{shots[0]:,}–{shots[-1]:,} shots per point")
    head = ", ".join(samplers)
    body = ", ".join(f"{k} {_fmt(v)}" for k, v in fixed.items())
    return "; ".join(t for t in (head, body, sh) if t)


def _wrap(text: str, width: int, max_lines: int = 3) -> str:
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines)


def _theory_grid(xs: np.ndarray, scale: str, n: int = 200) -> np.ndarray:
    lo, hi = float(xs.min()), float(xs.max())
    if lo == hi:
        return np.array([lo])
    if scale == "log" and lo > 0:
        grid = np.geomspace(lo, hi, n)
    else:
        grid = np.linspace(lo, hi, n)
    if np.all(np.equal(np.mod(xs, 1), 0)):  # integer parameter (messages, sizes)
        grid = np.unique(np.round(grid))
    return grid


def plot(
    stats: Any,
    *,
    x: str | Callable,
    group: str | Callable | None = None,
    out: str | os.PathLike | None = None,
    theory: Callable[[dict], float | None] | None = None,
    where: Where = None,
    observable: Any = None,
    threshold: ThresholdResult | Iterable[ThresholdResult] | None = None,
    xscale: str = "linear",
    yscale: str = "log",
    logy: bool | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    caption: bool | str = True,
    ax: Any = None,
) -> Any:
    """Plot error rate against ``x``, one curve per group, with likelihood bands.

    Parameters
    ----------
    stats : rows or CSV path(s).
    x : json_metadata key (or callable on a row) of the horizontal axis.
    group : the field that tells curves apart (colour), or a callable giving a row's curve
        label.  Every *other* field that varies besides ``x`` (the decoder, the network,
        …) splits the curves further (marker and line style), so no curve ever pools
        different settings; fields whose value a callable group fixes are its inputs.
        ``None``: every varying field, as ``sinter plot`` does with the decoder.
    out : where to save (PNG and SVG are both written); ``None`` only returns the figure.
    theory : ``f(json_metadata) -> rate or None``, drawn dashed, on top, on a fine grid
        of ``x`` (200 points; integers for an integer parameter).  A ``UserWarning`` says
        when it has no closed form for some or all of the curves.
    where : keep only rows whose fields match this dict (or satisfy this predicate).
    observable : plot the failure rate of named observables instead of ``errors``
        (``"primal-x"``, a list meaning "any of", or indices; :func:`sim.observable_stats`).
    threshold : :class:`~sim.ThresholdResult` (or several, e.g. from
        :func:`sim.thresholds`): marked as a vertical line with its CI shaded.  Results
        that are not ``ok`` are not drawn; the legend says "no threshold in range".
    xscale, yscale : ``"linear"`` or ``"log"`` (``logy`` is the older switch for y).
    title, xlabel, ylabel : override the automatic ones (words from the samplers'
        labels; the title lists the fixed fields and the shots per point).
    caption : ``True`` writes a line under the axes saying what bands and markers mean;
        a string replaces it; ``False`` omits it.
    ax : draw into this matplotlib axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import sim
    >>> st = sim.collect([("repetition", {"n": n, "p": p}) for n in (3, 5)
    ...                   for p in (0.01, 0.2)], max_shots=2000, seed=0, workers=1)
    >>> fig = sim.plot(st, x="p", group="n")
    >>> fig.axes[0].get_xlabel()
    'bit-flip probability p'
    """
    if logy is not None:
        yscale = "log" if logy else "linear"
    for name, val in (("xscale", xscale), ("yscale", yscale)):
        if val not in ("linear", "log"):
            raise ValueError(f"{name} must be 'linear' or 'log', got {val!r}")
    rows = select(load(stats), where)
    if not rows:
        raise ValueError("plot: no rows to plot")
    if observable is not None:
        from .observables import observable_stats

        rows = observable_stats(rows, observable)
    fx = _getter(x, "x")
    for s in rows:
        fx(s)  # a missing key fails here, naming x
    fg = _getter(group, "group") if group is not None else None
    exclude = [k for k in (x, group) if isinstance(k, str)]
    vary = list(varying_fields(rows, exclude=exclude,
                               functions_of=[f for f in (x,) if callable(f)]))
    if isinstance(group, str):
        vary = [k for k in vary if k != group]
    elif fg is not None:  # fields fixed by a computed group are its inputs, not new curves
        def fixed_by_group(k: str) -> bool:
            seen: dict[Any, Any] = {}
            return all(seen.setdefault(fg(s), str(fields(s).get(k))) == str(fields(s).get(k))
                       for s in rows)

        vary = [k for k in vary if not fixed_by_group(k)]

    def parts(s: sinter.TaskStats) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        """(colour part, marker part) of a row's curve, as (name, value) pairs."""
        others = [(k, fields(s).get(k)) for k in vary]
        if fg is not None:
            gname = group if isinstance(group, str) else ""
            return [(gname, fg(s))], others
        if not others:
            return [("", s.decoder)], []
        main = [kv for kv in others if kv[0] != "decoder"] or others
        rest = [kv for kv in others if kv not in main]
        return main, rest

    def text(kvs: list[tuple[str, Any]]) -> str:
        def show(k: str, v: Any) -> str:
            if k == "decoder" and isinstance(v, str):  # "fbqc:uf" -> "uf"
                v = v.split(":", 1)[-1]
            return f"{k}={_fmt(v)}" if k else _fmt(v)

        return ", ".join(show(k, v) for k, v in kvs)

    def curve(s: sinter.TaskStats) -> dict:
        main, rest = parts(s)
        return {
            "label": text(main + rest),
            "sort": tuple(sort_key(v) for _, v in main + rest),
            "color": text(main),
            "marker": text(rest) if rest else text(main),
            "linestyle": text(rest) if rest else None,
        }

    colour_keys = sorted({tuple(parts(s)[0]) for s in rows},
                         key=lambda t: tuple(sort_key(v) for _, v in t))
    colours = {k: f"C{i % 10}" for i, k in enumerate(colour_keys)}
    # markers per curve (never "v": that marks an upper bound here)
    marker_keys = sorted({curve(s)["marker"] for s in rows}, key=sinter.better_sorted_str_terms)
    markers = {k: MARKERS[i % len(MARKERS)] for i, k in enumerate(marker_keys)}

    def style(members: list[sinter.TaskStats]) -> dict:
        return {"color": colours[tuple(parts(members[0])[0])],
                "marker": markers[curve(members[0])["marker"]]}

    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
    else:
        fig = ax.figure
    sinter.plot_error_rate(
        ax=ax,
        stats=rows,
        x_func=lambda s: fx(s),
        group_func=curve,
        plot_args_func=lambda i, key, members: style(members),
        highlight_max_likelihood_factor=BAND_FACTOR,
    )
    # Zero-error points: sinter leaves them out of the line; draw the upper bound.
    zeros = [s for s in rows if s.errors == 0 and s.shots > s.discards]
    for s in zeros:
        hi = sinter.fit_binomial(num_shots=s.shots - s.discards, num_hits=0,
                                 max_likelihood_factor=BAND_FACTOR).high
        ax.plot([fx(s)], [hi], marker="v", ms=7, mfc="none", ls="none",
                color=colours[tuple(parts(s)[0])], zorder=6, gid="upper-bound")
    if zeros:
        ax.plot([], [], marker="v", mfc="none", ls="none", color="0.3",
                label="no errors (upper bound)")
    notes = [BAND_TEXT] + ([UPPER_TEXT] if zeros else [])

    if theory is not None:
        drawn, missing = _draw_theory(ax, rows, theory, x, fx, parts, colours, text, xscale)
        if drawn:
            ax.plot([], [], "--", color="0.2", lw=1.6, label="closed form (theory)")
            notes.append("dashed: closed form on a fine grid")
        if missing:
            which = "any of the" if not drawn else f"{len(missing)} of the"
            warnings.warn(
                f"theory: no closed form for {which} {len(missing) + len(drawn)} curves "
                f"({'; '.join(missing[:4])}{'; …' if len(missing) > 4 else ''})",
                UserWarning, stacklevel=2,
            )
    if threshold is not None:
        results = [threshold] if isinstance(threshold, ThresholdResult) else list(threshold)
        if _mark_thresholds(ax, results):
            notes.append("grey: threshold with its CI")

    ax.set_xscale(xscale)
    ax.set_yscale(yscale)
    if xlabel is None:
        xlabel = axis_label(x, rows)
    if ylabel is None:
        if observable is not None:
            ylabel = f"failure rate of {_observable_text(observable)}"
        else:
            ylabel = sampler_labels(rows).get("errors", "error rate")
        if "(per " not in ylabel:
            ylabel += " (per shot)"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.4)
    if yscale == "log":
        ax.grid(True, which="minor", axis="y", alpha=0.12)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=8, ncol=2 if len(labels) > 8 else 1)
    if title is None:
        skip = set(exclude) | set(vary)
        title = _wrap(_auto_title(rows, skip), 70)
    if title:
        ax.set_title(title, fontsize=10)
    if caption:
        cap = caption if isinstance(caption, str) else "; ".join(notes) + "."
        ax.annotate(_wrap(cap, 105, 4), xy=(0.5, 0), xycoords=ax.xaxis.label,
                    xytext=(0, -4), textcoords="offset points", ha="center", va="top",
                    fontsize=7, color="0.25")
    if out is not None:
        save_figure(fig, out)
    return fig


def _observable_text(observable: Any) -> str:
    if isinstance(observable, int):
        return f"observable {observable}"
    if isinstance(observable, str):
        observable = observable.split(",")
    items = [str(o).strip() for o in observable]
    return items[0] if len(items) == 1 else "any of " + ", ".join(items)


def _draw_theory(ax, rows, theory, x, fx, parts, colours, text, xscale):
    curves: dict[tuple, list[sinter.TaskStats]] = {}
    for s in rows:
        main, rest = parts(s)
        curves.setdefault((tuple(main), tuple(rest)), []).append(s)
    drawn, missing = [], []
    for (main, rest), members in curves.items():
        label = text(list(main) + list(rest))
        xs = np.array([float(fx(s)) for s in members])
        if isinstance(x, str):
            base = dict(members[0].json_metadata or {})
            grid = _theory_grid(xs, xscale)
            metas = []
            for g in grid:
                val = int(g) if isinstance(base.get(x), int) else float(g)
                metas.append((float(g), {**base, x: val}))
        else:  # a computed x: the closed form is known only at the sampled points
            metas = sorted((float(fx(s)), dict(s.json_metadata or {})) for s in members)
        pts = []
        for gx, meta in metas:
            try:
                val = theory(meta)
            except (ValueError, TypeError, KeyError, ZeroDivisionError):
                val = None
            if val is not None and np.isfinite(val):
                pts.append((gx, float(val)))
        if not pts:
            missing.append(label)
            continue
        pts.sort()
        ax.plot(*zip(*pts), "--", color=colours[main], lw=1.6, zorder=10,
                label="_nolegend_", gid=f"theory:{label}")
        drawn.append(label)
    return drawn, missing


def _mark_thresholds(ax, results: list[ThresholdResult]) -> bool:
    styles = [":", "-.", "--", (0, (1, 3))]
    any_drawn = False
    for i, res in enumerate(results):
        name = f" ({format_group(res.group)})" if res.group else ""
        if not res.ok:
            ax.plot([], [], ls="none", label=f"no threshold in range{name}")
            continue
        lo, hi = res.ci
        ax.axvspan(lo, hi, color="0.5", alpha=0.18, lw=0, zorder=-200)
        ax.axvline(res.value, color="0.2", ls=styles[i % len(styles)], lw=1.2,
                   label=f"threshold {res.value:.4g} [{lo:.4g}, {hi:.4g}]{name}")
        any_drawn = True
    return any_drawn


def plot_collapse(
    result: ThresholdResult,
    *,
    out: str | os.PathLike | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Data-collapse plot of a :func:`sim.threshold` result: rate against the scaling
    variable ``u = (x − x_c)·size^{1/ν}``, one colour per size (named as in the data),
    the fitted polynomial dashed, the threshold (u = 0) marked with its CI and ν in the
    title.  Points left out of the fit are drawn faint and open; points with no errors
    as upper bounds (▽).

    Examples
    --------
    >>> import sim
    >>> st = sim.collect([("repetition", {"n": n, "p": p}) for n in (9, 25, 49)
    ...                   for p in (0.44, 0.47, 0.5, 0.53, 0.56)], max_shots=4000, seed=1,
    ...                  workers=1)
    >>> res = sim.threshold(st, x="p", size="n", max_rate=None, bootstrap=20)
    >>> fig = sim.plot_collapse(res)
    >>> labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    >>> [name for name in ("n = 9", "n = 25", "n = 49") if name in labels]
    ['n = 9', 'n = 25', 'n = 49']
    """
    plt = _plt()
    d = result.data
    xs, Ls, n, k, mask = d["x"], d["size"], d["shots"], d["errors"], d["mask"]
    u = (xs - result.value) * Ls ** (1.0 / result.nu)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2, 4.6))
    else:
        fig = ax.figure
    size = result.size_name
    for i, L in enumerate(np.unique(Ls)):
        colour = f"C{i % 10}"
        for fitted in (True, False):
            m = (Ls == L) & (mask if fitted else ~mask)
            hit = m & (k > 0)
            fits = [sinter.fit_binomial(num_shots=int(nn), num_hits=int(kk),
                                        max_likelihood_factor=BAND_FACTOR)
                    for nn, kk in zip(n[hit], k[hit])]
            r = k[hit] / n[hit]
            err = np.array([[max(0.0, rr - f.low) for rr, f in zip(r, fits)],
                            [max(0.0, f.high - rr) for rr, f in zip(r, fits)]]).reshape(2, -1)
            ax.errorbar(u[hit], r, yerr=err, fmt="o", ms=4, color=colour,
                        mfc=colour if fitted else "none", alpha=1.0 if fitted else 0.45,
                        label=f"{size} = {L:g}" if fitted else "_nolegend_")
            zero = m & (k == 0)
            for uu, nn in zip(u[zero], n[zero]):
                hi = sinter.fit_binomial(num_shots=int(nn), num_hits=0,
                                         max_likelihood_factor=BAND_FACTOR).high
                ax.plot([uu], [hi], marker="v", mfc="none", ls="none", color=colour,
                        alpha=1.0 if fitted else 0.45)
    if mask.any():
        grid = np.linspace(u[mask].min(), u[mask].max(), 200)
        ax.plot(grid, np.polyval(result.coefficients[::-1], grid), "k--", lw=1.2,
                label="collapse polynomial", zorder=10)
    ax.axvline(0.0, color="0.2", ls=":", lw=1.2, label="threshold (u = 0)")
    if not mask.all():
        ax.plot([], [], "o", mfc="none", color="0.5", alpha=0.6, label="not fitted")
    if xlabel is None:
        xlabel = (rf"$u = (x - x_c)\,\mathrm{{{size}}}^{{1/\nu}}$,  x = "
                  + (result.x_label or result.x_name.replace("_", " ")))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("error rate (per shot)")
    if title is None:
        lo, hi = result.ci
        level = int(round(result.confidence * 100))
        if result.ok:
            title = (f"Data collapse: threshold {result.value:.4g} "
                     f"[{lo:.4g}, {hi:.4g}] ({level}% CI)\n"
                     f"ν = {result.nu:.3g} [{result.nu_ci[0]:.3g}, {result.nu_ci[1]:.3g}], "
                     f"χ²/dof = {result.chi2_dof:.2g}")
        else:
            title = "Data collapse: no threshold in range\n" + _wrap(result.warnings[0], 70, 2)
        if result.group:
            title = f"[{format_group(result.group)}] " + title
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.4)
    ax.annotate(_wrap("bars: " + BAND_TEXT.split(": ", 1)[1] + "; ▽: no errors seen "
                      "(upper end of the band); open markers: left out of the fit "
                      "(rate above max_rate or outside the scaling window).", 100, 3),
                xy=(0.5, 0), xycoords=ax.xaxis.label, xytext=(0, -4),
                textcoords="offset points", ha="center", va="top", fontsize=7, color="0.25")
    if out is not None:
        save_figure(fig, out)
    return fig
