"""``erasurelab plot`` and ``erasurelab threshold``: the analysis subcommands.

:func:`add_parsers` adds both to the ``erasurelab`` parser and :data:`HANDLERS` runs
them.  Neither ever pools rows that differ in a field besides ``x`` (and the size):
``threshold`` fits every such group separately (``--where FIELD=VALUE`` picks one), and
``plot`` draws one curve per combination.  A fit that should not be read as a threshold
prints its warnings; ``--theory`` says when the rows given have no closed form.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

__all__ = ["HANDLERS", "add_parsers"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="sinter CSV files (rows of a task are merged)")
    p.add_argument("--x", required=True, help="json_metadata key of the swept parameter")
    p.add_argument("--where", action="append", default=[], metavar="FIELD=VALUE",
                   help="keep only rows with this field value (repeat for several fields)")
    p.add_argument("--observable", default=None, metavar="NAME[,NAME...]",
                   help="count failures of these observables (any of them) instead of "
                        "errors, from the obs_mistake_mask custom counts, e.g. primal-x")


def add_parsers(sub: Any) -> None:
    """Add the ``plot`` and ``threshold`` subparsers to ``sub`` (an argparse subparsers)."""
    pl = sub.add_parser("plot", help="plot error rate vs a parameter from CSV files",
                        description="One curve per value of --group and of every other "
                                    "field that varies (decoder included).")
    _common(pl)
    pl.add_argument("--group", default=None,
                    help="field that sets the colour (other varying fields: marker/line)")
    pl.add_argument("-o", "--out", required=True, help="figure (.png/.svg/.pdf; SVG beside)")
    pl.add_argument("--theory", action="store_true",
                    help="overlay the samplers' closed forms (dashed, fine grid)")
    pl.add_argument("--threshold", default=None, metavar="SIZE",
                    help="fit sim.threshold with this size field and mark it with its CI")
    pl.add_argument("--title", default=None, help="figure title (default: from the rows)")
    pl.add_argument("--xlabel", default=None, help="x-axis label (default: the sampler's)")
    pl.add_argument("--ylabel", default=None, help="y-axis label (default: the sampler's)")
    pl.add_argument("--xscale", choices=("linear", "log"), default="linear",
                    help="x axis scale (default linear)")
    pl.add_argument("--yscale", choices=("linear", "log"), default=None,
                    help="y axis scale (default log)")
    pl.add_argument("--linear", action="store_true", help="linear y axis (= --yscale linear)")

    t = sub.add_parser("threshold", help="threshold estimate with CI and crossing drift",
                       description="Fits every group of rows that differ in a field "
                                   "besides --x and --size separately.")
    _common(t)
    t.add_argument("--size", required=True, help="json_metadata key of the system size")
    t.add_argument("--max-rate", type=float, default=0.4,
                   help="drop points with a higher error rate (default 0.4)")
    t.add_argument("--bootstrap", type=int, default=200,
                   help="bootstrap replicas for the confidence interval (default 200)")
    t.add_argument("--order", type=int, choices=(2, 3), default=2,
                   help="degree of the collapse polynomial")
    t.add_argument("--collapse", default=None, metavar="FIG.png", help="save a collapse plot")
    t.add_argument("--plot", default=None, metavar="FIG.png",
                   help="save the curves with the threshold marked")


def _rows(a: argparse.Namespace) -> list:
    from .selection import load, parse_where, select

    where = parse_where(a.where)  # bad --where fails before any file is read
    return select(load(a.files), where)


def _suffixed(path: str, group: dict[str, Any], many: bool) -> Path:
    """``fig.png`` for one group; ``fig_decoder-uf.png`` per group when there are several."""
    p = Path(path)
    if not many or not group:
        return p
    tag = "_".join(f"{k}-{v}" for k, v in group.items())
    tag = "".join(c if c.isalnum() or c in "-._" else "-" for c in tag)
    return p.with_name(f"{p.stem}_{tag}{p.suffix}")


def _fits(rows: list, a: argparse.Namespace, size: str, **kw: Any) -> list:
    """Fit every group; a group whose fit fails is reported and skipped."""
    from .selection import format_group, split
    from .threshold import threshold

    out = []
    for group, part in split(rows, exclude=(a.x, size)):
        try:
            res = threshold(part, x=a.x, size=size, observable=a.observable, **kw)
        except ValueError as exc:
            head = f"[{format_group(group)}] " if group else ""
            print(f"{head}threshold: no fit: {exc}", file=sys.stderr)
            continue
        res.group = group
        out.append(res)
    return out


def _cmd_threshold(a: argparse.Namespace) -> int:
    from .plotting import plot, plot_collapse
    from .selection import split

    for name in ("x", "size"):
        if not getattr(a, name).strip():
            raise ValueError(f"--{name} must not be empty")
    if a.max_rate is not None and not 0 < a.max_rate <= 1:
        raise ValueError(f"--max-rate must lie in (0, 1], got {a.max_rate}")
    if a.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0, got {a.bootstrap}")
    rows = _rows(a)
    groups = split(rows, exclude=(a.x, a.size))
    if len(groups) > 1:
        names = ", ".join(groups[0][0])
        print(f"fitting {len(groups)} groups separately (they differ in {names}; "
              f"--where picks one)")
    results = _fits(rows, a, a.size, max_rate=a.max_rate, bootstrap=a.bootstrap,
                    order=a.order)
    many = len(results) > 1
    for i, res in enumerate(results):
        if i:
            print()
        print(res.summary())
        if a.collapse:
            path = _suffixed(a.collapse, res.group, many)
            plot_collapse(res, out=path)
            print(f"wrote {path}")
    if a.plot and results:
        plot(rows, x=a.x, group=a.size, threshold=results, observable=a.observable,
             out=a.plot)
        print(f"wrote {a.plot}")
    return 0 if results else 2


def _cmd_plot(a: argparse.Namespace) -> int:
    from .plotting import plot
    from .sampler import resolve_sampler

    rows = _rows(a)
    theory = None
    if a.theory:
        names = sorted({s.decoder.split(":", 1)[0] for s in rows})
        if len(names) != 1:
            raise ValueError(f"--theory: the rows mix samplers {names}; plot one (--where)")
        try:
            sampler = resolve_sampler(names[0])
        except ValueError:
            raise ValueError(f"--theory: the rows' decoder {rows[0].decoder!r} names no "
                             f"erasurelab sampler, so there is no closed form") from None
        theory = sampler.theory
    marks = None
    if a.threshold:
        marks = _fits(rows, a, a.threshold, bootstrap=100)
        for res in marks:
            print(res.summary())
    yscale = a.yscale or ("linear" if a.linear else "log")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot(rows, x=a.x, group=a.group, out=a.out, theory=theory, threshold=marks,
             observable=a.observable, xscale=a.xscale, yscale=yscale, title=a.title,
             xlabel=a.xlabel, ylabel=a.ylabel)
    for w in caught:
        if issubclass(w.category, UserWarning) and str(w.message).startswith("theory:"):
            print(f"erasurelab plot: --{w.message} (sampler {names[0]}); "
                  f"nothing drawn for those", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    print(f"wrote {a.out}")
    return 0


#: subcommand -> handler(args) -> exit code
HANDLERS = {"plot": _cmd_plot, "threshold": _cmd_threshold}
