"""fbqc: fusion-based quantum computation — fusion networks, noise, decoders, thresholds.

>>> import fbqc
>>> r = fbqc.simulate("6ring", fbqc.HardwareAgnostic(0.02, 0.0), L=4, shots=100, seed=0)
>>> r.errors
0
"""

from sim import __version__

from .catalog import NETWORKS, get_description, register_network
from .decoders import (
    DECODERS,
    DecodingGraph,
    FusionBlossomDecoder,
    LocalMatchingDecoder,
    MatchingDecoder,
    UnionFindDecoder,
    decode,
    edge_weights,
    erasure_windings,
    make_decoder,
)
from .description import Fusion, FusionDescription, Instance, ResourceState
from .herald_decoders import ErasureDecoder, add_heralded_erasure, herald_graph
from .network import KINDS, MEMBRANE_NAMES, FusionNetwork, SyndromeGraph
from .noise import HardwareAgnostic
from .optics import LinearOptics, basis_pattern
from .params import FusionParams, OpticsParams
from .resources import fit_scaling, layer_counts, resource_table
from .simulate import SimulationResult, simulate
from .stim_backend import StimSimulator
from .stim_circuits import stim_circuit

__all__ = [
    "NETWORKS",
    "Fusion",
    "FusionDescription",
    "Instance",
    "ResourceState",
    "fit_scaling",
    "get_description",
    "layer_counts",
    "register_network",
    "resource_table",
    "__version__",
    "DECODERS",
    "DecodingGraph",
    "ErasureDecoder",
    "LinearOptics",
    "StimSimulator",
    "add_heralded_erasure",
    "basis_pattern",
    "herald_graph",
    "stim_circuit",
    "KINDS",
    "MEMBRANE_NAMES",
    "FusionNetwork",
    "FusionParams",
    "OpticsParams",
    "HardwareAgnostic",
    "FusionBlossomDecoder",
    "LocalMatchingDecoder",
    "MatchingDecoder",
    "SimulationResult",
    "SyndromeGraph",
    "UnionFindDecoder",
    "decode",
    "edge_weights",
    "erasure_windings",
    "make_decoder",
    "simulate",
]
