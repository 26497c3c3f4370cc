"""Separate ``twin worker`` processes on the Redis queue, and one killed mid-job.

The killed worker's job is handed back by the lease reaper of the next worker, retried,
and finishes; at no moment is a half-processed revision readable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sample_models.generate import write_building
from tests.twin_server.conftest import (
    BACKENDS,
    REDIS_URL,
    SECRET,
    Api,
    missing_service,
    seed_world,
    temporary_database,
)
from twin_server.config import Settings
from twin_server.db.orm import ElementRow
from twin_server.main import create_app
from twin_server.runtime import build_runtime

pytestmark = pytest.mark.redis
TWIN = Path(sys.executable).with_name("twin")


@pytest.fixture(scope="module")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [str(TWIN), "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killing it kills its geometry workers too
        )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(30)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_worker_s_job_is_retried_and_never_half_visible(backend, redis_url, tmp_path) -> None:
    ifc = write_building(tmp_path / "building.ifc", storeys=8, bays_x=6, bays_y=3)
    with temporary_database(backend, tmp_path) as database_url:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            queue="redis",
            redis_url=redis_url,
            queue_name=f"twin-test-{uuid.uuid4().hex[:8]}",
            secret_key=SECRET,
            job_lease_seconds=2.0,
            geometry_workers=1,
            cache_seconds=0,
        )
        runtime = build_runtime(settings)
        app = create_app(settings, runtime=runtime)
        api = Api(app, runtime, seed_world(runtime), backend, tmp_path)
        env = os.environ | {
            "TWIN_DATA_DIR": str(settings.data_dir),
            "TWIN_DATABASE_URL": database_url,
            "TWIN_QUEUE": "redis",
            "TWIN_REDIS_URL": redis_url,
            "TWIN_QUEUE_NAME": settings.queue_name,
            "TWIN_SECRET_KEY": SECRET,
            "TWIN_JOB_LEASE_SECONDS": "2",
            "TWIN_GEOMETRY_WORKERS": "1",
        }
        env.pop("TWIN_DEVELOPMENT", None)
        log = tmp_path / "workers.log"
        workers: list[subprocess.Popen] = []
        try:
            model = api.create_model("P-EAST", "crash")
            uploaded = api.upload("P-EAST", model["id"], ifc)
            assert uploaded.status_code == 202
            revision = uploaded.json()
            assert revision["processing"] == "queued"  # nothing consumes it yet
            url = f"/api/projects/{api.node('P-EAST')}/revisions/{revision['id']}"

            def observe() -> dict:
                """The revision as a reader sees it, checking that nothing half-done shows.

                The state is read last: if it is not ``succeeded`` then, it was not when the
                elements and rows were looked at either (processing never goes back).
                """
                elements = api.as_user("inspector", "GET", f"{url}/elements")
                with runtime.sessions() as session:
                    rows = session.execute(
                        select(func.count()).where(ElementRow.revision_id == revision["id"])
                    ).scalar_one()
                state = api.as_user("inspector", "GET", url).json()
                if state["processing"] != "succeeded":
                    assert (elements.status_code, elements.json()["error"]) == (409, "not_processed")
                    assert rows == 0, "element rows of an unfinished revision are visible"
                    assert state["glb_url"] is None
                return state

            workers.append(start_worker(env, log))
            deadline = time.monotonic() + 120
            while (state := observe())["processing"] != "running":
                assert time.monotonic() < deadline, log.read_text()
                assert state["processing"] == "queued", state
                time.sleep(0.05)
            time.sleep(1.0)  # into the pipeline, well before it can finish
            stop(workers[0], signal.SIGKILL)
            killed_at = observe()
            assert killed_at["processing"] == "running" and killed_at["attempts"] == 1

            workers.append(start_worker(env, log))
            deadline = time.monotonic() + 180
            progress: list[tuple[str, float]] = []
            while (state := observe())["processing"] != "succeeded":
                assert state["processing"] != "failed", state["failure_reason"]
                assert time.monotonic() < deadline, log.read_text()
                if state["processing"] == "running" and state["attempts"] == 2:
                    progress.append((state["stage"], state["progress_pct"]))
                time.sleep(0.1)
            assert state["attempts"] == 2
            # The retry reported its stages and a percentage that only grows.
            stages = {stage for stage, _ in progress}
            assert stages & {"open", "elements", "geometry", "glb", "write", "import"}, progress
            assert stages <= {"starting", "open", "elements", "geometry", "glb", "write", "import"}
            percentages = [pct for _, pct in progress]
            assert percentages == sorted(percentages) and all(0 <= p < 100 for p in percentages)
            assert state["summary"]["element_count"] > 0
            listed = api.as_user("inspector", "GET", f"{url}/elements", params={"page_size": 1})
            assert listed.json()["total"] == state["summary"]["element_count"]
            assert api.as_user("inspector", "GET", state["glb_url"]).status_code == 200
        finally:
            for worker in workers:
                stop(worker)
            runtime.queue.huey.flush()
            api.client.close()
            runtime.close()
