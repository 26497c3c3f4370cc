"""API benchmark: element detail and element list under wrk, against /api/health, same server, same run.

A generated sample building is seeded in this process (demo portfolio, ``immediate``
queue, so the revision is processed before the server starts), then ``twin serve`` runs
with ``--workers 2`` (``--server-workers``) on a free loopback port and ``wrk`` loads it over keep-alive
connections. Each endpoint gets a short warm-up run, then a measured run:

* ``health``: ``GET /api/health``, no credentials, one ``SELECT 1``. The baseline: what
  the same server pays for a request through the same middleware, routing and session
  handling on this machine, this minute. Track detail / health, not absolute figures.
* ``element_detail``: ``GET /api/projects/{p}/revisions/{r}/elements/{GlobalId}`` with a
  bearer token, a random GlobalId of the revision per request (wrk Lua script).
* ``element_list``: ``GET .../elements?ifc_class=IfcWall&page_size=50&page=N``, a random
  page of the walls per request.

wrk and the server share the machine's cores (a loopback load generator), so figures are
lower than a server alone on those cores would reach. The server's CPU time per request
(all workers, from /proc) is reported too: it drifts less than requests/s. A run in which
one worker got (almost) all of wrk's connections is repeated (see ``measure``). Exits
non-zero if more than 1% of any run's requests fail (non-2xx/3xx, or wrk socket errors).

    python benchmarks/api.py                              # 15 s per endpoint, 16 connections
    python benchmarks/api.py --duration 30 --connections 32 --markdown
    python benchmarks/api.py --storeys 12 --bays-x 8 --bays-y 4   # a larger building

Prints one JSON object; ``--markdown`` also prints a section for docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin_server.config import Settings  # noqa: E402
from twin_server.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from twin_server.runtime import build_runtime  # noqa: E402

# Target from the issue: element detail on 2 cores.
TARGET_DETAIL_RPS = 1000.0
TARGET_DETAIL_P99_MS = 50.0
MAX_ERROR_RATE = 0.01
PROJECT_CODE = "SH-PD-01"
POSTGRES_ADMIN_URL = os.environ.get(
    "TWIN_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
USERNAME = "bim"
LIST_CLASS = "IfcWall"
LIST_PAGE_SIZE = 50
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A run in which one server worker did less than this share of the work is repeated (see
# ``measure``).
MIN_WORKER_SHARE = 0.25
_SIZE = re.compile(r"^([\d.]+)(us|ms|s|m|h)$")


class BenchmarkError(Exception):
    """Something went wrong that makes the figures meaningless; reported in one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_building(out: Path, *, storeys: int, bays_x: int, bays_y: int) -> Path:
    path = out / "sample-building.ifc"
    command = [sys.executable, "-m", "sample_models", str(path)]
    command += ["--storeys", str(storeys), "--bays-x", str(bays_x), "--bays-y", str(bays_y)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BenchmarkError(f"sample_models failed: {completed.stderr.strip()[-500:]}")
    return path


@contextlib.contextmanager
def temporary_postgres():
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"twin_bench_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(data_dir: Path, sample: Path, database_url: str | None) -> None:
    """Demo portfolio plus the sample revision, processed synchronously (immediate queue)."""
    runtime = build_runtime(
        Settings(development=True, data_dir=data_dir, queue="immediate", database_url=database_url)
    )
    try:
        seed_demo(runtime, sample_ifc=sample)
    finally:
        runtime.close()


class Server:
    """``twin serve`` in its own process group; stopped (group-wide) by ``stop``."""

    def __init__(self, data_dir: Path, *, workers: int, port: int, database_url: str | None) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = data_dir / "server.log"
        env = os.environ | {
            "TWIN_DEVELOPMENT": "1",
            "TWIN_DATA_DIR": str(data_dir),
            "TWIN_QUEUE": "embedded",
        }
        if database_url:
            env["TWIN_DATABASE_URL"] = database_url
        twin = Path(sys.executable).with_name("twin")
        command = [str(twin)] if twin.exists() else [sys.executable, "-m", "twin_server.cli"]
        command += ["serve", "--port", str(port), "--workers", str(workers), "--log-level", "WARNING"]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=data_dir,  # keep any .env of the caller's working directory out of it
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkError(f"the server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise BenchmarkError(f"the server did not answer /api/health within {timeout_s:.0f} s")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes: children of the supervisor, except multiprocessing's
        resource tracker."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        workers = []
        for child in children:
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in command:
                workers.append(int(child))
        return workers

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU seconds used so far by each worker."""
        used = {}
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            used[pid] = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime
        return used

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self._log.close()


def discover(client: httpx.Client, *, revision_timeout_s: float = 600.0) -> dict:
    """Token, project, revision (waiting for ``succeeded``) and every GlobalId of it."""
    response = client.post("/api/auth/token", data={"username": USERNAME, "password": DEMO_PASSWORD})
    _expect(response, "log-in")
    token = response.json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"

    projects = _expect(client.get("/api/projects"), "project list").json()
    project_id = next((p["id"] for p in projects if p["code"] == PROJECT_CODE), None)
    if project_id is None:
        raise BenchmarkError(f"project {PROJECT_CODE} is not visible to {USERNAME}")
    models = _expect(client.get(f"/api/projects/{project_id}/models"), "model list").json()
    if not models:
        raise BenchmarkError(f"project {PROJECT_CODE} has no model")
    model_id = models[0]["id"]
    deadline = time.monotonic() + revision_timeout_s
    while True:
        revisions = _expect(
            client.get(f"/api/projects/{project_id}/models/{model_id}/revisions"), "revision list"
        ).json()
        if not revisions:
            raise BenchmarkError("the demo model has no revision")
        revision = min(revisions, key=lambda r: r["id"])  # the first one
        if revision["processing"] == "succeeded":
            break
        if revision["processing"] == "failed":
            raise BenchmarkError(f"processing the sample failed: {revision['failure_reason']}")
        if time.monotonic() > deadline:
            raise BenchmarkError(f"revision still {revision['processing']} after {revision_timeout_s:.0f} s")
        time.sleep(0.5)
    revision_id = revision["id"]

    elements_url = f"/api/projects/{project_id}/revisions/{revision_id}/elements"
    global_ids: list[str] = []
    total, page = None, 1
    while total is None or len(global_ids) < total:
        body = _expect(
            client.get(elements_url, params={"page_size": 1000, "page": page}), "element list"
        ).json()
        global_ids += [item["global_id"] for item in body["items"]]
        total = body["total"]
        if not body["items"]:
            break
        page += 1
    if len(global_ids) != total:
        raise BenchmarkError(f"listed {len(global_ids)} elements but the total says {total}")
    walls = _expect(
        client.get(elements_url, params={"ifc_class": LIST_CLASS, "page_size": 1}), "wall count"
    ).json()["total"]
    if not global_ids or not walls:
        raise BenchmarkError(f"the revision has {len(global_ids)} elements and {walls} {LIST_CLASS}")
    return {
        "token": token,
        "project_id": project_id,
        "revision_id": revision_id,
        "elements_url": elements_url,
        "global_ids": global_ids,
        "walls": walls,
    }


def _expect(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code != 200:
        raise BenchmarkError(
            f"{what}: {response.request.method} {response.request.url.path} → "
            f"{response.status_code} {response.text[:300]}"
        )
    return response


def lua_script(path: Path, *, token: str | None, paths: list[str]) -> Path:
    """A wrk script sending each request to a random one of ``paths``."""
    items = ",\n".join(json.dumps(p) for p in paths)  # JSON strings are valid Lua strings here
    header = f'wrk.headers["Authorization"] = {json.dumps("Bearer " + token)}\n' if token else ""
    path.write_text(
        f"{header}"
        f"local paths = {{\n{items}\n}}\n"
        "local n = #paths\n"
        "local counter = 0\n"
        "function setup(thread)\n"
        "  counter = counter + 1\n"
        '  thread:set("seed", counter)\n'
        "end\n"
        "function init(args)\n"
        "  math.randomseed(os.time() * 1000 + seed)\n"
        "end\n"
        "function request()\n"
        "  return wrk.format(nil, paths[math.random(n)])\n"
        "end\n"
    )
    return path


def to_ms(text: str) -> float:
    match = _SIZE.match(text)
    if not match:
        raise BenchmarkError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict:
    def number(pattern: str, default: float | None = None) -> float:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            if default is not None:
                return default
            raise BenchmarkError(f"wrk output without {pattern!r}:\n{output}")
        return float(match.group(1))

    latency = dict(re.findall(r"^\s+(50|75|90|99)(?:\.000)?%\s+(\S+)\s*$", output, re.MULTILINE))
    if not {"50", "99"} <= latency.keys():
        raise BenchmarkError(f"wrk output without a latency distribution:\n{output}")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, socket_errors.groups()), strict=True))
        if socket_errors
        else {}
    )
    return {
        "requests": int(number(r"^\s*(\d+) requests in")),
        "requests_per_s": round(number(r"^Requests/sec:\s+([\d.]+)"), 1),
        "p50_ms": round(to_ms(latency["50"]), 2),
        "p75_ms": round(to_ms(latency["75"]), 2),
        "p90_ms": round(to_ms(latency["90"]), 2),
        "p99_ms": round(to_ms(latency["99"]), 2),
        "non_2xx": int(number(r"Non-2xx or 3xx responses:\s+(\d+)", 0)),
        "socket_errors": errors,
    }


def run_wrk(url: str, script: Path, *, threads: int, connections: int, duration_s: int) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BenchmarkError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()[-500:]}")
    return parse_wrk(completed.stdout)


def measure(server: Server, script: Path, args: argparse.Namespace) -> dict:
    """One measured wrk run, with the server's CPU time per request and its split over workers.

    uvicorn's workers share one listening socket, and wrk opens all its connections at the
    start and keeps them: whichever worker wakes first may accept all of them, leaving the
    others idle for the whole run. Such a run measures one worker, not ``--server-workers``;
    it is repeated, up to ``--attempts`` times in all.
    """
    options = {"threads": args.threads, "connections": args.connections, "duration_s": args.duration}
    for attempt in range(1, args.attempts + 1):
        before = server.cpu_seconds()
        run = run_wrk(server.base, script, **options)
        after = server.cpu_seconds()
        used = [after[pid] - before.get(pid, 0.0) for pid in after]
        total = sum(used)
        shares = sorted((round(u / total, 2) for u in used), reverse=True) if total > 0 else []
        run["server_cpu_ms_per_request"] = round(1000 * total / max(run["requests"], 1), 3)
        run["worker_cpu_share"] = shares
        run["attempts"] = attempt
        if len(shares) < 2 or min(shares) >= MIN_WORKER_SHARE:
            break
        print(
            f"{script.stem}: unbalanced workers {shares}, run {attempt} of {args.attempts}", file=sys.stderr
        )
    return run


def bench(args: argparse.Namespace) -> dict:
    if shutil.which("wrk") is None:
        raise BenchmarkError("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    server = None
    stack = contextlib.ExitStack()
    try:
        started = time.perf_counter()
        sample = make_building(tmp, storeys=args.storeys, bays_x=args.bays_x, bays_y=args.bays_y)
        data_dir = tmp / "data"
        data_dir.mkdir()
        database_url = stack.enter_context(temporary_postgres()) if args.postgres else None
        seed(data_dir, sample, database_url)
        seed_s = time.perf_counter() - started
        print(f"seeded the sample building in {seed_s:.1f} s", file=sys.stderr)

        server = Server(
            data_dir, workers=args.server_workers, port=args.port or free_port(), database_url=database_url
        )
        server.wait_ready()
        with httpx.Client(base_url=server.base, timeout=30) as client:
            found = discover(client)
        print(
            f"server pid {server.process.pid}, workers {server.worker_pids()}; "
            f"{len(found['global_ids'])} elements, {found['walls']} {LIST_CLASS}",
            file=sys.stderr,
        )

        detail_paths = [f"{found['elements_url']}/{quote(g, safe='')}" for g in found["global_ids"]]
        pages = max(1, math.ceil(found["walls"] / LIST_PAGE_SIZE))
        list_paths = [
            f"{found['elements_url']}?ifc_class={LIST_CLASS}&page_size={LIST_PAGE_SIZE}&page={page}"
            for page in range(1, pages + 1)
        ]
        scripts = {
            "health": lua_script(tmp / "health.lua", token=None, paths=["/api/health"]),
            "element_detail": lua_script(tmp / "detail.lua", token=found["token"], paths=detail_paths),
            "element_list": lua_script(tmp / "list.lua", token=found["token"], paths=list_paths),
        }
        endpoints = {}
        for name, script in scripts.items():
            if args.warmup > 0:
                run_wrk(
                    server.base,
                    script,
                    threads=args.threads,
                    connections=args.connections,
                    duration_s=args.warmup,
                )
            endpoints[name] = measure(server, script, args)
            print(f"{name}: {json.dumps(endpoints[name])}", file=sys.stderr)
            if server.process.poll() is not None:
                raise BenchmarkError(f"the server died during {name}: {server.log_tail()}")
        log_tail = server.log_tail(3000)
    finally:
        if server is not None:
            server.stop()
        stack.close()
        shutil.rmtree(tmp, ignore_errors=True)

    health_rps = endpoints["health"]["requests_per_s"]
    for result in endpoints.values():
        result["vs_health"] = round(result["requests_per_s"] / health_rps, 3) if health_rps else None
    detail = endpoints["element_detail"]
    result = {
        "elements": len(found["global_ids"]),
        "walls": found["walls"],
        "building": {"storeys": args.storeys, "bays_x": args.bays_x, "bays_y": args.bays_y},
        "server_workers": args.server_workers,
        "database": "PostgreSQL" if args.postgres else "SQLite",
        "cpu_count": os.cpu_count(),
        "wrk": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration},
        "warmup_s": args.warmup,
        "seed_seconds": round(seed_s, 1),
        "endpoints": endpoints,
        "list_page_size": LIST_PAGE_SIZE,
        "targets": {
            f"detail>={TARGET_DETAIL_RPS:.0f}req/s": detail["requests_per_s"] >= TARGET_DETAIL_RPS,
            f"detail_p99<={TARGET_DETAIL_P99_MS:.0f}ms": detail["p99_ms"] <= TARGET_DETAIL_P99_MS,
        },
    }
    result["targets"]["met"] = all(result["targets"].values())
    bad = {name: error_rate(r) for name, r in endpoints.items() if error_rate(r) > MAX_ERROR_RATE}
    if bad:
        result["errors"] = {name: round(rate, 4) for name, rate in bad.items()}
        result["server_log_tail"] = log_tail
    return result


def error_rate(run: dict) -> float:
    failed = run["non_2xx"] + sum(run["socket_errors"].values())
    return failed / max(run["requests"], 1)


def markdown(r: dict) -> str:
    labels = {
        "health": "`GET /api/health` (baseline)",
        "element_detail": "`GET …/revisions/{r}/elements/{GlobalId}` (random element)",
        "element_list": f"`GET …/elements?ifc_class={LIST_CLASS}&page_size={LIST_PAGE_SIZE}&page=N` "
        "(random page)",
    }
    wrk = r["wrk"]
    lines = [
        f"## API (`benchmarks/api.py`, {r['database']})",
        "",
        "```bash",
        ".venv/bin/python benchmarks/api.py --markdown"
        + (" --postgres" if r["database"] == "PostgreSQL" else ""),
        "```",
        "",
        f"`twin serve --workers {r['server_workers']}` ({r['database']}, embedded queue) "
        f"on {r['cpu_count']} cores, "
        f"loaded by `wrk -t{wrk['threads']} -c{wrk['connections']} -d{wrk['duration_s']}s` over loopback "
        f"on the same cores, after a {r['warmup_s']} s warm-up per endpoint. Sample building of "
        f"{r['elements']:,} elements ({r['building']['storeys']} storeys, "
        f"{r['building']['bays_x']}×{r['building']['bays_y']} bays), bearer token of a project-level user. "
        "The baseline is `/api/health` on the same server in the same run.",
        "",
        "| endpoint | req/s | vs health | p50 ms | p99 ms | server CPU ms / request | non-2xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in r["endpoints"].items():
        cells = [
            labels[name],
            f"{e['requests_per_s']:,.0f}",
            f"{e['vs_health']:.2f}",
            f"{e['p50_ms']:.1f}",
            f"{e['p99_ms']:.1f}",
            f"{e['server_cpu_ms_per_request']:.2f}",
            f"{e['non_2xx']:,} of {e['requests']:,}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    d = r["endpoints"]["element_detail"]
    rps_ok = d["requests_per_s"] >= TARGET_DETAIL_RPS
    p99_ok = d["p99_ms"] <= TARGET_DETAIL_P99_MS
    lines += [
        "",
        "| target (2 cores) | measured | |",
        "|---|---|---|",
        f"| element detail ≥ {TARGET_DETAIL_RPS:,.0f} req/s | {d['requests_per_s']:,.0f} | "
        f"{'met' if rps_ok else '**not met**'} |",
        f"| element detail p99 ≤ {TARGET_DETAIL_P99_MS:.0f} ms | {d['p99_ms']:.1f} ms | "
        f"{'met' if p99_ok else '**not met**'} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds of each measured wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of the warm-up run before each")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--server-workers", type=int, default=2, help="twin serve --workers")
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="runs of an endpoint at most, while a server worker does less than "
        f"{MIN_WORKER_SHARE * 100:.0f}%% of the work",
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--storeys", type=int, default=6, help="storeys of the sample building")
    parser.add_argument("--bays-x", type=int, default=5, help="bays along X of the sample building")
    parser.add_argument("--bays-y", type=int, default=3, help="bays along Y of the sample building")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="use a fresh database on the local PostgreSQL instead of SQLite",
    )
    parser.add_argument("--markdown", action="store_true", help="also print a docs/performance.md section")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")

    # A terminated benchmark still stops its server and removes its files (``finally``).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        result = bench(args)
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    if args.markdown:
        print(markdown(result))
    if "errors" in result:
        print(
            f"error: more than {MAX_ERROR_RATE:.0%} of the responses failed: {result['errors']}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
