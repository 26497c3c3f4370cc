"""IFC ingest: one IFC file in, element records and a browser-ready GLB out.

No database, no HTTP, and no ifcopenshell object crosses this package's border: callers
get the dataclasses of ``records`` keyed by ``global_id``. Start with ``process_model``.
"""

from .errors import (
    DuplicateGlobalIdError,
    EmptyModelError,
    EncodingError,
    IfcOpenError,
    IfcProcessingError,
    InvalidModelError,
    OutputError,
    UnsupportedSchemaError,
)
from .pipeline import OUTPUT_FILES, PIPELINE_VERSION, ProgressCallback, process_model, read_summary
from .reader import SUPPORTED_SCHEMAS
from .records import (
    Classification,
    ElementRecord,
    GeometryFailure,
    GeoReference,
    MapConversion,
    ModelSummary,
    ProjectedCRS,
    PropertySet,
    SiteReference,
    SpatialNode,
)

__all__ = [
    "OUTPUT_FILES",
    "PIPELINE_VERSION",
    "SUPPORTED_SCHEMAS",
    "Classification",
    "DuplicateGlobalIdError",
    "ElementRecord",
    "EmptyModelError",
    "EncodingError",
    "GeoReference",
    "GeometryFailure",
    "IfcOpenError",
    "IfcProcessingError",
    "InvalidModelError",
    "MapConversion",
    "ModelSummary",
    "OutputError",
    "ProgressCallback",
    "ProjectedCRS",
    "PropertySet",
    "SiteReference",
    "SpatialNode",
    "UnsupportedSchemaError",
    "process_model",
    "read_summary",
]
