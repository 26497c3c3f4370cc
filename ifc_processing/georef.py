"""Read a model's georeferencing data as raw numbers (map math lives in ``geodata``).

Sources, best first:

1. IfcMapConversion + IfcProjectedCRS on the model's representation context (IFC4 and
   later); in IFC2X3 the same values as ePSet_MapConversion / ePSet_ProjectedCRS on the
   IfcProject (buildingSMART "User Guide for Geo-referencing in IFC").
2. IfcSite RefLatitude / RefLongitude / RefElevation.
"""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.unit

from .properties import unit_symbol
from .records import GeoReference, MapConversion, ProjectedCRS, SiteReference

__all__ = ["extract_georef"]


def extract_georef(model: ifcopenshell.file) -> GeoReference:
    """Collect the georeferencing values of ``model`` without interpreting them.

    Example::

        with open_model("site.ifc") as loaded:
            georef = extract_georef(loaded.file)
            if georef.source == "map_conversion":
                print(georef.projected_crs.name, georef.map_conversion.eastings)
    """
    if model.schema == "IFC2X3":
        conversion, crs = _ifc2x3_map_conversion(model)
    else:
        conversion, crs = _map_conversion(model)
    site = _site_reference(model)
    if conversion is not None:
        source = "map_conversion"
    elif site is not None and site.ref_latitude is not None and site.ref_longitude is not None:
        source = "site_reference"
    else:
        source = "none"
    return GeoReference(
        source=source,
        map_conversion=conversion,
        projected_crs=crs,
        site=site,
        true_north_xy=_true_north(model),
        project_length_unit_m=ifcopenshell.util.unit.calculate_unit_scale(model),
    )


def _map_conversion(model: ifcopenshell.file) -> tuple[MapConversion | None, ProjectedCRS | None]:
    for context in model.by_type("IfcGeometricRepresentationContext", include_subtypes=False):
        for operation in getattr(context, "HasCoordinateOperation", None) or ():
            if not operation.is_a("IfcMapConversion"):
                continue
            conversion = MapConversion(
                eastings=float(operation.Eastings),
                northings=float(operation.Northings),
                orthogonal_height=float(operation.OrthogonalHeight),
                x_axis_abscissa=_float(operation.XAxisAbscissa),
                x_axis_ordinate=_float(operation.XAxisOrdinate),
                scale=_float(operation.Scale),
                factor_x=_float(getattr(operation, "FactorX", None)),
                factor_y=_float(getattr(operation, "FactorY", None)),
                factor_z=_float(getattr(operation, "FactorZ", None)),
            )
            return conversion, _projected_crs(operation.TargetCRS)
    return None, None


def _projected_crs(crs: ifcopenshell.entity_instance | None) -> ProjectedCRS | None:
    if crs is None:
        return None
    unit = getattr(crs, "MapUnit", None)
    return ProjectedCRS(
        name=crs.Name,
        description=getattr(crs, "Description", None),
        geodetic_datum=getattr(crs, "GeodeticDatum", None),
        vertical_datum=getattr(crs, "VerticalDatum", None),
        map_projection=getattr(crs, "MapProjection", None),
        map_zone=getattr(crs, "MapZone", None),
        map_unit=unit_symbol(unit) if unit is not None else None,
        map_unit_scale_m=ifcopenshell.util.unit.get_unit_scale(unit) if unit is not None else None,
    )


def _ifc2x3_map_conversion(model: ifcopenshell.file) -> tuple[MapConversion | None, ProjectedCRS | None]:
    projects = model.by_type("IfcProject")
    if not projects:
        return None, None
    values = ifcopenshell.util.element.get_pset(projects[0], "ePSet_MapConversion") or {}
    if values.get("Eastings") is None and values.get("Northings") is None:
        return None, None
    conversion = MapConversion(
        eastings=float(values.get("Eastings") or 0.0),
        northings=float(values.get("Northings") or 0.0),
        orthogonal_height=float(values.get("OrthogonalHeight") or 0.0),
        x_axis_abscissa=_float(values.get("XAxisAbscissa")),
        x_axis_ordinate=_float(values.get("XAxisOrdinate")),
        scale=_float(values.get("Scale")),
    )
    crs_values = ifcopenshell.util.element.get_pset(projects[0], "ePSet_ProjectedCRS") or {}
    crs = None
    if crs_values:
        crs = ProjectedCRS(
            name=crs_values.get("Name"),
            description=crs_values.get("Description"),
            geodetic_datum=crs_values.get("GeodeticDatum"),
            vertical_datum=crs_values.get("VerticalDatum"),
            map_projection=crs_values.get("MapProjection"),
            map_zone=crs_values.get("MapZone"),
            map_unit=crs_values.get("MapUnit"),
            map_unit_scale_m=None,
        )
    return conversion, crs


def _site_reference(model: ifcopenshell.file) -> SiteReference | None:
    sites = model.by_type("IfcSite")
    if not sites:
        return None
    # Prefer a site that actually carries a location; federated files may hold several.
    site = next((s for s in sites if s.RefLatitude and s.RefLongitude), sites[0])
    return SiteReference(
        site_global_id=site.GlobalId,
        ref_latitude=tuple(site.RefLatitude) if site.RefLatitude else None,
        ref_longitude=tuple(site.RefLongitude) if site.RefLongitude else None,
        ref_elevation=_float(site.RefElevation),
    )


def _true_north(model: ifcopenshell.file) -> tuple[float, float] | None:
    for context in model.by_type("IfcGeometricRepresentationContext", include_subtypes=False):
        if context.ContextType in ("Model", None) and context.TrueNorth is not None:
            ratios = context.TrueNorth.DirectionRatios
            return float(ratios[0]), float(ratios[1])
    return None


def _float(value: object) -> float | None:
    return None if value is None else float(value)
