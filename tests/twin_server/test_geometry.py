"""GLB delivery: content-addressed URL, strong ETag, immutable caching, gzip, Range."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from sample_models.generate import write_building


@pytest.fixture(scope="module")
def glb(api, tmp_path_factory) -> dict:
    path = write_building(tmp_path_factory.mktemp("glb") / "glb.ifc", storeys=2, bays_x=2, bays_y=2)
    model = api.create_model("P-EAST", "geometry")
    revision = api.upload("P-EAST", model["id"], path).json()
    assert revision["processing"] == "succeeded"
    return revision


def test_glb_is_served_with_a_strong_etag_and_immutable_caching(api, glb) -> None:
    response = api.as_user("inspector", "GET", glb["glb_url"], headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    body = response.content
    assert body[:4] == b"glTF" and len(body) == glb["glb_bytes"]
    assert hashlib.sha256(body).hexdigest() == glb["glb_sha256"]
    assert response.headers["etag"] == f'"{glb["glb_sha256"]}"'
    assert response.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert response.headers["content-type"] == "model/gltf-binary"
    assert response.headers["accept-ranges"] == "bytes"

    etag = response.headers["etag"]
    again = api.as_user(
        "inspector", "GET", glb["glb_url"], headers={"If-None-Match": etag, "Accept-Encoding": "identity"}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # Holding the uncompressed copy says nothing about the gzip one: that is sent.
    other = api.as_user(
        "inspector", "GET", glb["glb_url"], headers={"If-None-Match": etag, "Accept-Encoding": "gzip"}
    )
    assert other.status_code == 200 and other.headers["content-encoding"] == "gzip"
    head = api.as_user("inspector", "HEAD", glb["glb_url"], headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == glb["glb_bytes"]


def test_gzip_is_served_to_clients_that_accept_it_when_it_helps(api, glb) -> None:
    # httpx would decode transparently; read the raw bytes to see what was sent.
    response = api.as_user("inspector", "GET", glb["glb_url"], headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["etag"] == f'"{glb["glb_sha256"]}-gzip"'
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < 0.9 * glb["glb_bytes"]
    assert hashlib.sha256(response.content).hexdigest() == glb["glb_sha256"]  # decoded by httpx
    refused = api.as_user("inspector", "GET", glb["glb_url"], headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers


def test_range_requests_return_the_requested_bytes(api, glb) -> None:
    whole = api.as_user("inspector", "GET", glb["glb_url"], headers={"Accept-Encoding": "identity"}).content
    part = api.as_user(
        "inspector", "GET", glb["glb_url"], headers={"Range": "bytes=100-1099", "Accept-Encoding": "gzip"}
    )
    assert part.status_code == 206
    assert part.content == whole[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
    assert "content-encoding" not in part.headers
    tail = api.as_user("inspector", "GET", glb["glb_url"], headers={"Range": "bytes=-12"})
    assert tail.status_code == 206 and tail.content == whole[-12:]
    beyond = api.as_user("inspector", "GET", glb["glb_url"], headers={"Range": f"bytes={len(whole) + 10}-"})
    assert (beyond.status_code, beyond.json()["error"]) == (416, "range_not_satisfiable")
    assert beyond.headers["content-range"] == f"bytes */{len(whole)}"
    # Other units and ranges that do not parse are ignored: the whole file (RFC 9110 §14.2).
    for ignored in ("items=0-1", "bytes=abc", "bytes=5-2x"):
        response = api.as_user(
            "inspector", "GET", glb["glb_url"], headers={"Range": ignored, "Accept-Encoding": "identity"}
        )
        assert response.status_code == 200 and response.content == whole, ignored


def test_geometry_urls_are_scoped_to_their_project(api, glb) -> None:
    west_url = glb["glb_url"].replace(f"/projects/{api.node('P-EAST')}/", f"/projects/{api.node('P-WEST')}/")
    assert api.as_user("admin", "GET", west_url).status_code == 404  # HQ sees WEST, but it has no such GLB
    assert api.as_user("west_bim", "GET", glb["glb_url"]).status_code == 404
    unknown = glb["glb_url"].replace(glb["glb_sha256"], "0" * 64)
    assert api.as_user("inspector", "GET", unknown).status_code == 404
    malformed = glb["glb_url"].replace(glb["glb_sha256"], "../../etc/passwd")
    assert api.as_user("inspector", "GET", malformed).status_code in (404, 422)


def test_stored_gzip_variant_is_the_same_glb(api, glb) -> None:
    packed = api.runtime.blobs.path(glb["glb_sha256"], "gzip")
    assert packed is not None
    assert hashlib.sha256(gzip.decompress(packed.read_bytes())).hexdigest() == glb["glb_sha256"]
