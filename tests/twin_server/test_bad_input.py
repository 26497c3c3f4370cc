"""Hostile and careless input: every case a clear 4xx, nothing stored lost, no race won twice."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.factories import add_wall, tiny_model
from tests.twin_server.conftest import PASSWORD, Api, Client, running_api


def _ifc(tmp: Path, name: str, walls: int = 2) -> Path:
    m = tiny_model(project_name=name)
    for i in range(walls):
        add_wall(m, f"{name}-{i}", at_m=(0.0, 4.0 * i, 0.0))
    return m.write(tmp / f"{name}.ifc")


@pytest.fixture(scope="module")
def processed(api, tmp_path_factory) -> dict:
    model = api.create_model("P-EAST", "bad-input")
    revision = api.upload("P-EAST", model["id"], _ifc(tmp_path_factory.mktemp("bad"), "base")).json()
    assert revision["processing"] == "succeeded"
    return {"model": model, "revision": revision}


def test_nul_characters_are_422_everywhere_never_a_database_error(api, processed) -> None:
    project = f"/api/projects/{api.node('P-EAST')}"
    elements = f"{project}/revisions/{processed['revision']['id']}/elements"
    for url in (
        f"{elements}?q=%00",
        f"{elements}?storey=a%00",
        f"{elements}?prop=P.a=%00",
        f"{elements}/a%00b",
        "/api/projects?status=%00",
    ):
        response = api.as_user("bim", "GET", url)
        assert (response.status_code, response.json()["error"]) == (422, "invalid_request"), url
    for url, body in (
        (f"{project}/models", {"name": "a\u0000b"}),
        (f"/api/org/nodes/{api.node('HQ')}/regions", {"code": "X\u0000", "name": "x"}),
    ):
        response = api.as_user("admin", "POST", url, json=body)
        assert response.status_code == 422, url
    patched = api.as_user("admin", "PATCH", project, json={"address": "\u0000"})
    assert patched.status_code == 422
    label = api.as_user(
        "bim",
        "POST",
        f"{project}/models/{processed['model']['id']}/revisions",
        data={"label": "P\u0000"},
        files={"file": ("x.ifc", b"ISO-10303-21;\n" + b"x" * 100)},
    )
    assert label.status_code == 422
    for username in ("bim\u0000", "x" * 300):
        login = api.client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
        assert login.status_code == 401, username


def test_project_updates_cannot_null_required_fields_or_store_infinity(api) -> None:
    project = f"/api/projects/{api.node('P-EAST')}"
    before = api.as_user("admin", "GET", project).json()
    for body in ({"name": None}, {"status": None}, {"name": "   "}, {"unknown": 1}, {"site_lon": 200}):
        assert api.as_user("admin", "PATCH", project, json=body).status_code == 422, body
    infinite = api.as_user(
        "admin",
        "PATCH",
        project,
        content=b'{"contract_value_cny": 1e400}',
        headers={"Content-Type": "application/json"},
    )
    assert infinite.status_code == 422
    half_point = api.as_user("admin", "PATCH", project, json={"site_lon": None})
    assert (half_point.status_code, half_point.json()["error"]) == (422, "invalid_input")
    assert api.as_user("admin", "GET", project).json() == before  # nothing changed by any of them
    blank = api.as_user(
        "admin", "POST", f"/api/org/nodes/{api.node('HQ')}/regions", json={"code": " ", "name": " "}
    )
    assert blank.status_code == 422


def test_too_many_or_too_long_filters_are_422(api, processed) -> None:
    elements = f"/api/projects/{api.node('P-EAST')}/revisions/{processed['revision']['id']}/elements"
    many = [("prop", f"P.a{i}!=1") for i in range(11)]
    assert api.as_user("bim", "GET", elements, params=many).status_code == 422
    assert api.as_user("bim", "GET", elements, params=many[:10]).status_code == 200
    assert api.as_user("bim", "GET", elements, params={"ifc_class": "x" * 65}).status_code == 422


def test_wildcards_in_text_search_are_literal(api, processed) -> None:
    elements = f"/api/projects/{api.node('P-EAST')}/revisions/{processed['revision']['id']}/elements"
    for q in ("%", "\\"):
        body = api.as_user("bim", "GET", elements, params={"q": q}).json()
        assert body["total"] == 0, q
    underscore = api.as_user("bim", "GET", elements, params={"q": "_"}).json()["items"]
    assert all("_" in item["global_id"] + (item["name"] or "") for item in underscore)
    assert api.as_user("bim", "GET", elements, params={"q": "base-"}).json()["total"] == 2


def test_uploads_take_only_known_fields(api, processed) -> None:
    url = f"/api/projects/{api.node('P-EAST')}/models/{processed['model']['id']}/revisions"
    extra = api.as_user(
        "bim", "POST", url, data={"label": "P9", "note": "x"}, files={"file": ("a.ifc", b"ISO")}
    )
    assert (extra.status_code, extra.json()["error"]) == (422, "invalid_input")
    assert "'note'" in extra.json()["detail"]


def test_a_chunked_json_body_over_the_limit_is_413(api) -> None:
    async def chunks():
        yield b'{"name": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    response = api.as_user(
        "bim",
        "POST",
        f"/api/projects/{api.node('P-EAST')}/models",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["error"]) == (413, "too_large")


def test_default_labels_continue_after_explicit_ones(api, tmp_path) -> None:
    model = api.create_model("P-EAST", "labels")
    assert api.upload("P-EAST", model["id"], _ifc(tmp_path, "l1"), label="P02").json()["label"] == "P02"
    assert api.upload("P-EAST", model["id"], _ifc(tmp_path, "l2", 3)).json()["label"] == "P03"
    assert api.upload("P-EAST", model["id"], _ifc(tmp_path, "l3", 4), label="C01").json()["label"] == "C01"
    assert api.upload("P-EAST", model["id"], _ifc(tmp_path, "l4", 5)).json()["label"] == "P04"


def _race(api: Api, requests: list[tuple[str, str, dict]]) -> list[int]:
    """Send the requests at the same moment from separate clients; their status codes."""
    clients = [Client(api.app) for _ in requests]
    start = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def send(i: int) -> None:
        method, url, kwargs = requests[i]
        start.wait()
        statuses[i] = clients[i].request(method, url, **kwargs).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for client in clients:
        client.close()
    return statuses


def test_racing_state_changes_one_wins(api, tmp_path) -> None:
    model = api.create_model("P-EAST", "publish-race")
    base = f"/api/projects/{api.node('P-EAST')}/revisions"
    first, second = (
        api.upload("P-EAST", model["id"], _ifc(tmp_path, f"r{i}", 2 + i)).json() for i in range(2)
    )
    headers = api.auth("bim")
    for revision in (first, second):
        api.as_user("bim", "PUT", f"{base}/{revision['id']}/state", json={"state": "SHARED"})
    # Two revisions published at once: never two published revisions.
    statuses = _race(
        api,
        [
            ("PUT", f"{base}/{r['id']}/state", {"json": {"state": "PUBLISHED"}, "headers": headers})
            for r in (first, second)
        ],
    )
    assert set(statuses) <= {200, 409} and 200 in statuses
    states = [api.as_user("bim", "GET", f"{base}/{r['id']}").json()["state"] for r in (first, second)]
    assert sorted(states) == ["ARCHIVED", "PUBLISHED"]

    # One revision moved two ways at once: exactly one move happens.
    third = api.upload("P-EAST", model["id"], _ifc(tmp_path, "r3", 6)).json()
    api.as_user("bim", "PUT", f"{base}/{third['id']}/state", json={"state": "SHARED"})
    moves = ["PUBLISHED", "WIP"]
    statuses = _race(
        api,
        [("PUT", f"{base}/{third['id']}/state", {"json": {"state": s}, "headers": headers}) for s in moves],
    )
    assert sorted(statuses) == [200, 409]
    final = api.as_user("bim", "GET", f"{base}/{third['id']}").json()["state"]
    assert final == moves[statuses.index(200)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_burst_of_parallel_guesses_gets_no_more_than_the_limit(backend, tmp_path) -> None:
    with running_api(backend, tmp_path, login_max_failures=3) as api:
        guess = ("POST", "/api/auth/token", {"data": {"username": "bim", "password": "wrong-guess"}})
        statuses = _race(api, [guess] * 12)
        assert statuses.count(401) <= 3 and statuses.count(429) >= 9, statuses


def test_logging_out_ends_the_session_token(api) -> None:
    browser = Client(api.app)
    try:
        login = browser.post("/api/auth/session", json={"username": "site", "password": PASSWORD})
        csrf, cookie = login.json()["csrf_token"], browser.http.cookies.get("twin_session")
        assert browser.delete("/api/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    finally:
        browser.close()
    replayed = api.client.get("/api/auth/me", headers={"Cookie": f"twin_session={cookie}"})
    assert (replayed.status_code, replayed.json()["error"]) == (401, "token_revoked")
    api.world.tokens.pop("site", None)


def test_a_job_the_queue_cannot_take_fails_cleanly_and_can_be_retried(tmp_path) -> None:
    with running_api("sqlite", tmp_path, queue="redis", redis_url="redis://127.0.0.1:1/0") as api:
        model = api.create_model("P-EAST", "queue-down")
        response = api.upload("P-EAST", model["id"], _ifc(tmp_path, "q"))
        assert (response.status_code, response.json()["error"]) == (503, "unavailable")
        revisions = api.as_user(
            "bim", "GET", f"/api/projects/{api.node('P-EAST')}/models/{model['id']}/revisions"
        )
        [revision] = revisions.json()
        assert revision["processing"] == "failed" and "job queue" in revision["failure_reason"]
        retry_url = f"/api/projects/{api.node('P-EAST')}/revisions/{revision['id']}/retry"
        assert api.as_user("bim", "POST", retry_url).status_code == 503  # still down
        database_url = api.runtime.settings.database_url
    # The queue is back (here: another server on the same data, running jobs inline).
    with running_api("sqlite", tmp_path, database_url=database_url, seed=False) as api:
        retried = api.as_user("bim", "POST", retry_url)
        assert retried.status_code == 202
        assert (retried.json()["processing"], retried.json()["attempts"]) == ("succeeded", 1)
        again = api.as_user("bim", "POST", retry_url)
        assert (again.status_code, again.json()["error"]) == (409, "conflict")
        assert api.as_user("inspector", "POST", retry_url).status_code == 403
