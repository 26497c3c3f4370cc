"""The elements API against what ifcopenshell itself reads from the uploaded file."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.root
import ifcopenshell.util.classification
import ifcopenshell.util.element
import pytest

from ifc_processing.elements import select_elements
from sample_models.generate import write_building
from tests.factories import add_wall, tiny_model


@pytest.fixture(scope="module")
def building(api, tmp_path_factory) -> tuple[ifcopenshell.file, str]:
    """A generated two-storey building, uploaded and processed; ``(file, elements URL)``."""
    path = write_building(tmp_path_factory.mktemp("building") / "building.ifc", storeys=2, bays_x=2, bays_y=1)
    model = api.create_model("P-EAST", "building")
    revision = api.upload("P-EAST", model["id"], path).json()
    assert revision["processing"] == "succeeded", revision["failure_reason"]
    url = f"/api/projects/{api.node('P-EAST')}/revisions/{revision['id']}/elements"
    return ifcopenshell.open(str(path)), url


def ids(api, url: str, **params) -> list[str]:
    response = api.as_user("inspector", "GET", url, params={"page_size": 1000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [item["global_id"] for item in body["items"]]


def test_paging_walks_every_element_once_in_file_order(api, building) -> None:
    model, url = building
    expected = [e.GlobalId for e in select_elements(model)]
    seen, page = [], 1
    while True:
        body = api.as_user("site", "GET", url, params={"page": page, "page_size": 7}).json()
        assert body["total"] == len(expected) and body["page_size"] == 7
        seen += [item["global_id"] for item in body["items"]]
        if len(body["items"]) < 7:
            break
        page += 1
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))


def test_class_and_storey_filters(api, building) -> None:
    model, url = building
    elements = list(select_elements(model))
    wanted = {"IfcWall", "IfcColumn"}
    assert set(ids(api, url, ifc_class=sorted(wanted))) == {
        e.GlobalId for e in elements if e.is_a() in wanted
    }
    # IFC entity names are case-insensitive.
    assert ids(api, url, ifc_class=["ifcwall", "IFCCOLUMN"]) == ids(
        api, url, ifc_class=["IfcWall", "IfcColumn"]
    )
    storey = model.by_type("IfcBuildingStorey")[1]
    in_storey = {e.GlobalId for e in elements if _storey(e) == storey}
    assert in_storey
    assert set(ids(api, url, storey=storey.GlobalId)) == in_storey
    assert set(ids(api, url, storey=storey.Name)) == in_storey
    both = set(ids(api, url, storey=storey.Name, ifc_class="IfcWall"))
    assert both == {e.GlobalId for e in elements if _storey(e) == storey and e.is_a("IfcWall")}


def test_property_filters_match_ifcopenshell_values(api, building) -> None:
    model, url = building
    elements = list(select_elements(model))
    psets = {e.GlobalId: ifcopenshell.util.element.get_psets(e) for e in elements}

    def where(test) -> set[str]:
        return {gid for gid, sets in psets.items() if test(sets)}

    external = where(lambda s: s.get("Pset_WallCommon", {}).get("IsExternal") is True)
    assert external and set(ids(api, url, prop="Pset_WallCommon.IsExternal=true")) == external
    internal = where(lambda s: s.get("Pset_WallCommon", {}).get("IsExternal") is False)
    assert internal and set(ids(api, url, prop="Pset_WallCommon.IsExternal=false")) == internal

    # The numeric property with the most distinct values, split at its median.
    numeric: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for gid, sets in psets.items():
        for pset, props in sets.items():
            for name, value in props.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "id":
                    numeric[(pset, name)][gid] = value
    (pset, name), values = max(numeric.items(), key=lambda kv: len(set(kv[1].values())))
    median = sorted(values.values())[len(values) // 2]
    at_least = {gid for gid, value in values.items() if value >= median}
    assert 0 < len(at_least) < len(values)
    assert set(ids(api, url, prop=f"{pset}.{name}>={median!r}")) == at_least
    below = {gid for gid, value in values.items() if value < median}
    assert set(ids(api, url, prop=f"{pset}.{name}<{median!r}")) == below

    # Text properties, Chinese names, contains, and two conditions together.
    zone_a = where(lambda s: s.get("施工信息", {}).get("施工段") == "A区")
    assert zone_a and set(ids(api, url, prop="施工信息.施工段=A区")) == zone_a
    assert set(ids(api, url, prop="施工信息.施工段~a")) == zone_a
    both = zone_a & external
    assert set(ids(api, url, prop=["施工信息.施工段=A区", "Pset_WallCommon.IsExternal=true"])) == both


def test_classification_code_and_prefix(api, building) -> None:
    model, url = building
    codes = {
        e.GlobalId: {r.Identification for r in ifcopenshell.util.classification.get_references(e)}
        for e in select_elements(model)
    }
    code = sorted({c for cs in codes.values() for c in cs})[0]
    assert set(ids(api, url, classification=code)) == {g for g, cs in codes.items() if code in cs}
    prefix = code.split(".")[0]
    expected = {g for g, cs in codes.items() if any(c.startswith(prefix) for c in cs)}
    assert set(ids(api, url, classification=f"{prefix}*")) == expected
    assert ids(api, url, classification="99-99.99") == []


def test_text_search_over_name_id_type_and_class(api, building) -> None:
    model, url = building
    elements = list(select_elements(model))
    window = next(e for e in elements if e.is_a("IfcWindow"))
    needle = window.Name.split()[0].lower()

    def haystack(e) -> str:
        element_type = ifcopenshell.util.element.get_type(e)
        return " ".join(
            filter(None, (e.Name, e.GlobalId, element_type.Name if element_type else None, e.is_a()))
        ).lower()

    assert set(ids(api, url, q=needle.upper())) == {e.GlobalId for e in elements if needle in haystack(e)}
    assert ids(api, url, q=window.GlobalId) == [window.GlobalId]


def test_one_element_carries_all_its_properties(api, building) -> None:
    model, url = building
    wall = model.by_type("IfcWall")[0]
    response = api.as_user("inspector", "GET", f"{url}/{wall.GlobalId}")
    assert response.status_code == 200
    record = response.json()
    assert (record["global_id"], record["ifc_class"], record["name"]) == (wall.GlobalId, "IfcWall", wall.Name)
    by_name = {pset["name"]: pset["properties"] for pset in record["property_sets"]}
    for pset, props in ifcopenshell.util.element.get_psets(wall).items():
        for name, value in props.items():
            if name != "id":
                assert by_name[pset][name] == pytest.approx(value), (pset, name)
    assert [c["code"] for c in record["classifications"]] == [
        r.Identification for r in ifcopenshell.util.classification.get_references(wall)
    ]


def test_unknown_elements_and_bad_filters(api, building) -> None:
    _, url = building
    unknown = api.as_user("inspector", "GET", f"{url}/0000000000000000000000")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    for params in (
        {"prop": "no operator"},
        {"prop": "Qto.Length>=long"},
        {"page_size": 5000},
        {"page": 0},
    ):
        response = api.as_user("inspector", "GET", url, params=params)
        assert response.status_code == 422, params
        assert response.json()["error"] in ("invalid_input", "invalid_request")
    elsewhere = url.replace(f"/projects/{api.node('P-EAST')}/", f"/projects/{api.node('P-WEST')}/")
    assert api.as_user("admin", "GET", elsewhere).status_code == 404  # the revision is not WEST's


def test_identity_across_revisions_history_and_diff(api, tmp_path: Path) -> None:
    m = tiny_model(project_name="Diff")
    kept, renamed, removed = (add_wall(m, name, at_m=(0.0, 4.0 * i, 0.0)) for i, name in enumerate("ABC"))
    v1 = m.write(tmp_path / "v1.ifc")
    renamed.Name = "B-renamed"
    ifcopenshell.api.root.remove_product(m.file, product=removed)
    added = add_wall(m, "D", at_m=(8.0, 0.0, 0.0))
    v2 = m.write(tmp_path / "v2.ifc")

    model = api.create_model("P-EAST", "diff")
    first = api.upload("P-EAST", model["id"], v1).json()
    second = api.upload("P-EAST", model["id"], v2).json()
    base = f"/api/projects/{api.node('P-EAST')}"
    diff = api.as_user(
        "site", "GET", f"{base}/revisions/{second['id']}/diff", params={"against": first["id"]}
    )
    assert diff.status_code == 200, diff.text
    assert diff.json() == {
        "base_id": first["id"],
        "target_id": second["id"],
        "added": [added.GlobalId],
        "removed": [removed.GlobalId],
        "changed": {renamed.GlobalId: {"name": ["B", "B-renamed"]}},
        "unchanged": 1,
    }
    history = api.as_user("site", "GET", f"{base}/models/{model['id']}/elements/{renamed.GlobalId}/history")
    assert [(h["label"], h["changed"]) for h in history.json()] == [("P01", False), ("P02", True)]
    history = api.as_user("site", "GET", f"{base}/models/{model['id']}/elements/{kept.GlobalId}/history")
    assert [(h["label"], h["changed"]) for h in history.json()] == [("P01", False), ("P02", False)]
    gone = api.as_user("site", "GET", f"{base}/models/{model['id']}/elements/{'x' * 22}/history")
    assert gone.status_code == 404

    other = api.create_model("P-EAST", "diff-other")
    unrelated = api.upload("P-EAST", other["id"], _tiny(tmp_path)).json()
    across = api.as_user(
        "site", "GET", f"{base}/revisions/{unrelated['id']}/diff", params={"against": first["id"]}
    )
    assert across.status_code == 422


def _tiny(tmp_path: Path) -> Path:
    m = tiny_model(project_name="Other")
    add_wall(m, "Z")
    return m.write(tmp_path / "other.ifc")


def _storey(element):
    # Spaces are aggregated into their storey rather than contained in it.
    container = ifcopenshell.util.element.get_container(element) or ifcopenshell.util.element.get_aggregate(
        element
    )
    while container is not None and not container.is_a("IfcBuildingStorey"):
        container = ifcopenshell.util.element.get_aggregate(container)
    return container
