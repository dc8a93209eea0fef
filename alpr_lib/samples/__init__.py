"""Deterministic synthetic sample data around Milpitas, CA: cameras, reads, incidents, hotlists, roads.

Demo stores, notebooks, training exercises, tests and benchmarks all draw from this generator, so every
surface sees the same cameras and the same planted scenarios (answer key: :func:`planted_scenarios`).
"""

from alpr_lib.samples.generate import (
    OCR_ERROR_RATE,
    SampleData,
    generate_sample,
    iter_reads,
    planted_scenarios,
)
from alpr_lib.samples.milpitas import intersections, road_edges, roads_gdf
from alpr_lib.samples.population import cameras, population
from alpr_lib.samples.records import hotlists, incidents

__all__ = [
    "OCR_ERROR_RATE",
    "SampleData",
    "cameras",
    "generate_sample",
    "hotlists",
    "incidents",
    "intersections",
    "iter_reads",
    "planted_scenarios",
    "population",
    "road_edges",
    "roads_gdf",
]
