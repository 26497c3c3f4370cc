"""Sensor ingest benchmark: readings through ``services.sensors.ingest_readings`` against the
bare cost of storing the same rows, in one process, on a fresh database.

A project with ``--points`` monitor points (excavation displacement, scenario 15's thresholds
and a 10-minute persistence window) receives ``--minutes`` readings per point:

* ``batch_first``: all of them in one batch (an HTTP upload of a day's CSV): parse, dedupe,
  upsert, minute and hour aggregates, every point evaluated, alerts reconciled;
* ``batch_again``: the same batch again — idempotent, nothing new is written;
* ``stream``: the next ``--stream`` minutes one reading per point per call (what the MQTT
  bridge does when devices report every minute);
* baselines in the same run: ``parse_readings_json`` alone on the batch's JSON, and a plain
  SQLAlchemy Core ``INSERT`` of the same rows into ``sensor_readings`` (storage alone).

    python benchmarks/sensors.py                 # SQLite
    python benchmarks/sensors.py --postgres --markdown

Prints one JSON object; ``--markdown`` also prints a section for docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api import temporary_postgres  # noqa: E402
from twin_server.config import Settings  # noqa: E402
from twin_server.db.orm import MonitorPointRow, SensorReadingRow  # noqa: E402
from twin_server.domain.access import NodeKind  # noqa: E402
from twin_server.domain.sensors import parse_readings_json  # noqa: E402
from twin_server.runtime import build_runtime  # noqa: E402
from twin_server.services import orgs, sensors  # noqa: E402
from twin_server.services.access import NodeRef  # noqa: E402


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def _payload(codes: list[str], start: dt.datetime, minutes: int) -> list[dict]:
    """Readings every minute: a slow drift with a daily cycle; the first point held at 33 mm
    for the last 20 minutes (one 报警 opened by the batch)."""
    items = []
    for m in range(minutes):
        ts = (start + dt.timedelta(minutes=m)).isoformat()
        for i, code in enumerate(codes):
            value = 8 + 4 * math.sin(2 * math.pi * m / 1440 + i) + 0.002 * m
            if i == 0 and m >= minutes - 20:
                value = 33.0  # held past the persistence window at the end: one 报警
            items.append({"point": code, "ts": ts, "value": round(value, 3)})
    return items


def bench(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-sensors-"))
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(temporary_postgres()) if args.postgres else None
        settings = Settings(development=True, data_dir=tmp / "data", queue="immediate", database_url=url)
        runtime = build_runtime(settings)
        stack.callback(runtime.close)
        with runtime.sessions() as session:
            hq = orgs.create_node(session, kind=NodeKind.HQ, code="HQ", name="总部", parent_id=None)
            region = orgs.create_node(session, kind=NodeKind.REGION, code="R", name="区域", parent_id=hq.id)
            session.commit()
            project = orgs.create_project(
                session, region=NodeRef(region.id, region.kind, region.path), code="P", name="基坑监测"
            ).id
            device = sensors.register_device(
                session, project_id=project, code="DEV", device_type="excavation"
            )
            codes = [f"DX-{i:03d}" for i in range(args.points)]
            for code in codes:
                sensors.register_point(
                    session,
                    project_id=project,
                    device_id=device.id,
                    code=code,
                    metric="displacement",
                    thresholds={"warn_upper": 20, "alarm_upper": 30, "control_upper": 40},
                    persist_s=600,
                )
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        start = now - dt.timedelta(minutes=args.minutes + args.stream)
        batch = _payload(codes, start, args.minutes)
        text = json.dumps(batch)
        parse_s, (parsed, rejected) = timed(parse_readings_json, json.loads(text), now=now)
        assert not rejected, rejected[:3]

        def ingest(readings):
            with runtime.sessions() as session:
                return sensors.ingest_readings(
                    session, project_id=project, readings=readings, now=now, source="benchmark"
                )

        first_s, first = timed(ingest, parsed)
        again_s, again = timed(ingest, parsed)
        stream = _payload(codes, start + dt.timedelta(minutes=args.minutes), args.stream)
        stream_parsed, _ = parse_readings_json(stream, now=now)
        calls = [stream_parsed[k : k + args.points] for k in range(0, len(stream_parsed), args.points)]
        stream_s = 0.0
        for call in calls:
            seconds, _ = timed(ingest, call)
            stream_s += seconds

        # Baseline: the same rows written with one plain INSERT, after clearing them.
        with runtime.sessions() as session:
            ids = dict(session.execute(select(MonitorPointRow.code, MonitorPointRow.id)).all())
            session.execute(delete(SensorReadingRow))
            session.commit()
            rows = [
                {"point_id": ids[r.point], "ts": r.ts, "value": r.value, "quality": r.quality} for r in parsed
            ]
            started = time.perf_counter()
            session.execute(insert(SensorReadingRow), rows)
            session.commit()
            baseline_s = time.perf_counter() - started
    n = len(parsed)
    return {
        "database": "PostgreSQL" if args.postgres else "SQLite",
        "cpu_count": os.cpu_count(),
        "points": args.points,
        "readings": n,
        "stream_calls": len(calls),
        "parse_s": round(parse_s, 3),
        "batch_first_s": round(first_s, 3),
        "batch_first_per_s": round(n / first_s),
        "batch_again_s": round(again_s, 3),
        "stream_s": round(stream_s, 3),
        "stream_ms_per_call": round(1000 * stream_s / max(len(calls), 1), 2),
        "baseline_plain_insert_s": round(baseline_s, 3),
        "first_vs_plain_insert": round(first_s / baseline_s, 1),
        "first_report": _counts(first),
        "again_report": _counts(again),
    }


def _counts(report) -> dict[str, int]:
    return {f.name: getattr(report, f.name) for f in dataclasses.fields(report) if f.type == "int"}


def markdown(r: dict) -> str:
    n, again = r["readings"], r["again_report"].get("duplicates", 0)
    setup = (
        f"{r['points']} displacement points (10-minute persistence), {n:,} readings in one batch, "
        f"then {r['stream_calls']} calls of one reading per point; {r['cpu_count']} cores, {r['database']}."
    )
    rows = [
        ("parse the batch's JSON (`parse_readings_json`, baseline)", r["parse_s"], ""),
        ("plain INSERT of the same rows (baseline: storage alone)", r["baseline_plain_insert_s"], ""),
        (
            "`ingest_readings`, the batch",
            r["batch_first_s"],
            f"{r['batch_first_per_s']:,} readings/s, {r['first_vs_plain_insert']}× the plain insert "
            "(upsert, aggregates, every point evaluated, alerts)",
        ),
        ("the same batch again", r["batch_again_s"], f"{again:,} duplicates, nothing written"),
        (
            "streaming: one reading per point per call",
            r["stream_s"],
            f"{r['stream_ms_per_call']} ms per call",
        ),
    ]
    lines = [f"## Sensor ingest (`benchmarks/sensors.py`, {r['database']})", "", "```bash"]
    lines += [".venv/bin/python benchmarks/sensors.py --markdown", "```", "", setup, ""]
    lines += ["| step | seconds | note |", "|---|---|---|"]
    lines += [f"| {step} | {seconds:.2f} | {note} |" for step, seconds, note in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--minutes", type=int, default=1440, help="readings per point in the batch")
    parser.add_argument("--stream", type=int, default=60, help="minutes streamed after the batch")
    parser.add_argument("--postgres", action="store_true", help="a fresh database on the local PostgreSQL")
    parser.add_argument("--markdown", action="store_true", help="also print a docs/performance.md section")
    args = parser.parse_args(argv)
    result = bench(args)
    print(json.dumps(result))
    if args.markdown:
        print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
