"""Tessellation: retries, failure log, placements and colours."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.api.geometry
import ifcopenshell.api.root
import ifcopenshell.api.style
import ifcopenshell.geom
import numpy as np
import pytest

from ifc_processing.elements import select_elements
from ifc_processing.geometry import DEFAULT_KERNELS, Tessellation, expects_geometry, iterator_settings
from ifc_processing.reader import open_model
from tests.factories import add_sphere, add_wall, add_zero_radius_extrusion, tiny_model


def test_element_failing_first_kernel_is_retried_with_the_next(tmp_path: Path) -> None:
    model = tiny_model()
    add_wall(model, "W1")
    sphere = add_sphere(model, "S1")
    path = model.write(tmp_path / "sphere.ifc")
    with open_model(path) as loaded:
        result = Tessellation(
            loaded.file, select_elements(loaded.file), kernels=("cgal-simple", "opencascade")
        ).finish()
    assert result.failures == []
    assert result.retried == 1
    placed = {p.step_id: p for p in result.placed}
    assert sphere.id() in placed
    assert placed[sphere.id()].shape_key.startswith("opencascade:")
    assert len(result.shapes[placed[sphere.id()].shape_key].triangles) > 100


def test_what_no_kernel_can_do_is_logged_and_the_rest_survives(tmp_path: Path) -> None:
    model = tiny_model()
    wall = add_wall(model, "W1")
    broken = add_zero_radius_extrusion(model, "bad column")
    path = model.write(tmp_path / "broken.ifc")
    with open_model(path) as loaded:
        result = Tessellation(loaded.file, select_elements(loaded.file)).finish()
    assert [p.step_id for p in result.placed] == [wall.id()]
    (failure,) = result.failures
    assert (failure.global_id, failure.ifc_class, failure.step_id) == (
        broken.GlobalId,
        "IfcColumn",
        broken.id(),
    )
    assert failure.kernels_tried == DEFAULT_KERNELS
    assert failure.reason


@pytest.mark.corpus
def test_duplex_surface_models_are_rescued_by_opencascade(corpus: Path) -> None:
    # Ten Revit cabinets (IfcFaceBasedSurfaceModel with holed faces) come out of the hybrid
    # kernel empty; OpenCASCADE tessellates them.
    path = corpus / "ifc" / "Duplex_A_20110907.ifc"
    with open_model(path) as loaded:
        elements = select_elements(loaded.file)
        result = Tessellation(loaded.file, elements).finish()
        expected = [e for e in elements if expects_geometry(e)]
    assert result.retried >= 10
    assert result.failures == []
    assert len(result.placed) == len(expected)


def test_placement_times_local_shape_equals_world_coordinates(tmp_path: Path) -> None:
    model = tiny_model()
    add_wall(model, "W1", at_m=(10.0, -3.0, 2.5))
    add_wall(model, "W2", at_m=(500_000.0, 3_400_000.0, 30.0), length_m=2.0)  # map-scale coordinates
    path = model.write(tmp_path / "placed.ifc")
    with open_model(path) as loaded:
        result = Tessellation(loaded.file, select_elements(loaded.file)).finish()
        settings = iterator_settings()
        settings.set("use-world-coords", True)
        iterator = ifcopenshell.geom.iterator(settings, loaded.file, 1, geometry_library=DEFAULT_KERNELS[0])
        world = {}
        assert iterator.initialize()
        while True:
            shape = iterator.get()
            world[shape.id] = np.frombuffer(shape.geometry.verts_buffer, "d").reshape(-1, 3)
            if not iterator.next():
                break
    for placed in result.placed:
        local = result.shapes[placed.shape_key].positions_m
        ours = local @ placed.matrix[:3, :3].T + placed.matrix[:3, 3]
        theirs = world[placed.step_id]
        assert np.allclose(np.unique(ours.round(6), axis=0), np.unique(theirs.round(6), axis=0), atol=1e-6)


def test_style_colours_become_linear_rgba(tmp_path: Path) -> None:
    model = tiny_model()
    wall = add_wall(model, "glass")
    style = ifcopenshell.api.style.add_style(model.file, name="glass")
    ifcopenshell.api.style.add_surface_style(
        model.file,
        style=style,
        ifc_class="IfcSurfaceStyleShading",
        attributes={
            "SurfaceColour": {"Name": None, "Red": 0.5, "Green": 1.0, "Blue": 0.0},
            "Transparency": 0.75,
        },
    )
    ifcopenshell.api.style.assign_representation_styles(
        model.file, shape_representation=wall.Representation.Representations[0], styles=[style]
    )
    path = model.write(tmp_path / "styled.ifc")
    with open_model(path) as loaded:
        result = Tessellation(loaded.file, select_elements(loaded.file)).finish()
    rgba = result.shapes[result.placed[0].shape_key].rgba
    # sRGB 0.5 is linear 0.214 -> 55; alpha = 1 - transparency = 0.25 -> 64.
    assert {tuple(c) for c in rgba} == {(55, 255, 0, 64)}


def test_representations_without_a_body_are_not_expected(tmp_path: Path) -> None:
    model = tiny_model()
    wall = add_wall(model, "W1")
    assert expects_geometry(wall)
    axis_only = model.file.createIfcShapeRepresentation(model.body, "Axis", "Curve2D", [])
    wall.Representation = model.file.createIfcProductDefinitionShape(None, None, [axis_only])
    assert not expects_geometry(wall)


def _walls_model(tmp_path: Path, count: int = 9) -> Path:
    model = tiny_model()
    for i in range(count):
        add_wall(model, f"W{i}", at_m=(0.0, 3.0 * i, 0.0))
    return model.write(tmp_path / "walls.ifc")


def test_in_process_and_worker_processes_agree(tmp_path: Path) -> None:
    path = _walls_model(tmp_path)
    with open_model(path) as loaded:
        elements = select_elements(loaded.file)
        alone = Tessellation(loaded.file, elements, workers=0).finish()
        forked = Tessellation(loaded.file, elements, workers=3).finish()
    assert [p.step_id for p in alone.placed] == [p.step_id for p in forked.placed]
    for a, b in zip(alone.placed, forked.placed, strict=True):
        assert np.array_equal(alone.shapes[a.shape_key].triangles, forked.shapes[b.shape_key].triangles)
        assert np.array_equal(a.matrix, b.matrix)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_crash_is_narrowed_down_to_the_element(tmp_path: Path, monkeypatch, workers: int) -> None:
    import os

    import ifc_processing.geometry as geometry

    path = _walls_model(tmp_path)
    with open_model(path) as loaded:
        elements = select_elements(loaded.file)
        culprit = elements[3]
        real = geometry._tessellate

        def crashing(model, products, *args):
            # Runs inside the forked worker: die like a segfaulting kernel would.
            if any(p.id() == culprit.id() for p in products):
                os._exit(11)
            return real(model, products, *args)

        monkeypatch.setattr(geometry, "_tessellate", crashing)
        # One chunk per worker: the crash must be bisected down to the culprit, and a
        # replacement worker must finish what the dead one left unclaimed.
        monkeypatch.setattr(geometry, "_CHUNKS_PER_WORKER", 1)
        result = Tessellation(loaded.file, elements, workers=workers).finish()
    assert sorted(p.step_id for p in result.placed) == sorted(e.id() for e in elements if e != culprit)
    (failure,) = result.failures
    assert failure.global_id == culprit.GlobalId
    assert "crashed" in failure.reason


def test_a_bug_in_a_worker_is_raised_not_hidden(tmp_path: Path, monkeypatch) -> None:
    import ifc_processing.geometry as geometry

    def broken(*args):
        raise ValueError("boom")

    path = _walls_model(tmp_path, count=2)
    with open_model(path) as loaded:
        monkeypatch.setattr(geometry, "_tessellate", broken)
        tessellation = Tessellation(loaded.file, select_elements(loaded.file), workers=2)
        with pytest.raises(RuntimeError, match="ValueError: boom"):
            tessellation.finish()
    assert all(not job.process.is_alive() for job in tessellation._jobs)


def test_an_element_voided_entirely_by_its_opening_says_so(tmp_path: Path) -> None:
    import ifcopenshell.api.feature

    model = tiny_model()
    wall = add_wall(model, "W1", length_m=2.0, height_m=3.0)
    # An opening flush with the wall's ends and base, through its thickness and above its
    # top, as Revit exports a wall segment entirely taken by a storefront (Janesville has
    # two). (An opening strictly larger in every direction is ignored by the kernel.)
    opening = ifcopenshell.api.root.create_entity(model.file, ifc_class="IfcOpeningElement", name="O1")
    body = ifcopenshell.api.geometry.add_wall_representation(
        model.file, context=model.body, length=2.0, height=3.05, thickness=0.6
    )
    ifcopenshell.api.geometry.edit_object_placement(
        model.file, product=opening, matrix=_translation(0.0, -0.2, 0.0)
    )
    ifcopenshell.api.geometry.assign_representation(model.file, product=opening, representation=body)
    ifcopenshell.api.feature.add_feature(model.file, feature=opening, element=wall)
    path = model.write(tmp_path / "voided.ifc")
    with open_model(path) as loaded:
        result = Tessellation(loaded.file, select_elements(loaded.file)).finish()
    (failure,) = result.failures
    assert failure.global_id == wall.GlobalId
    assert "openings cut away the whole element" in failure.reason


def _translation(x: float, y: float, z: float) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, 3] = (x, y, z)
    return matrix


def test_a_voided_element_with_several_styles_does_not_abort_the_model(tmp_path: Path) -> None:
    import ifcopenshell.api.feature

    model = tiny_model()
    wall = add_wall(model, "two-layer wall", length_m=2.0, height_m=3.0)
    add_wall(model, "W2", at_m=(0.0, 5.0, 0.0))
    body = wall.Representation.Representations[0]
    inner = ifcopenshell.api.geometry.add_wall_representation(
        model.file, context=model.body, length=2.0, height=3.0, thickness=0.1
    )
    body.Items = (*body.Items, *inner.Items)  # a second item, for a second style
    for item, colour in zip(body.Items, ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)), strict=True):
        style = ifcopenshell.api.style.add_style(model.file, name=f"s{colour}")
        ifcopenshell.api.style.add_surface_style(
            model.file,
            style=style,
            ifc_class="IfcSurfaceStyleShading",
            attributes={
                "SurfaceColour": {"Name": None, "Red": colour[0], "Green": colour[1], "Blue": colour[2]}
            },
        )
        model.file.createIfcStyledItem(item, [style], None)
    opening = ifcopenshell.api.root.create_entity(model.file, ifc_class="IfcOpeningElement", name="O1")
    cut = ifcopenshell.api.geometry.add_wall_representation(
        model.file, context=model.body, length=2.0, height=3.05, thickness=0.6
    )
    ifcopenshell.api.geometry.edit_object_placement(
        model.file, product=opening, matrix=_translation(0.0, -0.2, 0.0)
    )
    ifcopenshell.api.geometry.assign_representation(model.file, product=opening, representation=cut)
    ifcopenshell.api.feature.add_feature(model.file, feature=opening, element=wall)
    path = model.write(tmp_path / "voided-styled.ifc")
    with open_model(path) as loaded:
        for workers in (0, 2):
            result = Tessellation(loaded.file, select_elements(loaded.file), workers=workers).finish()
            assert [p.step_id for p in result.placed] != []  # W2 survives
            assert [f.global_id for f in result.failures] == [wall.GlobalId]
