"""Deterministic sample IFC models for tests and benchmarks (see sample_models.generate)."""

from sample_models.generate import (
    MAX_ELEMENTS,
    MIN_ELEMENTS,
    SCHEMAS,
    element_count,
    expected_counts,
    generate_building,
    iter_physical_elements,
    layout_for_element_count,
    normalise_schema,
    write_building,
)

__all__ = [
    "MAX_ELEMENTS",
    "MIN_ELEMENTS",
    "SCHEMAS",
    "element_count",
    "expected_counts",
    "generate_building",
    "iter_physical_elements",
    "layout_for_element_count",
    "normalise_schema",
    "write_building",
]
