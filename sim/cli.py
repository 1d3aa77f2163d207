"""The ``erasurelab`` command line.

Subcommands: ``collect``, ``plot``, ``threshold``, ``combine``; and the domains
``fbqc``, ``hebbian``, ``unlearn``, each dispatched (imported lazily) to
``<domain>.cli:main``.  Bad input prints a message naming the argument and exits 2,
writing nothing; so does a missing optional dependency, in one line naming the extra
that provides it (:mod:`sim.extras`).  ``plot`` and ``threshold`` live in
:mod:`sim.analysis_cli`.
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

    from .analysis_cli import add_parsers

    add_parsers(sub)  # plot, threshold

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
        from .extras import run_guarded

        command = " ".join(["erasurelab", domain, *argv[1:2]])
        try:
            mod = importlib.import_module(f"{domain}.cli")
        except ImportError as exc:
            from .extras import missing_extra_message

            print(missing_extra_message(exc, f"erasurelab {domain}")
                  or f"erasurelab {domain}: not available ({exc})", file=sys.stderr)
            return 2
        return run_guarded(lambda: int(mod.main(argv[1:]) or 0), command)
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
    from .analysis_cli import HANDLERS

    handler = {
        "collect": _cmd_collect,
        "combine": _cmd_combine,
        **HANDLERS,
    }[args.command]
    try:
        from .extras import run_guarded

        return run_guarded(lambda: handler(args), f"erasurelab {args.command}")
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"erasurelab {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

