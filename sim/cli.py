"""The ``erasurelab`` command line.

Subcommands: ``collect``, ``plot``, ``threshold``, ``combine``; and the domains
``fbqc``, ``hebbian``, ``unlearn``, each dispatched (imported lazily) to
``<domain>.cli:main``.  Bad input prints a message naming the argument and exits 2,
writing nothing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

DOMAINS = {
    "fbqc": "fusion-based quantum computation: networks, thresholds, linear optics",
    "hebbian": "Hebbian associative memories: clique, sparse, Willshaw, recurrent",
    "unlearn": "machine unlearning: deletion, audits, worst-case sets, concept erasure",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # exit code 2, like argparse, but raise for main()
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="erasurelab",
        description="Simulation and theory of erasure: FBQC thresholds, Hebbian memories, "
        "machine unlearning. Every sweep writes sinter CSV.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("collect", help="run a parameter sweep of a sampler into sinter CSV")
    c.add_argument("--sampler", required=True, help="registered name or module:Class")
    c.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="NAME=V1,V2,... or NAME=START:STOP:COUNT (inclusive); repeat for a product",
    )
    c.add_argument("--max-shots", type=int, required=True)
    c.add_argument("--max-errors", type=int, default=None)
    c.add_argument("--seed", type=int, default=None)
    c.add_argument("--workers", type=int, default=None)
    c.add_argument("--shard", default=None, metavar="K/N")
    c.add_argument("--out", required=True, help="CSV file (appended to; resumes)")
    c.add_argument("--no-progress", action="store_true")

    pl = sub.add_parser("plot", help="plot error rate vs a parameter from CSV files")
    pl.add_argument("files", nargs="+")
    pl.add_argument("--x", required=True)
    pl.add_argument("--group", default=None)
    pl.add_argument("-o", "--out", required=True)
    pl.add_argument("--theory", action="store_true", help="overlay the samplers' closed forms")
    pl.add_argument("--linear", action="store_true", help="linear y axis")

    t = sub.add_parser("threshold", help="threshold estimate with CI and crossing drift")
    t.add_argument("files", nargs="+")
    t.add_argument("--x", required=True)
    t.add_argument("--size", required=True)
    t.add_argument("--where", action="append", default=[], metavar="NAME=VALUE")
    t.add_argument("--max-rate", type=float, default=0.4)
    t.add_argument("--bootstrap", type=int, default=200)
    t.add_argument("--collapse", default=None, metavar="FIG.png", help="save a collapse plot")

    cb = sub.add_parser("combine", help="merge rows of CSV files by task (as sinter combine)")
    cb.add_argument("files", nargs="+")
    cb.add_argument("--order", choices=("metadata", "preserve", "error"), default="metadata",
                    help="row order, as sinter combine (default: sorted by metadata)")

    for name, help_text in DOMAINS.items():
        d = sub.add_parser(name, help=help_text, add_help=False)
        d.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def _cmd_collect(a: argparse.Namespace) -> int:
    from .collect import collect
    from .params import parse_param, parse_shard, product

    grid = {}
    for text in a.param:
        name, values = parse_param(text)
        if name in grid:
            raise ValueError(f"--param: {name!r} given twice")
        grid[name] = values
    shard = parse_shard(a.shard) if a.shard else None
    tasks = [(a.sampler, params) for params in product(grid)] if grid else [(a.sampler, {})]
    stats = collect(
        tasks,
        max_shots=a.max_shots,
        max_errors=a.max_errors,
        seed=a.seed,
        workers=a.workers,
        shard=shard,
        save_resume_filepath=a.out,
        progress=False if a.no_progress else None,
    )
    for s in stats:
        print(f"{s.decoder} {s.json_metadata}: {s.errors}/{s.shots}")
    return 0


def _cmd_plot(a: argparse.Namespace) -> int:
    from .csvio import combine, read_stats
    from .plotting import plot
    from .sampler import resolve_sampler, sampler_path

    stats = combine(read_stats(a.files))
    theory = None
    if a.theory:
        names = {s.decoder.split(":", 1)[0] for s in stats}
        if len(names) != 1:
            raise ValueError(f"--theory: the files mix samplers {sorted(names)}; plot one")
        theory = resolve_sampler(sampler_path(names.pop())).theory
    plot(stats, x=a.x, group=a.group, out=a.out, theory=theory, logy=not a.linear)
    print(f"wrote {a.out}")
    return 0


def _cmd_threshold(a: argparse.Namespace) -> int:
    from .csvio import read_stats
    from .params import parse_param
    from .plotting import plot_collapse
    from .threshold import threshold

    where = {}
    for text in a.where:
        name, values = parse_param(text)
        if len(values) != 1:
            raise ValueError(f"--where {name}: give exactly one value")
        where[name] = values[0]
    res = threshold(
        read_stats(a.files),
        x=a.x,
        size=a.size,
        where=where or None,
        max_rate=a.max_rate,
        bootstrap=a.bootstrap,
    )
    print(res.summary())
    if a.collapse:
        plot_collapse(res, out=a.collapse)
        print(f"wrote {a.collapse}")
    return 0


def _cmd_combine(a: argparse.Namespace) -> int:
    import collections
    import json

    import sinter

    from .csvio import combine, read_stats

    key = getattr(sinter, "better_sorted_str_terms", None) or (lambda text: text)
    rows = [  # read everything first: no partial output on error
        sinter.TaskStats(
            strong_id=s.strong_id,
            decoder=s.decoder,
            json_metadata=s.json_metadata,
            shots=s.shots,
            errors=s.errors,
            discards=s.discards,
            seconds=s.seconds,
            custom_counts=collections.Counter(dict(sorted(s.custom_counts.items(), key=key))),
        )
        for s in combine(read_stats(a.files))
    ]
    # the same rows, order and text as ``sinter combine``
    if a.order == "metadata":
        rows.sort(key=lambda s: key(json.dumps(s.json_metadata, separators=(",", ":"),
                                               sort_keys=True)))
    elif a.order == "error":
        rows.sort(key=lambda s: (s.errors / max(1, s.shots - s.discards),
                                 s.discards / max(1, s.shots)))
    print(sinter.CSV_HEADER)
    for s in rows:
        print(s.to_csv_line())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``erasurelab`` command; returns the exit code (2 for bad input).

    Examples
    --------
    >>> main(["collect", "--sampler", "nope", "--max-shots", "10", "--out", "never.csv"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DOMAINS:
        domain = argv[0]
        try:
            mod = importlib.import_module(f"{domain}.cli")
        except ImportError as exc:
            print(f"erasurelab {domain}: not available ({exc})", file=sys.stderr)
            return 2
        return int(mod.main(argv[1:]) or 0)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {
        "collect": _cmd_collect,
        "plot": _cmd_plot,
        "threshold": _cmd_threshold,
        "combine": _cmd_combine,
    }[args.command]
    try:
        return handler(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"erasurelab {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

