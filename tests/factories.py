"""Small IFC models built in code with ``ifcopenshell.api`` for targeted tests.

Whole buildings come from ``sample_models``; these are the minimal, odd or broken cases
that sample buildings should never contain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.classification
import ifcopenshell.api.context
import ifcopenshell.api.geometry
import ifcopenshell.api.material
import ifcopenshell.api.owner
import ifcopenshell.api.owner.settings
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.type
import ifcopenshell.api.unit
import numpy as np


@dataclass
class TinyModel:
    """A project with one site, building and storey, in metres."""

    file: ifcopenshell.file
    body: ifcopenshell.entity_instance
    storey: ifcopenshell.entity_instance

    def write(self, path: Path) -> Path:
        self.file.write(str(path))
        return path


def tiny_model(
    schema: str = "IFC4", *, storey_elevation_m: float = 0.0, project_name: str = "Tiny"
) -> TinyModel:
    f = ifcopenshell.api.project.create_file(version=schema)
    if schema == "IFC2X3":
        _add_owner(f)
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name=project_name)
    ifcopenshell.api.unit.assign_unit(f, length={"is_metric": True, "raw": "METERS"})
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=model
    )
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name="Building")
    storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name="1F")
    storey.Elevation = storey_elevation_m
    ifcopenshell.api.aggregate.assign_object(f, relating_object=project, products=[site])
    ifcopenshell.api.aggregate.assign_object(f, relating_object=site, products=[building])
    ifcopenshell.api.aggregate.assign_object(f, relating_object=building, products=[storey])
    return TinyModel(f, body, storey)


def _placed_element(
    m: TinyModel,
    ifc_class: str,
    name: str,
    *,
    at_m: tuple[float, float, float] = (0.0, 0.0, 0.0),
    representation: ifcopenshell.entity_instance | None = None,
) -> ifcopenshell.entity_instance:
    """A new element at ``at_m`` in the storey, with ``representation`` as its shape."""
    element = ifcopenshell.api.root.create_entity(m.file, ifc_class=ifc_class, name=name)
    matrix = np.eye(4)
    matrix[:3, 3] = at_m
    ifcopenshell.api.geometry.edit_object_placement(m.file, product=element, matrix=matrix)
    if representation is not None:
        ifcopenshell.api.geometry.assign_representation(
            m.file, product=element, representation=representation
        )
    ifcopenshell.api.spatial.assign_container(m.file, relating_structure=m.storey, products=[element])
    return element


def add_wall(
    m: TinyModel,
    name: str,
    *,
    at_m: tuple[float, float, float] = (0.0, 0.0, 0.0),
    length_m: float = 5.0,
    thickness_m: float = 0.2,
    height_m: float = 3.0,
    ifc_class: str = "IfcWall",
) -> ifcopenshell.entity_instance:
    rep = ifcopenshell.api.geometry.add_wall_representation(
        m.file, context=m.body, length=length_m, height=height_m, thickness=thickness_m
    )
    return _placed_element(m, ifc_class, name, at_m=at_m, representation=rep)


def add_item_element(
    m: TinyModel,
    name: str,
    item: ifcopenshell.entity_instance,
    representation_type: str,
    ifc_class: str = "IfcFurniture",
) -> ifcopenshell.entity_instance:
    """An element whose body is the given representation item, contained in the storey."""
    representation = m.file.createIfcShapeRepresentation(m.body, "Body", representation_type, [item])
    return _placed_element(m, ifc_class, name, representation=representation)


def add_sphere(m: TinyModel, name: str, radius_m: float = 1.0) -> ifcopenshell.entity_instance:
    """A CSG sphere: OpenCASCADE tessellates it, the plain CGAL kernel cannot."""
    origin = m.file.createIfcAxis2Placement3D(m.file.createIfcCartesianPoint((0.0, 0.0, 0.0)))
    return add_item_element(
        m, name, m.file.createIfcCsgSolid(m.file.createIfcSphere(origin, radius_m)), "CSG"
    )


def add_zero_radius_extrusion(m: TinyModel, name: str) -> ifcopenshell.entity_instance:
    """An extruded circle of radius 0: no kernel can make a solid of it."""
    profile = m.file.createIfcCircleProfileDef("AREA", None, None, 0.0)
    representation = ifcopenshell.api.geometry.add_profile_representation(
        m.file, context=m.body, profile=profile, depth=1.0
    )
    return _placed_element(m, "IfcColumn", name, representation=representation)


def add_typed_column(
    m: TinyModel,
    name: str,
    *,
    column_type: ifcopenshell.entity_instance | None = None,
    at_m: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> tuple[ifcopenshell.entity_instance, ifcopenshell.entity_instance]:
    """A column occurrence of a typed column (type psets, material and classification)."""
    f = m.file
    if column_type is None:
        column_type = ifcopenshell.api.root.create_entity(f, ifc_class="IfcColumnType", name="KZ-1 500x500")
        column_type.PredefinedType = "COLUMN"
        pset = ifcopenshell.api.pset.add_pset(f, product=column_type, name="Pset_ColumnCommon")
        ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={"Reference": "KZ-1", "LoadBearing": True})
        concrete = ifcopenshell.api.material.add_material(f, name="C30 混凝土", category="concrete")
        ifcopenshell.api.material.assign_material(f, products=[column_type], material=concrete)
        system = ifcopenshell.api.classification.add_classification(f, classification="GB/T 51269-2017")
        ifcopenshell.api.classification.add_reference(
            f, products=[column_type], classification=system, identification="14-10.20.10", name="混凝土柱"
        )
        profile = f.createIfcRectangleProfileDef("AREA", "500x500", None, 0.5, 0.5)
        representation = ifcopenshell.api.geometry.add_profile_representation(
            f, context=m.body, profile=profile, depth=3.0
        )
        ifcopenshell.api.geometry.assign_representation(f, product=column_type, representation=representation)
    column = _placed_element(m, "IfcColumn", name, at_m=at_m)
    ifcopenshell.api.type.assign_type(f, related_objects=[column], relating_type=column_type)
    return column, column_type


def _first(ifc_class: str):
    return lambda f: next(iter(f.by_type(ifc_class)), None)


def _add_owner(f: ifcopenshell.file) -> None:
    """IFC2X3 requires owner history on every rooted entity; ifcopenshell's api asks for
    the user and application through module-level hooks, here answered per file."""
    person = ifcopenshell.api.owner.add_person(f, identification="tester", family_name="Test", given_name="T")
    organisation = ifcopenshell.api.owner.add_organisation(f, identification="ERJI", name="Erji Twin")
    ifcopenshell.api.owner.add_person_and_organisation(f, person=person, organisation=organisation)
    ifcopenshell.api.owner.add_application(f)
    ifcopenshell.api.owner.settings.get_user = _first("IfcPersonAndOrganization")
    ifcopenshell.api.owner.settings.get_application = _first("IfcApplication")
