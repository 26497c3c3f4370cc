"""Models and revisions: upload, background processing, duplicates, states, bad input."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from tests.factories import add_wall, tiny_model
from tests.twin_server.conftest import Client, running_api


@pytest.fixture(scope="module")
def model(api) -> dict:
    return api.create_model("P-EAST", "revisions")


def _other_ifc(tmp: Path, name: str, walls: int = 3) -> Path:
    m = tiny_model(project_name=name)
    for i in range(walls):
        add_wall(m, f"W{i}", at_m=(0.0, 4.0 * i, 0.0))
    return m.write(tmp / f"{name}.ifc")


def test_upload_is_processed_and_recorded_with_its_hash(api, model, small_ifc) -> None:
    response = api.upload("P-EAST", model["id"], small_ifc, label="P01")
    assert response.status_code == 202, response.text
    revision = response.json()
    assert response.headers["location"] == f"/api/projects/{api.node('P-EAST')}/revisions/{revision['id']}"
    assert revision["file_sha256"] == hashlib.sha256(small_ifc.read_bytes()).hexdigest()
    assert revision["file_bytes"] == small_ifc.stat().st_size
    assert (revision["label"], revision["state"], revision["processing"]) == ("P01", "WIP", "succeeded")
    assert revision["progress_pct"] == 100.0 and revision["attempts"] == 1
    assert revision["uploaded_by"] == "bim"
    assert revision["glb_url"].endswith(f"/geometry/{revision['glb_sha256']}.glb")
    assert revision["summary"]["element_count"] == 2
    listed = api.as_user(
        "inspector", "GET", f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions"
    )
    assert [r["id"] for r in listed.json()] == [revision["id"]]


def test_the_same_file_twice_is_detected_by_its_hash(api, model, small_ifc) -> None:
    again = api.upload("P-EAST", model["id"], small_ifc, label="P99", file_name="renamed.ifc")
    assert again.status_code == 409
    assert again.json()["error"] == "duplicate_file"
    assert "P01" in again.json()["detail"]


def test_a_taken_label_is_409_and_default_labels_count_up(api, model, tmp_path) -> None:
    taken = api.upload("P-EAST", model["id"], _other_ifc(tmp_path, "label-clash"), label="P01")
    assert (taken.status_code, taken.json()["error"]) == (409, "duplicate_revision")
    fresh = api.upload("P-EAST", model["id"], _other_ifc(tmp_path, "default-label", walls=4))
    assert fresh.status_code == 202
    assert fresh.json()["label"] == "P02"


def test_two_uploads_racing_for_one_revision_one_wins_the_other_gets_409(api, tmp_path) -> None:
    model = api.create_model("P-EAST", "race")
    files = [_other_ifc(tmp_path, f"race-{i}", walls=2 + i) for i in range(2)]
    clients = [Client(api.app), Client(api.app)]
    start = threading.Barrier(2)
    results: list[int] = []
    headers = api.auth("bim")

    def upload(client: Client, path: Path) -> None:
        start.wait()
        response = client.post(
            f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions",
            headers=headers,
            data={"label": "C01"},
            files={"file": (path.name, path.read_bytes())},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=upload, args=pair) for pair in zip(clients, files, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for client in clients:
        client.close()
    assert sorted(results) == [202, 409]
    listed = api.as_user("bim", "GET", f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions")
    assert [r["label"] for r in listed.json()] == ["C01"]


def test_iso_19650_states_and_publishing_archives_the_previous(api, tmp_path) -> None:
    model = api.create_model("P-EAST", "states")
    base = f"/api/projects/{api.node('P-EAST')}/revisions"
    first = api.upload("P-EAST", model["id"], _other_ifc(tmp_path, "s1")).json()
    second = api.upload("P-EAST", model["id"], _other_ifc(tmp_path, "s2", walls=5)).json()

    def move(revision: dict, state: str, user: str = "bim"):
        return api.as_user(user, "PUT", f"{base}/{revision['id']}/state", json={"state": state})

    skipped = move(first, "PUBLISHED")
    assert (skipped.status_code, skipped.json()["error"]) == (409, "conflict")
    assert "WIP revision cannot become PUBLISHED" in skipped.json()["detail"]
    assert move(first, "SHARED", user="inspector").status_code == 403
    assert move(first, "SHARED").json()["state"] == "SHARED"
    assert move(first, "PUBLISHED").json()["state"] == "PUBLISHED"
    assert move(second, "SHARED").status_code == 200
    assert move(second, "PUBLISHED").json()["state"] == "PUBLISHED"
    assert api.as_user("bim", "GET", f"{base}/{first['id']}").json()["state"] == "ARCHIVED"
    archived = move(first, "PUBLISHED")
    assert archived.status_code == 409
    assert move(second, "DRAFT").status_code == 422


def test_a_corrupt_ifc_fails_with_the_reason_and_nothing_else_is_affected(api, small_ifc, tmp_path) -> None:
    model = api.create_model("P-EAST", "corrupt")
    good = api.upload("P-EAST", model["id"], _other_ifc(tmp_path, "good-before", walls=6)).json()
    truncated = tmp_path / "truncated.ifc"
    text = _other_ifc(tmp_path, "to-truncate", walls=7).read_bytes()
    truncated.write_bytes(text[: len(text) // 2])
    response = api.upload("P-EAST", model["id"], truncated)
    assert response.status_code == 202
    failed = response.json()
    assert failed["processing"] == "failed"
    assert failed["failure_reason"].startswith("file is truncated: it ends without END-ISO-10303-21")
    assert failed["glb_url"] is None
    base = f"/api/projects/{api.node('P-EAST')}/revisions/{failed['id']}"
    # A failed revision shows nothing of itself...
    for url in (f"{base}/elements", f"{base}/spatial.json"):
        unusable = api.as_user("bim", "GET", url)
        assert (unusable.status_code, unusable.json()["error"]) == (409, "not_processed")
    assert api.as_user("bim", "PUT", f"{base}/state", json={"state": "SHARED"}).status_code == 409
    # ...and the server and earlier revisions carry on.
    assert api.client.get("/api/health").json()["status"] == "ok"
    earlier = api.as_user("bim", "GET", f"/api/projects/{api.node('P-EAST')}/revisions/{good['id']}/elements")
    assert earlier.status_code == 200 and earlier.json()["total"] == 6


@pytest.mark.parametrize(
    ("file_name", "content", "code"),
    [
        ("notes.txt", b"ISO-10303-21;\nHEADER;", "unsupported_file_type"),
        (
            "model.ifc",
            b"%PDF-1.7 this is a drawing, not a model........................",
            "unsupported_file_type",
        ),
        (
            "model.ifczip",
            b"ISO-10303-21;\nHEADER; a STEP file with the wrong suffix.............",
            "unsupported_file_type",
        ),
        ("model.ifc.exe", b"MZ" + b"\0" * 80, "unsupported_file_type"),
    ],
)
def test_wrong_file_types_are_415_and_store_nothing(api, model, file_name, content, code) -> None:
    before = _blob_files(api)
    response = api.as_user(
        "bim",
        "POST",
        f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions",
        files={"file": (file_name, content)},
    )
    assert (response.status_code, response.json()["error"]) == (415, code)
    assert _blob_files(api) == before


def test_a_body_that_is_not_multipart_is_415_and_a_form_without_file_is_422(api, model) -> None:
    url = f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions"
    as_json = api.as_user("bim", "POST", url, json={"file": "ISO-10303-21;"})
    assert (as_json.status_code, as_json.json()["error"]) == (415, "unsupported_media_type")
    no_file = api.as_user("bim", "POST", url, data={"label": "X"}, files={"other": (None, "text")})
    assert no_file.status_code == 422
    empty = api.as_user("bim", "POST", url, files={"file": ("empty.ifc", b"")})
    assert empty.status_code in (415, 422)
    broken = api.as_user(
        "bim",
        "POST",
        url,
        content=b"--xyz\r\nnonsense",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status_code == 422


def test_unknown_model_is_404_before_the_body_is_read(api, small_ifc) -> None:
    response = api.upload("P-EAST", 987654, small_ifc)
    assert (response.status_code, response.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_oversized_uploads_are_413_declared_or_streamed_and_leave_nothing(
    backend, tmp_path, small_ifc
) -> None:
    with running_api(backend, tmp_path, max_upload_bytes=4096) as api:
        model = api.create_model("P-EAST", "big")
        url = f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions"
        big = _other_ifc(tmp_path, "big", walls=10)
        assert big.stat().st_size > 4096
        declared = api.upload("P-EAST", model["id"], big)
        assert (declared.status_code, declared.json()["error"]) == (413, "too_large")

        # Chunked, without Content-Length: cut off as it streams.
        boundary = "b0undary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.ifc"\r\n\r\n'
        ).encode()

        async def chunks():
            yield head
            data = big.read_bytes()
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = api.as_user(
            "bim",
            "POST",
            url,
            content=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert (streamed.status_code, streamed.json()["error"]) == (413, "too_large")
        assert (
            api.as_user(
                "bim", "GET", f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions"
            ).json()
            == []
        )
        assert _blob_files(api) == set()
        # A file under the limit still goes through.
        assert api.upload("P-EAST", model["id"], small_ifc).status_code == 202


def test_json_bodies_over_the_request_limit_are_413(api) -> None:
    response = api.as_user(
        "bim", "POST", f"/api/projects/{api.node('P-EAST')}/models", json={"name": "x" * (2 * 1024 * 1024)}
    )
    assert (response.status_code, response.json()["error"]) == (413, "too_large")


def _blob_files(api) -> set[str]:
    root = api.runtime.blobs.root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
