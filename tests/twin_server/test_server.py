"""The server as a newcomer starts it: ``twin`` commands and a real ``twin serve`` process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from sample_models.generate import write_building
from tests.twin_server.conftest import PASSWORD, live_server

TWIN = Path(sys.executable).with_name("twin")


def twin(*args: str, env: dict[str, str], stdin: str | None = None, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TWIN), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    return clean | {"TWIN_DATA_DIR": str(tmp_path / "data")}


def test_serve_refuses_the_default_secret_outside_development(env, tmp_path) -> None:
    result = twin("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: configuration: TWIN_SECRET_KEY is not set")
    assert "Traceback" not in result.stderr
    short = twin("worker", env=env | {"TWIN_SECRET_KEY": "short"}, cwd=tmp_path)
    assert short.returncode == 2 and "at least 16 characters" in short.stderr


def test_org_and_user_commands(env, tmp_path) -> None:
    env = env | {"TWIN_SECRET_KEY": "s" * 32}
    assert twin("org", "add", "hq", "HQ", "集团总部", env=env, cwd=tmp_path).returncode == 0
    assert (
        twin("org", "add", "region", "EAST", "华东", "--parent", "HQ", env=env, cwd=tmp_path).returncode == 0
    )
    project = twin("org", "add", "project", "P1", "一号项目", "--parent", "EAST", env=env, cwd=tmp_path)
    assert project.returncode == 0 and project.stdout.startswith("added project P1")
    created = twin(
        "user", "create", "alice", "--role", "regional_manager", "--node", "EAST", "--password-stdin",
        env=env, stdin=PASSWORD + "\n", cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created user alice (regional_manager) at EAST"
    for args, message in (
        (("alice", "--role", "admin", "--node", "HQ"), "the user name 'alice' is taken"),
        (("bob", "--role", "boss", "--node", "HQ"), "unknown role 'boss'"),
        (("bob", "--role", "admin", "--node", "NOWHERE"), "no organisation node with code 'NOWHERE'"),
        (("bob", "--role", "admin", "--node", "HQ"), "the password needs at least 8 characters"),
    ):
        password = "short" if "admin" in args and "HQ" in args and args[0] == "bob" else PASSWORD
        result = twin(
            "user", "create", *args, "--password-stdin", env=env, stdin=password + "\n", cwd=tmp_path
        )
        assert result.returncode == 2, result
        assert message in result.stderr and "Traceback" not in result.stderr
    orphan = twin("org", "add", "project", "P2", "x", env=env, cwd=tmp_path)
    assert orphan.returncode == 2 and "--parent" in orphan.stderr

    # Password changes and disabling take effect at the next log-in.
    new_password = "a-new-password-42"
    changed = twin(
        "user", "password", "alice", "--password-stdin", env=env, stdin=new_password + "\n", cwd=tmp_path
    )
    assert changed.returncode == 0 and "sessions and tokens have ended" in changed.stdout
    assert _can_log_in(env, "alice", new_password) and not _can_log_in(env, "alice", PASSWORD)
    assert twin("user", "disable", "alice", env=env, cwd=tmp_path).returncode == 0
    assert not _can_log_in(env, "alice", new_password)
    assert twin("user", "enable", "alice", env=env, cwd=tmp_path).returncode == 0
    assert _can_log_in(env, "alice", new_password)
    missing = twin("user", "disable", "nobody", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "no user 'nobody'" in missing.stderr


def _can_log_in(env: dict[str, str], username: str, password: str) -> bool:
    import datetime as dt

    from twin_server.config import Settings
    from twin_server.domain.errors import NotAuthenticated
    from twin_server.runtime import build_runtime
    from twin_server.services.auth import authenticate

    runtime = build_runtime(Settings(data_dir=Path(env["TWIN_DATA_DIR"]), secret_key=env["TWIN_SECRET_KEY"]))
    try:
        with runtime.sessions() as session:
            authenticate(
                session,
                username=username,
                password=password,
                client_ip="test",
                now=dt.datetime.now(dt.UTC),
                max_failures=100,
                window_s=60,
            )
        return True
    except NotAuthenticated:
        return False
    finally:
        runtime.close()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_a_development_server_runs_the_whole_loop(env, tmp_path, small_ifc) -> None:
    """``make run``'s set-up: development mode, embedded SQLite queue consumed in-process."""
    env = env | {"TWIN_DEVELOPMENT": "1"}
    sample = write_building(tmp_path / "sample.ifc", storeys=2, bays_x=2, bays_y=1)
    demo = twin("demo", "--sample", str(sample), "--projects", "3", env=env, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert twin("demo", "--sample", str(sample), "--projects", "3", env=env, cwd=tmp_path).returncode == 0
    log = tmp_path / "server.log"
    with live_server(env, tmp_path, log) as base, httpx.Client(base_url=base, timeout=30) as client:
        deadline = time.monotonic() + 60
        token = client.post("/api/auth/token", data={"username": "bim", "password": "erji-demo-2026"})
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "X-Request-ID": "trace-me-42",
        }
        project = next(
            p for p in client.get("/api/projects", headers=headers).json() if p["code"] == "SH-PD-01"
        )
        model = client.post(f"/api/projects/{project['id']}/models", headers=headers, json={"name": "loop"})
        assert model.status_code == 201
        assert model.headers["x-request-id"] == "trace-me-42"
        upload = client.post(
            f"/api/projects/{project['id']}/models/{model.json()['id']}/revisions",
            headers=headers,
            files={"file": ("small.ifc", small_ifc.read_bytes())},
        )
        assert upload.status_code == 202 and upload.json()["processing"] == "queued"
        url = upload.headers["location"]
        while (revision := client.get(url, headers=headers).json())["processing"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline + 60, log.read_text()
            time.sleep(0.2)
        assert revision["processing"] == "succeeded", revision
        assert client.get(f"{url}/elements", headers=headers).json()["total"] == 2
        # The demo's own model and 4D schedule are there, processed in the background.
        pid = project["id"]
        demo_model = next(
            m
            for m in client.get(f"/api/projects/{pid}/models", headers=headers).json()
            if m["name"] != "loop"
        )
        demo_revisions = client.get(
            f"/api/projects/{pid}/models/{demo_model['id']}/revisions", headers=headers
        ).json()
        assert [r["label"] for r in demo_revisions] == ["P01"]
        revision_url = f"/api/projects/{pid}/revisions/{demo_revisions[0]['id']}"
        while (state := client.get(revision_url, headers=headers).json())["processing"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline + 120, log.read_text()
            time.sleep(0.2)
        assert state["processing"] == "succeeded"
        [schedule] = client.get(f"/api/projects/{pid}/schedules", headers=headers).json()
        fourd = client.get(
            f"{revision_url}/4d/summary",
            headers=headers,
            params={"schedule": schedule["id"], "at": "2025-03-20"},
        ).json()
        assert fourd["elements"] > 0 and fourd["by_status"]["no_task"] < fourd["elements"]

        docs = client.get("/docs")
        assert docs.status_code == 200
        links = _Links()
        links.feed(docs.text)
        assert links.urls, "the docs page names its assets"
        for link in links.urls:  # every asset from this server, and it is there
            assert not re.match(r"^(https?:)?//", link), link
            assert client.get(link).status_code == 200, link
        assert "cdn." not in docs.text and '"validatorUrl": null' in docs.text
    text = log.read_text()
    assert "DEVELOPMENT MODE" in text
    assert re.search(r"\[trace-me-42\] twin_server.access: POST /api/projects/\d+/models 201", text)
    assert "revision" in text and "processed" in text
    assert "Traceback" not in text
