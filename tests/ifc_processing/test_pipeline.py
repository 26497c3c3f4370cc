"""``process_model`` end to end, on every corpus file and on bad input."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import ifcopenshell
import ifcopenshell.geom
import numpy as np
import orjson
import pytest

from ifc_processing import (
    OUTPUT_FILES,
    IfcProcessingError,
    OutputError,
    process_model,
    read_summary,
)
from ifc_processing.elements import select_elements
from ifc_processing.geometry import DEFAULT_KERNELS, expects_geometry, iterator_settings
from tests.conftest import CORPUS, corpus_ifc_files, run_node_tool
from tests.factories import add_wall, add_zero_radius_extrusion, tiny_model

SUPPORTED_CORPUS = [p for p in corpus_ifc_files() if "RC2" not in p.name]
MALFORMED = sorted((CORPUS / "malformed").glob("*.ifc")) if (CORPUS / "malformed").is_dir() else []


def iterator_triangles(path: Path) -> dict[str, int]:
    """Triangles per GlobalId straight from ifcopenshell's iterator: the first kernel, and
    the next kernel for elements the first left empty (the pipeline's documented retry)."""
    model = ifcopenshell.open(str(path))
    pending = [e for e in select_elements(model) if expects_geometry(e)]
    counts: dict[str, int] = {}
    for kernel in DEFAULT_KERNELS:
        if not pending:
            break
        iterator = ifcopenshell.geom.iterator(
            iterator_settings(), model, 2, geometry_library=kernel, include=pending
        )
        if iterator.initialize():
            while True:
                shape = iterator.get()
                triangles = len(shape.geometry.faces_buffer) // 12
                if triangles:
                    counts[model.by_id(shape.id).GlobalId] = triangles
                if not iterator.next():
                    break
        pending = [e for e in pending if e.GlobalId not in counts]
    return counts


@pytest.mark.corpus
@pytest.mark.parametrize("path", SUPPORTED_CORPUS, ids=lambda p: p.name)
def test_corpus_model_end_to_end(path: Path, processed, node_tools: Path) -> None:
    out, summary = processed.get(path)
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)

    # Element counts are ifcopenshell's own by_type counts.
    model = ifcopenshell.open(str(path))
    expected = Counter(e.is_a() for e in select_elements(model))
    assert summary.counts_by_class == dict(expected)
    assert summary.element_count == sum(expected.values())
    records = [orjson.loads(line) for line in (out / "elements.jsonl").read_bytes().splitlines()]
    assert len(records) == summary.element_count

    # Every GLB row resolves to a GlobalId of the IFC with the same class, and back.
    decoded = run_node_tool(node_tools, "inspect-glb", out / "model.glb")
    rows = decoded["global_ids"]
    assert len(rows) == len(set(rows)) == summary.elements_with_geometry
    for record in records:
        if record["glb_index"] is not None:
            assert rows[record["glb_index"]] == record["global_id"]
    by_guid = {r["global_id"]: r for r in records}
    for global_id in rows:
        assert model.by_guid(global_id).is_a() == by_guid[global_id]["ifc_class"]

    # Triangles per element are exactly what the iterator produced.
    oracle = iterator_triangles(path)
    assert dict(zip(rows, decoded["triangles"], strict=True)) == oracle
    assert summary.triangles == sum(oracle.values())

    failures = json.loads((out / "failures.json").read_text())
    assert len(failures) == summary.geometry_failures
    expected_geometry = {e.GlobalId for e in select_elements(model) if expects_geometry(e)}
    assert {f["global_id"] for f in failures} == expected_geometry - set(oracle)
    assert all(f["reason"] and f["ifc_class"] == model.by_guid(f["global_id"]).is_a() for f in failures)

    validation = run_node_tool(node_tools, "validate-glb", out / "model.glb")
    assert validation["errors"] == 0, validation["messages"]
    assert summary.max_position_error_m <= 0.0005

    spatial = json.loads((out / "spatial.json").read_text())
    assert spatial["ifc_class"] == "IfcProject"
    georef = json.loads((out / "georef.json").read_text())
    assert georef["source"] in ("map_conversion", "site_reference", "none")
    assert read_summary(out)["element_count"] == summary.element_count


@pytest.mark.corpus
def test_georeference_values_are_the_files_own(corpus: Path, processed) -> None:
    out, summary = processed.get(corpus / "ifc" / "geolocation-mapconversion.ifc")
    georef = json.loads((out / "georef.json").read_text())
    model = ifcopenshell.open(str(corpus / "ifc" / "geolocation-mapconversion.ifc"))
    conversion = model.by_type("IfcMapConversion")[0]
    assert summary.georef_source == georef["source"] == "map_conversion"
    assert georef["map_conversion"]["eastings"] == conversion.Eastings
    assert georef["map_conversion"]["northings"] == conversion.Northings
    assert georef["map_conversion"]["orthogonal_height"] == conversion.OrthogonalHeight
    assert georef["projected_crs"]["name"] == conversion.TargetCRS.Name

    out, _ = processed.get(corpus / "ifc" / "Duplex_A_20110907.ifc")
    georef = json.loads((out / "georef.json").read_text())
    assert georef["source"] == "site_reference"
    assert georef["site"]["ref_latitude"] == [41, 52, 27, 840000]
    assert georef["map_conversion"] is None


@pytest.mark.corpus
@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_malformed_corpus_files_fail_cleanly(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(IfcProcessingError) as caught:
        process_model(path, out)
    assert str(caught.value).startswith(f"{path.name}: ")
    assert "\n" not in str(caught.value)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind


def _small_model(tmp_path: Path, name: str = "small.ifc") -> Path:
    model = tiny_model()
    add_wall(model, "W1")
    add_wall(model, "W2", at_m=(0.0, 4.0, 0.0))
    return model.write(tmp_path / name)


def test_progress_reports_every_stage_in_order(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    process_model(_small_model(tmp_path), tmp_path / "out", on_progress=lambda *a: calls.append(a))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["open", "elements", "geometry", "glb", "write"]
    for stage in stages:
        done = [d for s, d, _ in calls if s == stage]
        totals = {t for s, _, t in calls if s == stage}
        assert done == sorted(done) and done[-1] == max(totals)


def test_rerun_replaces_an_earlier_result(tmp_path: Path) -> None:
    source = _small_model(tmp_path)
    out = tmp_path / "out"
    first = process_model(source, out)
    (out / "stale.txt").write_text("from an older run")
    second = process_model(source, out)
    assert not (out / "stale.txt").exists()
    assert second.source_sha256 == first.source_sha256
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)


def test_failed_run_leaves_an_earlier_result_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process_model(_small_model(tmp_path), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = tmp_path / "broken.ifc"
    broken.write_bytes(b"ISO-10303-21;\nHEADER;\n")
    with pytest.raises(IfcProcessingError, match="truncated"):
        process_model(broken, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.ifc", "out", "small.ifc"]


def test_refuses_to_overwrite_a_folder_that_is_not_a_result(tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(OutputError, match="not empty"):
        process_model(_small_model(tmp_path), out)
    assert (out / "thesis.docx").read_text() == "precious"


def test_records_link_to_the_glb_and_the_spatial_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = process_model(_small_model(tmp_path), out)
    records = [orjson.loads(line) for line in (out / "elements.jsonl").read_bytes().splitlines()]
    assert sorted(r["glb_index"] for r in records) == [0, 1]
    assert all(r["has_geometry"] for r in records)
    spatial = json.loads((out / "spatial.json").read_text())
    storey = spatial["children"][0]["children"][0]["children"][0]
    assert storey["element_count"] == 2
    assert {r["storey_global_id"] for r in records} == {storey["global_id"]}
    assert summary.storey_count == 1
    assert np.allclose(summary.bbox_min_m, [0.0, 0.0, 0.0], atol=1e-6)  # walls extrude from their axis
    assert np.allclose(summary.bbox_max_m, [5.0, 4.2, 3.0], atol=1e-6)


@pytest.mark.parametrize("schema", ["IFC2X3", "IFC4", "IFC4X3"])
def test_schemas(tmp_path: Path, schema: str) -> None:
    model = tiny_model(schema="IFC4X3_ADD2" if schema == "IFC4X3" else schema)
    add_wall(model, "W1", ifc_class="IfcWallStandardCase" if schema == "IFC2X3" else "IfcWall")
    path = model.write(tmp_path / f"{schema}.ifc")
    summary = process_model(path, tmp_path / "out")
    assert summary.schema.startswith(schema)
    assert summary.elements_with_geometry == 1


def test_unwritable_output_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        process_model(_small_model(tmp_path), blocker / "out")


def test_copying_a_result_folder_keeps_it_recognisable(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process_model(_small_model(tmp_path), out)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    process_model(_small_model(tmp_path, "again.ifc"), copy)  # replaced, not refused
    assert read_summary(copy)["source_file"] == "again.ifc"


def test_a_model_without_any_geometry_still_gives_a_valid_glb(tmp_path: Path, node_tools: Path) -> None:
    model = tiny_model()
    add_zero_radius_extrusion(model, "C1")
    add_zero_radius_extrusion(model, "C2")
    summary = process_model(model.write(tmp_path / "nothing.ifc"), tmp_path / "out")
    assert (summary.element_count, summary.elements_with_geometry, summary.geometry_failures) == (2, 0, 2)
    validation = run_node_tool(node_tools, "validate-glb", tmp_path / "out" / "model.glb")
    assert validation["errors"] == 0, validation["messages"]


def test_an_error_while_workers_run_leaves_no_process_behind(tmp_path: Path) -> None:
    import multiprocessing

    def cancel(stage: str, done: int, total: int) -> None:
        if stage == "elements":
            raise RuntimeError("cancelled by the caller")

    with pytest.raises(RuntimeError, match="cancelled"):
        process_model(_small_model(tmp_path), tmp_path / "out", on_progress=cancel, workers=2)
    assert multiprocessing.active_children() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.ifc"]


def test_a_failing_write_is_an_output_error(tmp_path: Path, monkeypatch) -> None:
    import errno

    import ifc_processing.pipeline as pipeline

    def disk_full(path, records):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline, "_write_jsonl", disk_full)
    with pytest.raises(OutputError, match="No space left on device"):
        process_model(_small_model(tmp_path), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.ifc"]


def test_a_failed_publish_puts_the_earlier_result_back(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    process_model(_small_model(tmp_path), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_rename = Path.rename

    def rename(self, target):
        if self.name.startswith(".out.staging-"):
            raise OSError(13, "Permission denied")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OutputError, match="cannot move the result"):
        process_model(_small_model(tmp_path, "again.ifc"), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
