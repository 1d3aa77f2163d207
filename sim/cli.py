"""The ``erasurelab`` command line.

Subcommands: ``collect``, ``plot``, ``threshold``, ``combine``, and one command per
domain (``erasurelab fbqc …``, ``erasurelab hebbian …``, ``erasurelab unlearn …``),
found through the ``erasurelab.commands`` entry-point group: each names a function
``register(parser)`` that adds the domain's verbs to its :class:`Parser`.  The engine
names no domain.

The shared machinery every command uses lives here: the one argument-parser class
(:class:`Parser`), the list syntax of every value flag (``--L 8 12 16``,
``--L 8,12,16``, ``--p 0.1:0.14:5``), the run flags declared once
(:func:`add_run_flags`), flags generated from declared task parameters
(:func:`add_param_flags`) and whole sweep commands generated from them
(:func:`sweep_command`).

Exit codes: 0 on success; 2 for input rejected before anything runs (a message naming
the argument, nothing written); 1 when something fails while running (the traceback
is printed: a bug inside a sampler is not reported as a user mistake); 128 + the signal
after SIGINT (Ctrl-C, 130) or SIGTERM (143): a sweep stops gracefully (one line; every
completed chunk is in the file, and a rerun resumes exactly; the pool's workers exit
with it, and exit by themselves if the main process is killed).  A result
file refused when a job opens it (another process writing it, a file that is not ours:
:class:`sim.csvio.ResultFileError`) is input too: one line, exit code 2.

A missing optional dependency is reported in one line naming the extra that provides it
(:mod:`sim.extras`), exit code 2.  ``plot`` and ``threshold`` live in
:mod:`sim.analysis_cli`.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import itertools
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

__all__ = [
    "COMMAND_GROUP",
    "ListAction",
    "Parser",
    "UsageError",
    "add_output_flags",
    "add_param_flags",
    "add_run_flags",
    "collect_job",
    "domain_main",
    "grid_from_args",
    "main",
    "stop_on_signals",
    "sweep_command",
]

#: Entry-point group of the domain commands: ``name = "package.cli:register"``.
COMMAND_GROUP = "erasurelab.commands"

#: A handler returns an exit code, or a callable that runs the job (its exceptions are
#: crashes, exit 1) after everything was validated.
Handler = Callable[[argparse.Namespace], "int | Callable[[], int]"]


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """The argument parser of every ``erasurelab`` command: errors raise
    :class:`UsageError` (exit code 2) instead of exiting, so :func:`main` reports them."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        raise UsageError(f"{self.prog}: error: {message}")


class ListAction(argparse.Action):
    """A flag taking one or more values, each token a list: ``8 12 16``, ``8,12,16`` or
    ``START:STOP:COUNT`` (inclusive), all parsed by :func:`sim.parse_values`.  A token
    that is itself one of the flag's ``choices`` (``UR,UR``) is kept whole."""

    def __init__(self, option_strings, dest, nargs="+", choices=None, **kwargs):
        self.list_choices = tuple(choices) if choices is not None else None
        super().__init__(option_strings, dest, nargs=nargs, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from .params import parse_values

        out: list[Any] = []
        for token in values if isinstance(values, list) else [values]:
            if self.list_choices is not None and token in self.list_choices:
                out.append(token)
                continue
            try:
                out.extend(parse_values(token))
            except ValueError as exc:
                raise UsageError(f"{parser.prog}: error: {option_string}: {exc}") from None
        setattr(namespace, self.dest, out)


def add_run_flags(parser: argparse.ArgumentParser, *, max_shots: int | None = None,
                  shard: bool = True, required: bool = True) -> None:
    """The flags of every sweep: ``--max-shots --max-errors --seed --workers --shard
    --out --no-progress`` (``max_shots``: a default, else the flag is required;
    ``required=False``: the handler checks ``--max-shots``/``--out`` itself)."""
    g = parser.add_argument_group("running")
    g.add_argument("--max-shots", type=int, required=required and max_shots is None,
                   default=max_shots,
                   metavar="N", help="shots per task" + (
                       f" (default {max_shots})" if max_shots is not None else ""))
    g.add_argument("--max-errors", type=int, default=None, metavar="N",
                   help="stop a task once it has this many errors (default: no limit)")
    g.add_argument("--seed", type=int, default=None,
                   help="seed of the fixed chunks: the same counts at any worker count "
                        "(default: fresh entropy)")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes of the spawn pool; 1 runs in-process (default: CPUs)")
    if shard:
        g.add_argument("--shard", default=None, metavar="K/N",
                       help="run only slice K of N of every task (a batch-array job); "
                            "`erasurelab combine` merges the N files")
    add_output_flags(g, "sinter CSV result file (appended to; a rerun resumes)",
                     required=required)


def add_output_flags(parser: Any, what: str, *, required: bool = True) -> None:
    """``--out`` (``what`` is its help) and ``--no-progress``, as every job has them."""
    parser.add_argument("--out", required=required, metavar="FILE.csv", help=what)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def domain_main(name: str) -> Callable[[Sequence[str] | None], int]:
    """``erasurelab NAME ARGS`` as a function of ``ARGS`` (a domain's ``main``)."""

    def run(argv: Sequence[str] | None = None) -> int:
        return main([name, *(sys.argv[1:] if argv is None else argv)])

    run.__doc__ = f"Run ``erasurelab {name} ARGS``; returns the exit code."
    return run


def add_param_flags(parser: argparse.ArgumentParser, params: type) -> None:
    """One flag per declared parameter of ``params`` (a :class:`sim.TaskParams` class):
    ``--p-erasure`` for ``p_erasure``, a list of values, help from the declaration."""
    g = parser.add_argument_group("task parameters (each takes a list; the sweep is the "
                                  "product)")
    for spec in params.cli_specs():
        g.add_argument(spec.flag, dest=spec.name, action=ListAction, choices=spec.choices,
                       default=None, required=spec.required and not params.is_family(),
                       metavar="VALUE",
                       help=spec.describe())


def grid_from_args(args: argparse.Namespace, params: type) -> list[dict[str, Any]]:
    """The task grid of a generated sweep command: the product of the given flags.

    Parameters left out take their declared defaults.  When the grid spans several
    models of a family (``--model clique willshaw``), each task keeps only the
    parameters its model declares.
    """
    from .params import product

    grid = {s.name: getattr(args, s.name) for s in params.cli_specs()
            if getattr(args, s.name, None) is not None}
    rows = product(grid) if grid else [{}]
    targets = {params.resolve(r) for r in rows}
    if len(targets) > 1:
        rows = [{k: v for k, v in r.items() if k in {s.name for s in params.resolve(r).specs()}}
                for r in rows]
    return rows


def collect_job(args: argparse.Namespace, tasks: list[Any],
                report: Callable[[argparse.Namespace, list], None] | None = None
                ) -> Callable[[], int]:
    """Validate a sweep completely (tasks, run flags, the result file) and return the
    job that runs it: :func:`sim.collect` into ``args.out``, then one line per task."""
    from .collect import prepare_collect
    from .csvio import check_result_path
    from .params import parse_shard

    check_result_path("--out", args.out, "sinter")  # before any task is built or file touched
    shard = parse_shard(args.shard) if getattr(args, "shard", None) else None
    run = prepare_collect(tasks, max_shots=args.max_shots, max_errors=args.max_errors,
                          seed=args.seed, workers=args.workers, shard=shard,
                          save_resume_filepath=args.out,
                          progress=False if args.no_progress else None)

    def job() -> int:
        with stop_on_signals(run.stop) as signals:
            stats = run()
        if run.stopped:
            done = sum(s.shots for s in stats)
            print(f"erasurelab: stopped by {signal.Signals(signals[0]).name}; {done} shots "
                  f"are in {args.out} (every completed chunk); a rerun resumes exactly",
                  file=sys.stderr)
            return 128 + signals[0]
        _print_stats(stats)
        if report is not None:
            report(args, stats)
        return 0

    return job


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[list[int]]:
    """While the block runs, SIGINT (Ctrl-C) and SIGTERM call ``stop()`` (a graceful
    stop: what was committed is written); a second signal interrupts at once
    (``KeyboardInterrupt``).  Yields the list of signal numbers received.  Outside the
    main thread no handler is installed."""
    hits: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield hits
        return

    def handler(signum, frame):
        hits.append(signum)
        if len(hits) > 1:
            raise KeyboardInterrupt
        stop()

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield hits
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _print_stats(stats: list) -> None:
    varying = sorted({k for a, b in itertools.combinations(stats, 2)
                      for k in set(a.json_metadata) | set(b.json_metadata)
                      if a.json_metadata.get(k) != b.json_metadata.get(k)})
    for s in stats:
        m = s.json_metadata
        label = " ".join(f"{k}={m.get(k)}" for k in varying) if varying else str(m)
        rate = s.errors / (s.shots - s.discards) if s.shots > s.discards else float("nan")
        print(f"{s.decoder} {label}: {s.errors}/{s.shots} = {rate:.4g}")


def sweep_command(sub: Any, name: str, params: type, *, help: str,
                  description: str | None = None, max_shots: int | None = None,
                  extra: Callable[[argparse.ArgumentParser], None] | None = None,
                  report: Callable[[argparse.Namespace, list], None] | None = None
                  ) -> argparse.ArgumentParser:
    """Add a sweep command generated from declared parameters ``params`` to ``sub``
    (the result of ``add_subparsers``): a flag per parameter, the run flags, and a
    handler that builds the grid, validates every task and runs :func:`sim.collect`.

    ``extra(parser)`` adds command-specific flags; ``report(args, stats)`` prints more
    after the sweep (e.g. threshold fits).
    """
    p = sub.add_parser(name, help=help, description=description or help)
    add_param_flags(p, params)
    add_run_flags(p, max_shots=max_shots)
    if extra is not None:
        extra(p)

    def handler(args: argparse.Namespace) -> Callable[[], int]:
        tasks = [(params.family, row) for row in grid_from_args(args, params)]
        return collect_job(args, tasks, report)

    p.set_defaults(handler=handler)
    return p


# ----- domain commands (entry points) --------------------------------------------------
def _commands() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}


def _doc_line(module: str) -> str:
    """First docstring line of ``module`` without importing it (keeps ``--help`` fast)."""
    top, _, rest = module.partition(".")
    try:
        spec = importlib.util.find_spec(top)
        base = Path(next(iter(spec.submodule_search_locations)))
        path = base.joinpath(*rest.split(".")).with_suffix(".py") if rest else base / "__init__.py"
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""
    except (AttributeError, OSError, SyntaxError, StopIteration, TypeError, ValueError):
        return ""


def _parser(domain: str | None = None) -> argparse.ArgumentParser:
    from . import __version__

    p = Parser(
        prog="erasurelab",
        description="Simulation and theory of erasure: FBQC thresholds, Hebbian memories, "
        "machine unlearning. Every sweep writes sinter CSV.",
    )
    p.add_argument("--version", action="version", version=f"erasurelab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    c = sub.add_parser("collect", help="run a parameter sweep of a sampler into sinter CSV",
                       description="Run the product of the --param grids of one sampler "
                       "into sinter CSV (see --list-params for a sampler's parameters).")
    c.add_argument("--sampler", required=True, help="registered name or module:Class")
    c.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="NAME=V1,V2,... or NAME=START:STOP:COUNT (inclusive); repeat for a product",
    )
    c.add_argument("--list-params", action="store_true",
                   help="print the sampler's declared parameters and exit")
    add_run_flags(c, required=False)  # (not needed with --list-params)

    from .analysis_cli import add_parsers

    add_parsers(sub)  # plot, threshold

    cb = sub.add_parser("combine", help="merge rows of CSV files by task (as sinter combine)")
    cb.add_argument("files", nargs="+", help="sinter CSV files")
    cb.add_argument("--order", choices=("metadata", "preserve", "error"), default="metadata",
                    help="row order, as sinter combine (default: sorted by metadata)")

    for name, ep in _commands().items():
        d = sub.add_parser(name, help=_doc_line(ep.module) or f"{name} commands")
        d.set_defaults(domain_parser=d)
        if name == domain:
            d.description = _doc_line(ep.module)
            ep.load()(d)
    return p


def _cmd_collect(a: argparse.Namespace) -> int | Callable[[], int]:
    from .params import parse_param, product

    if a.list_params:
        return _list_params(a.sampler)
    missing = [f for f, v in (("--max-shots", a.max_shots), ("--out", a.out)) if v is None]
    if missing:
        raise UsageError(f"erasurelab collect: error: the following arguments are required: "
                         f"{', '.join(missing)}")
    grid = {}
    for text in a.param:
        name, values = parse_param(text)
        if name in grid:
            raise ValueError(f"--param: {name!r} given twice")
        grid[name] = values
    rows = product(grid) if grid else [{}]
    return collect_job(a, [(a.sampler, params) for params in rows])


def _list_params(sampler: str) -> int:
    from .sampler import resolve_sampler

    inst = resolve_sampler(sampler)
    declared = getattr(inst, "params", None)
    if declared is None:
        raise ValueError(f"--list-params: sampler {sampler!r} declares no parameters")
    for spec in declared.cli_specs():
        print(f"{spec.name}: {spec.describe()}")
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
    """Run the ``erasurelab`` command; returns the exit code.

    0 on success, 2 for input rejected before anything runs (nothing written), 1 for a
    failure while running (with its traceback).

    Examples
    --------
    >>> main(["collect", "--sampler", "nope", "--max-shots", "10", "--out", "never.csv"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = _parser(argv[0] if argv else None)
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "passthrough", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.extra_args = extra  # a pass-through verb gets the rest of the line
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    from .analysis_cli import HANDLERS

    handler = getattr(args, "handler", None) or {
        "collect": _cmd_collect,
        "combine": _cmd_combine,
        **HANDLERS,
    }.get(args.command)
    if handler is None:  # a domain without its verb
        d = args.domain_parser
        print(f"{d.format_usage().rstrip()}\n{d.prog}: error: a subcommand is required "
              f"(see {d.prog} --help)", file=sys.stderr)
        return 2
    command = " ".join(["erasurelab", args.command, *([args.verb] if getattr(
        args, "verb", None) else [])])
    try:
        job = handler(args)
    except (UsageError, ValueError, TypeError, FileNotFoundError) as exc:
        text = str(exc)
        prefix = "" if text.startswith("erasurelab") else f"erasurelab {args.command}: error: "
        print(prefix + text, file=sys.stderr)
        return 2
    except ImportError as exc:
        return _missing_extra(exc, command)
    if not callable(job):
        return int(job or 0)
    from .csvio import ResultFileError

    terms: list[int] = []

    def on_term(signum, frame):  # SIGTERM as Ctrl-C: the job's cleanup runs
        terms.append(signum)
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if main_thread else None
    try:
        return int(job() or 0)
    except KeyboardInterrupt:  # completed rows are already in the file
        sig = signal.Signals(terms[0] if terms else signal.SIGINT)
        print(f"erasurelab {args.command}: stopped by {sig.name}; completed rows are kept "
              "and a rerun resumes", file=sys.stderr)
        return 128 + sig
    except ResultFileError as exc:  # a result file refused when the job opened it
        print(f"erasurelab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # an optional dependency imported only when running
        return _missing_extra(exc, command)
    except Exception:  # noqa: BLE001 - a crash while running: report it as one
        traceback.print_exc()
        print(f"erasurelab {args.command}: crashed while running (a bug, not bad input; "
              "the traceback is above); completed rows are kept and a rerun resumes",
              file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _missing_extra(exc: ImportError, command: str) -> int:
    """A missing optional dependency: its one line and exit code 2; any other import
    error is a bug and propagates."""
    from .extras import missing_extra_message

    msg = missing_extra_message(exc, command)
    if msg is None:
        raise exc
    print(msg, file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
