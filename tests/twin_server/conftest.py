"""The API under test: a real app on SQLite and on PostgreSQL, reached through httpx.

``api`` is module-scoped and parametrised over both databases, so every test using it
runs twice. Each module gets a fresh database with an organisation of two regions, one
project in each, and one user per role. PostgreSQL (127.0.0.1:5432) and Redis
(127.0.0.1:6379) are real servers: missing ones skip locally and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio.from_thread
import httpx
import pytest

from tests.conftest import IN_CI
from tests.factories import add_wall, tiny_model
from twin_server.config import Settings
from twin_server.domain.access import NodeKind, Role
from twin_server.domain.model import Principal
from twin_server.main import create_app
from twin_server.runtime import build_runtime
from twin_server.services import orgs
from twin_server.services.access import NodeRef
from twin_server.services.auth import create_user

PASSWORD = "correct-horse-battery"
SECRET = "test-secret-key-0123456789abcdef"
PG_ADMIN_URL = os.environ.get("TWIN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TWIN_TEST_REDIS", "redis://127.0.0.1:6379/15")
BACKENDS = ("sqlite", "postgresql")


def missing_service(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI=true: required, not skipped)", pytrace=False)
    pytest.skip(what)


@contextlib.contextmanager
def temporary_database(backend: str, folder: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file in ``folder`` or a PostgreSQL database that
    is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'twin.db'}"
        return
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"twin_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        missing_service(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}")
    try:
        yield str(sa.engine.make_url(PG_ADMIN_URL).set(database=name))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Client:
    """A synchronous face on ``httpx.AsyncClient`` + ``ASGITransport``: the app runs in
    this process, in a portal thread, exactly as uvicorn would call it. App exceptions
    propagate (``raise_app_exceptions``), so a 5xx can never pass unnoticed."""

    def __init__(self, app, *, client_ip: str = "127.0.0.1", base_url: str = "https://testserver") -> None:
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
        self.http = httpx.AsyncClient(transport=transport, base_url=base_url)

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        return self._portal.call(partial(self.http.request, method, url, **kwargs))

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self.http.aclose)
        self._portal_cm.__exit__(None, None, None)


@dataclass
class World:
    """What the fixture created: node ids by code and one user name per role."""

    nodes: dict[str, int]
    users: dict[str, str]  # role or label → user name
    tokens: dict[str, str] = field(default_factory=dict)


class Api:
    """The app, a client, the seeded organisation, and helpers that speak the API."""

    def __init__(self, app, runtime, world: World, backend: str, tmp: Path) -> None:
        self.app = app
        self.runtime = runtime
        self.world = world
        self.backend = backend
        self.tmp = tmp
        self.client = Client(app)

    # -- credentials ---------------------------------------------------------------------
    def token(self, user: str) -> str:
        if user not in self.world.tokens:
            response = self.client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.world.tokens[user] = response.json()["access_token"]
        return self.world.tokens[user]

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def as_user(self, user: str, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {**self.auth(user), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    # -- models --------------------------------------------------------------------------
    def node(self, code: str) -> int:
        return self.world.nodes[code]

    def create_model(self, project: str, name: str, user: str = "bim") -> dict:
        response = self.as_user(
            user, "POST", f"/api/projects/{self.node(project)}/models", json={"name": name}
        )
        assert response.status_code == 201, response.text
        return response.json()

    def upload(
        self,
        project: str,
        model_id: int,
        path: Path,
        *,
        user: str = "bim",
        label: str | None = None,
        file_name: str | None = None,
    ) -> httpx.Response:
        data = {"label": label} if label else {}
        with path.open("rb") as fh:
            files = {"file": (file_name or path.name, fh.read(), "application/octet-stream")}
        return self.as_user(
            user,
            "POST",
            f"/api/projects/{self.node(project)}/models/{model_id}/revisions",
            data=data,
            files=files,
        )

    def wait_processed(self, project: str, revision_id: int, timeout_s: float = 120) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            revision = self.as_user(
                "admin", "GET", f"/api/projects/{self.node(project)}/revisions/{revision_id}"
            )
            assert revision.status_code == 200, revision.text
            body = revision.json()
            if body["processing"] in ("succeeded", "failed") or time.monotonic() > deadline:
                return body
            time.sleep(0.2)


def seed_world(runtime) -> World:
    """HQ → EAST, WEST regions → one project each; users at HQ, EAST and the EAST project."""
    with runtime.sessions() as session:
        hq = orgs.create_node(session, kind=NodeKind.HQ, code="HQ", name="集团总部", parent_id=None)
        nodes = {"HQ": hq.id}
        for region in ("EAST", "WEST"):
            node = orgs.create_node(session, kind=NodeKind.REGION, code=region, name=region, parent_id=hq.id)
            nodes[region] = node.id
        session.commit()
        for code, region, lon, lat in (("P-EAST", "EAST", 121.47, 31.23), ("P-WEST", "WEST", 104.06, 30.67)):
            parent = orgs.find_node(session, region)
            project = orgs.create_project(
                session,
                region=NodeRef(parent.id, parent.kind, parent.path),
                code=code,
                name=f"项目 {code}",
                site_lon=lon,
                site_lat=lat,
            )
            nodes[code] = project.id
        users = {
            "admin": (Role.ADMIN, "HQ"),
            "hq": (Role.HQ_VIEWER, "HQ"),
            "east": (Role.REGIONAL_MANAGER, "EAST"),
            "bim": (Role.BIM_COORDINATOR, "P-EAST"),
            "inspector": (Role.INSPECTOR, "P-EAST"),
            "site": (Role.SITE_MANAGER, "P-EAST"),
            "west_bim": (Role.BIM_COORDINATOR, "P-WEST"),
        }
        for username, (role, node) in users.items():
            create_user(session, username=username, password=PASSWORD, role=role, node_code=node)
    return World(
        nodes=nodes, users={role.value: name for name, (role, _) in users.items() if name != "west_bim"}
    )


def _read_world(runtime) -> World:
    """The node ids of an organisation seeded earlier."""
    everything = Principal(0, "test", None, Role.ADMIN, 0, "/")
    with runtime.sessions() as session:
        nodes = {node.code: node.id for node in orgs.list_nodes(session, everything)}
    return World(nodes=nodes, users={})


def make_settings(tmp: Path, database_url: str, **overrides) -> Settings:
    values = {
        "data_dir": tmp / "data",
        "database_url": database_url,
        "queue": "immediate",
        "secret_key": SECRET,
        "geometry_workers": 0,  # small test models: forking workers costs more than it saves
        "login_max_failures": 1000,
        "cache_seconds": 0,  # tests change roles and nodes and expect it at once
    }
    return Settings(**(values | overrides))


@contextlib.contextmanager
def running_api(backend: str, tmp: Path, *, seed: bool = True, **overrides) -> Iterator[Api]:
    """A running API on a fresh database (or on ``database_url=`` of an earlier one, with
    ``seed=False``)."""
    with contextlib.ExitStack() as stack:
        url = overrides.pop("database_url", None) or stack.enter_context(temporary_database(backend, tmp))
        settings = make_settings(tmp, url, **overrides)
        runtime = build_runtime(settings)
        app = create_app(settings, runtime=runtime)
        world = seed_world(runtime) if seed else _read_world(runtime)
        api = Api(app, runtime, world, backend, tmp)
        try:
            yield api
        finally:
            api.client.close()
            runtime.close()


@pytest.fixture(scope="module", params=BACKENDS)
def api(request, tmp_path_factory) -> Iterator[Api]:
    """A running API with the seeded organisation, on SQLite and on PostgreSQL."""
    with running_api(request.param, tmp_path_factory.mktemp(f"api-{request.param}")) as running:
        yield running


@pytest.fixture(scope="module")
def small_ifc(tmp_path_factory) -> Path:
    """Two walls on one storey, built with ``ifcopenshell.api``."""
    model = tiny_model(project_name="Small")
    add_wall(model, "W1")
    add_wall(model, "W2", at_m=(0.0, 4.0, 0.0))
    return model.write(tmp_path_factory.mktemp("ifc") / "small.ifc")


@contextlib.contextmanager
def live_server(env: dict[str, str], cwd: Path, log: Path) -> Iterator[str]:
    """A real ``twin serve`` process on a free loopback port; yields its base URL once
    ``/api/health`` answers, and stops it afterwards."""
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    twin = Path(sys.executable).with_name("twin")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(twin), "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(30)
