"""sim: the shared Monte Carlo engine of erasurelab, built on sinter's interfaces.

Every sampler is a :class:`sinter.Sampler` (through :class:`sim.Sampler`), every result
a sinter CSV row.  :func:`collect` adds seeded fixed chunks (identical counts at any
worker count), crash-safe resume, shards and any ``concurrent.futures`` executor;
:func:`threshold` fits finite-size scaling with bootstrap CIs (refusing to pool rows that
differ in a field besides x and size; :func:`thresholds` fits each group) and warns when
a fit is no threshold; :func:`plot` draws through ``sinter.plot_error_rate`` with one
curve per varying field; :func:`observable_stats` turns ``obs_mistake_mask`` counts into
per-observable rates; :func:`run_grid` runs metric experiments into tidy
CSV.

Examples
--------
>>> import sim
>>> stats = sim.collect([("repetition", {"n": 5, "p": 0.2})], max_shots=20_000, seed=3,
...                     workers=1)
>>> stats[0].shots, stats[0].decoder
(20000, 'repetition:majority')
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("erasurelab")
except PackageNotFoundError:  # pragma: no cover - a checkout that is not installed
    __version__ = "0+unknown"

from .collect import (
    Scheduler,
    collect,
    iter_collect,
    normalize_tasks,
    prepare_collect,
    sinter_decoders,
)
from .csvio import (
    CorruptCSVError,
    DuplicateChunkError,
    FileInUseError,
    ForeignFileError,
    ResultFileError,
    SeedMismatchError,
    append_rows,
    combine,
    read_stats,
)
from .declare import DeclaredSampler, ParamSpec, TaskParams, param, task_params
from .grid import format_summary, read_grid, run_grid, summarize_grid
from .observables import observable_counts, observable_names, observable_stats
from .params import parse_param, parse_shard, parse_values, product
from .plotting import plot, plot_collapse
from .result import SimulationResult
from .sampler import (
    PLACEHOLDER_CIRCUIT,
    ChunkContext,
    Sampler,
    canonical,
    canonical_json,
    make_task,
    register_sampler,
    resolve_sampler,
    sampler_path,
    seed_sequence,
)
from .selection import varying_fields
from .stats import binomial_ci, rate_ci
from .threshold import ThresholdResult, threshold, thresholds

__all__ = [
    "__version__",
    "PLACEHOLDER_CIRCUIT",
    "ChunkContext",
    "CorruptCSVError",
    "DeclaredSampler",
    "DuplicateChunkError",
    "FileInUseError",
    "ForeignFileError",
    "ParamSpec",
    "ResultFileError",
    "SeedMismatchError",
    "Sampler",
    "Scheduler",
    "SimulationResult",
    "ThresholdResult",
    "append_rows",
    "TaskParams",
    "binomial_ci",
    "canonical",
    "canonical_json",
    "collect",
    "combine",
    "iter_collect",
    "make_task",
    "normalize_tasks",
    "observable_counts",
    "observable_names",
    "observable_stats",
    "param",
    "prepare_collect",
    "parse_param",
    "parse_shard",
    "parse_values",
    "plot",
    "plot_collapse",
    "product",
    "rate_ci",
    "format_summary",
    "read_grid",
    "read_stats",
    "register_sampler",
    "resolve_sampler",
    "run_grid",
    "sampler_path",
    "seed_sequence",
    "sinter_decoders",
    "summarize_grid",
    "task_params",
    "threshold",
    "thresholds",
    "varying_fields",
]
