"""Element records and spatial tree, checked against ifcopenshell's own answers."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.classification
import ifcopenshell.api.feature
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.unit
import ifcopenshell.guid
import ifcopenshell.util.classification
import ifcopenshell.util.element
import ifcopenshell.util.unit
import pytest

from ifc_processing import DuplicateGlobalIdError, EmptyModelError
from ifc_processing.elements import extract_model, select_elements
from ifc_processing.properties import unit_symbol
from ifc_processing.reader import open_model
from tests.conftest import corpus_ifc_files
from tests.factories import add_typed_column, add_wall, tiny_model

SUPPORTED_CORPUS = [p for p in corpus_ifc_files() if "RC2" not in p.name]


def _by_global_id(extracted) -> dict:
    return {r.global_id: r for r in extracted.elements}


def _expected_psets(element: ifcopenshell.entity_instance) -> dict:
    """ifcopenshell's merged psets, keyed as we key them (unnamed sets get a name)."""
    expected = {}
    for name, props in ifcopenshell.util.element.get_psets(element).items():
        definition = element.file.by_id(props["id"])
        key = name if name is not None else f"{definition.is_a()}#{definition.id()}"
        expected[key] = {k: v for k, v in props.items() if k != "id"}
    return expected


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "id"}
    return value


@pytest.mark.corpus
@pytest.mark.parametrize("path", SUPPORTED_CORPUS, ids=lambda p: p.name)
def test_records_agree_with_ifcopenshell(path: Path) -> None:
    with open_model(path) as loaded:
        model = loaded.file
        extracted = extract_model(model, path)
        expected_count = Counter(
            e.is_a() for e in model.by_type("IfcElement") if not e.is_a("IfcFeatureElementSubtraction")
        ) + Counter(e.is_a() for e in model.by_type("IfcSpace"))
        assert Counter(r.ifc_class for r in extracted.elements) == expected_count

        for record in extracted.elements:
            element = model.by_id(record.step_id)
            assert record.global_id == element.GlobalId
            element_type = ifcopenshell.util.element.get_type(element)
            assert record.type_global_id == (element_type.GlobalId if element_type else None)
            assert record.predefined_type == ifcopenshell.util.element.get_predefined_type(element)
            names = [m.Name for m in ifcopenshell.util.element.get_materials(element)]
            assert record.materials == [n for n in dict.fromkeys(names) if n]
            references = ifcopenshell.util.classification.get_references(element)
            assert len(record.classifications) == len(references)
            assert {s.name: _plain(s.properties) for s in record.property_sets} == _plain(
                _expected_psets(element)
            )
            for pset in record.property_sets:
                definitions = [d for d in _definitions_named(element, pset.name)]
                for definition in definitions:
                    members = (
                        definition.Quantities
                        if definition.is_a("IfcElementQuantity")
                        else getattr(definition, "HasProperties", None)
                    )
                    for member in members or ():
                        unit = ifcopenshell.util.unit.get_property_unit(member, model)
                        if unit is not None and member.Name in pset.properties:
                            assert pset.units.get(member.Name) == unit_symbol(unit), (pset.name, member.Name)


def _definitions_named(element, name):
    element_type = ifcopenshell.util.element.get_type(element)
    definitions = list(element_type.HasPropertySets or ()) if element_type is not None else []
    for rel in element.IsDefinedBy or ():
        if rel.is_a("IfcRelDefinesByProperties"):
            definitions.append(rel.RelatingPropertyDefinition)
    return [d for d in definitions if d.is_a("IfcPropertySetDefinition") and (d.Name or "") == (name or "")]


@pytest.mark.corpus
def test_spot_checks_fzk_haus(corpus: Path) -> None:
    path = corpus / "ifc" / "AC20-FZK-Haus.ifc"
    with open_model(path) as loaded:
        extracted = extract_model(loaded.file, path)
        storey_names = {s.global_id: s.name for s in extracted.storeys}
        records = _by_global_id(extracted)

        wall = records["2XPyKWY018sA1ygZKgQPtU"]
        assert (wall.ifc_class, wall.name) == ("IfcWallStandardCase", "Wand-Int-ERDG-4")
        assert wall.materials == ["Leichtbeton 102890359"]
        assert storey_names[wall.storey_global_id] == "Erdgeschoss"
        psets = {s.name: s for s in wall.property_sets}
        assert psets["Pset_WallCommon"].properties["ThermalTransmittance"] == 1.5
        assert psets["BaseQuantities"].kind == "qto"
        assert psets["BaseQuantities"].properties["Length"] == pytest.approx(4.17)
        assert psets["BaseQuantities"].units["Length"] == "m"

        window = records["1srAI$R4T8ihLXSNHmUSET"]
        assert window.ifc_class == "IfcWindow"
        window_psets = {s.name: s.properties for s in window.property_sets}
        assert window_psets["Pset_WindowCommon"]["ThermalTransmittance"] == 1.4
        # IFC4 predefined property set (IfcWindowPanelProperties): values from attributes.
        assert window_psets["Fenster Flügel-Sachmerkmale - Panel1"]["OperationType"] == "SIDEHUNGRIGHTHAND"

        assert [s.name for s in extracted.storeys] == ["Erdgeschoss", "Dachgeschoss"]
        assert [s.elevation_m for s in extracted.storeys] == pytest.approx([0.0, 2.7])


@pytest.mark.corpus
def test_spot_checks_duplex(corpus: Path) -> None:
    path = corpus / "ifc" / "Duplex_A_20110907.ifc"
    with open_model(path) as loaded:
        extracted = extract_model(loaded.file, path)
        storey_names = {s.global_id: s.name for s in extracted.storeys}
        records = _by_global_id(extracted)

        door = records["1hOSvn6df7F8_7GcBWlRGQ"]
        assert door.type_name == "1250mm x 2010mm"
        assert storey_names[door.storey_global_id] == "Level 1"
        common = next(s for s in door.property_sets if s.name == "Pset_DoorCommon")
        assert common.properties["IsExternal"] is True
        assert common.properties["Reference"] == "M_Single-Flush:1250mm x 2010mm"

        wall = records["2O2Fr$t4X7Zf8NOew3FNtn"]
        assert wall.materials == [
            "Masonry - Brick",
            "Misc. Air Layers - Air Space",
            "Insulation / Thermal Barriers - Rigid insulation",
            "Masonry - Concrete Block",
            "Metal - Stud Layer",
            "Plasterboard",
        ]

        space = records["0BTBFw6f90Nfh9rP1dlXr2"]
        assert space.is_space and space.name == "A102"
        # Spaces are aggregated into storeys, not contained: still placed on Level 1.
        assert storey_names[space.storey_global_id] == "Level 1"
        identity = next(s for s in space.property_sets if s.name == "PSet_Revit_Identity Data")
        assert identity.properties["Name"] == "Living Room"
        assert [s.name for s in extracted.storeys] == ["T/FDN", "Level 1", "Level 2", "Roof"]


def test_type_and_occurrence_properties_merge(tmp_path: Path) -> None:
    model = tiny_model()
    column, column_type = add_typed_column(model, "C1")
    pset = ifcopenshell.api.pset.add_pset(model.file, product=column, name="Pset_ColumnCommon")
    ifcopenshell.api.pset.edit_pset(
        model.file, pset=pset, properties={"Reference": "KZ-1a", "IsExternal": False}
    )
    qto = ifcopenshell.api.pset.add_qto(model.file, product=column, name="Qto_ColumnBaseQuantities")
    ifcopenshell.api.pset.edit_qto(model.file, qto=qto, properties={"Length": 3.0, "NetVolume": 0.75})
    add_typed_column(model, "C2", column_type=column_type, at_m=(6.0, 0.0, 0.0))
    path = model.write(tmp_path / "typed.ifc")

    with open_model(path) as loaded:
        records = {r.name: r for r in extract_model(loaded.file, path).elements}
    c1 = {s.name: s for s in records["C1"].property_sets}
    assert c1["Pset_ColumnCommon"].source == "type+occurrence"
    assert c1["Pset_ColumnCommon"].properties == {
        "Reference": "KZ-1a",
        "LoadBearing": True,
        "IsExternal": False,
    }
    assert c1["Qto_ColumnBaseQuantities"].units == {"Length": "m", "NetVolume": "m3"}
    c2 = {s.name: s for s in records["C2"].property_sets}
    assert c2["Pset_ColumnCommon"].source == "type"
    assert c2["Pset_ColumnCommon"].properties == {"Reference": "KZ-1", "LoadBearing": True}
    for record in records.values():
        assert record.type_name == "KZ-1 500x500"
        assert record.predefined_type == "COLUMN"
        assert record.materials == ["C30 混凝土"]
        assert [(c.system, c.code, c.name) for c in record.classifications] == [
            ("GB/T 51269-2017", "14-10.20.10", "混凝土柱")
        ]


def test_occurrence_classification_replaces_the_types_in_the_same_system(tmp_path: Path) -> None:
    model = tiny_model()
    column, _ = add_typed_column(model, "C1")
    system = model.file.by_type("IfcClassification")[0]
    ifcopenshell.api.classification.add_reference(
        model.file,
        products=[column],
        classification=system,
        identification="14-10.20.20",
        name="型钢混凝土柱",
    )
    other = ifcopenshell.api.classification.add_classification(model.file, classification="Uniclass")
    ifcopenshell.api.classification.add_reference(
        model.file, products=[column], classification=other, identification="Ss_20_05_15", name="Columns"
    )
    path = model.write(tmp_path / "classified.ifc")
    with open_model(path) as loaded:
        (record,) = extract_model(loaded.file, path).elements
    assert sorted((c.system, c.code) for c in record.classifications) == [
        ("GB/T 51269-2017", "14-10.20.20"),
        ("Uniclass", "Ss_20_05_15"),
    ]


def test_spatial_tree_in_millimetre_model(tmp_path: Path) -> None:
    model = tiny_model(storey_elevation_m=3600.0)
    ifcopenshell.api.unit.assign_unit(model.file, length={"is_metric": True, "raw": "MILLIMETERS"})
    add_wall(model, "W1")
    add_wall(model, "W2", at_m=(0.0, 5000.0, 0.0))
    path = model.write(tmp_path / "mm.ifc")
    with open_model(path) as loaded:
        extracted = extract_model(loaded.file, path)
    tree = extracted.spatial_tree
    assert tree.ifc_class == "IfcProject"
    site = tree.children[0]
    building = site.children[0]
    storey = building.children[0]
    assert (site.ifc_class, building.ifc_class, storey.ifc_class) == (
        "IfcSite",
        "IfcBuilding",
        "IfcBuildingStorey",
    )
    assert storey.elevation_m == pytest.approx(3.6)
    assert storey.element_count == 2
    assert all(r.storey_global_id == storey.global_id for r in extracted.elements)
    assert all(r.building_global_id == building.global_id for r in extracted.elements)


def test_empty_model_is_refused(tmp_path: Path) -> None:
    path = tiny_model().write(tmp_path / "empty.ifc")
    with open_model(path) as loaded, pytest.raises(EmptyModelError, match=r"^empty\.ifc: .*no IfcElement"):
        extract_model(loaded.file, path)


def test_duplicate_global_ids_are_refused(tmp_path: Path) -> None:
    model = tiny_model()
    first = add_wall(model, "W1")
    second = add_wall(model, "W2")
    second.GlobalId = first.GlobalId
    path = model.write(tmp_path / "dup.ifc")
    with open_model(path) as loaded, pytest.raises(DuplicateGlobalIdError, match=re.escape(first.GlobalId)):
        extract_model(loaded.file, path)


def test_openings_are_not_elements(tmp_path: Path) -> None:
    model = tiny_model()
    wall = add_wall(model, "W1")
    opening = ifcopenshell.api.root.create_entity(model.file, ifc_class="IfcOpeningElement", name="O1")
    ifcopenshell.api.feature.add_feature(model.file, feature=opening, element=wall)
    path = model.write(tmp_path / "opening.ifc")
    with open_model(path) as loaded:
        assert [e.Name for e in select_elements(loaded.file)] == ["W1"]


def test_ifc2x3_classification_notation(tmp_path: Path) -> None:
    model = tiny_model(schema="IFC2X3")
    wall = add_wall(model, "W1", ifc_class="IfcWallStandardCase")
    f = model.file
    notation = f.createIfcClassificationNotation(
        [f.createIfcClassificationNotationFacet("30"), f.createIfcClassificationNotationFacet("10.20")]
    )
    f.createIfcRelAssociatesClassification(
        ifcopenshell.guid.new(), f.by_type("IfcOwnerHistory")[0], None, None, [wall], notation
    )
    path = model.write(tmp_path / "notation.ifc")
    with open_model(path) as loaded:
        (record,) = extract_model(loaded.file, path).elements
    assert [(c.system, c.code) for c in record.classifications] == [(None, "30.10.20")]
