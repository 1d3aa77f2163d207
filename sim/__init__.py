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

from .collect import collect, normalize_tasks, sinter_decoders
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
from .grid import read_grid, run_grid, summarize_grid
from .observables import observable_counts, observable_names, observable_stats
from .params import parse_param, parse_shard, parse_values, product
from .plotting import plot, plot_collapse
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
    "PLACEHOLDER_CIRCUIT",
    "ChunkContext",
    "CorruptCSVError",
    "DuplicateChunkError",
    "FileInUseError",
    "ForeignFileError",
    "ResultFileError",
    "SeedMismatchError",
    "Sampler",
    "ThresholdResult",
    "append_rows",
    "binomial_ci",
    "canonical",
    "canonical_json",
    "collect",
    "combine",
    "make_task",
    "normalize_tasks",
    "observable_counts",
    "observable_names",
    "observable_stats",
    "parse_param",
    "parse_shard",
    "parse_values",
    "plot",
    "plot_collapse",
    "product",
    "rate_ci",
    "read_grid",
    "read_stats",
    "register_sampler",
    "resolve_sampler",
    "run_grid",
    "sampler_path",
    "seed_sequence",
    "sinter_decoders",
    "summarize_grid",
    "threshold",
    "thresholds",
    "varying_fields",
]
