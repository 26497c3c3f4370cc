"""4D benchmark: the status engine and the binary payload, in Python and in the browser code.

A random but realistic schedule (default 100,000 elements, ~2,000 tasks over two years,
~1.2 task links per element, a few "installed" marks, the project about half done on the
day looked at). Measured in this process: ``element_dates``, ``element_status`` at a day
(median of ``--runs`` runs, target ≤ 20 ms for 100k), ``task_delay_days``, ``encode_fourd``
(bytes, target ≤ 2 MB for 100k; gzip and brotli sizes), ``decode_fourd``, the JSON twin's
size. In Node (``viewer/js/tools/check-status.mjs --bench``): ``decodeFourD`` and
``elementStatus`` (median of ``--node-runs`` runs on days around the day, as when
scrubbing the timeline).

Baseline, in the same run and over the same arrays: one bare comparison of one column
(``actual_finish <= day``), the least any per-element status computation costs; the
engine/baseline ratio is reported for Python and for Node.

    python benchmarks/fourd.py
    python benchmarks/fourd.py --elements 1000000 --markdown

Prints one JSON object; ``--markdown`` also prints a table row for docs/performance.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin_server.domain.fourd import (  # noqa: E402
    ElementDates,
    TaskDates,
    element_dates,
    element_status,
    task_delay_days,
)
from twin_server.domain.fourd_payload import decode_fourd, encode_fourd, fourd_json  # noqa: E402

NODE_TOOL = ROOT / "viewer" / "js" / "tools" / "check-status.mjs"
START = 19_800  # 2024-03-18: the project's first planned day
DAY = START + 365  # the day looked at: about half way
# Targets (100k elements).
TARGET_IMPORT_MS = 1000.0  # Schependomlaan XML, from the issue
TARGET_STATUS_MS = 20.0
TARGET_PAYLOAD_BYTES = 2_000_000


def schedule(
    elements: int, tasks: int, seed: int
) -> tuple[TaskDates, tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Tasks over two years; every element in one task, 20 % in a second; 1 % marked installed."""
    rng = np.random.default_rng(seed)
    planned_start = START + np.sort(rng.integers(0, 700, tasks)).astype(np.float64)
    duration = rng.integers(0, 40, tasks).astype(np.float64)
    duration[rng.random(tasks) < 0.03] = 0  # milestones
    planned_finish = planned_start + duration
    # Most tasks keep their baseline; some slipped (re-planned later) or were pulled in; some have none.
    shift = np.where(rng.random(tasks) < 0.3, rng.integers(-5, 15, tasks), 0)
    baseline_finish = planned_finish - shift
    baseline_finish[rng.random(tasks) < 0.1] = np.nan
    # Actuals up to DAY: tasks that should have started mostly have, with some jitter.
    actual_start = planned_start + rng.integers(-3, 8, tasks)
    actual_start[(actual_start > DAY) | (rng.random(tasks) < 0.05)] = np.nan
    actual_finish = actual_start + duration + rng.integers(-2, 10, tasks)
    actual_finish[np.isnan(actual_start) | (actual_finish > DAY)] = np.nan
    task_dates = TaskDates(
        planned_start=planned_start,
        planned_finish=planned_finish,
        baseline_start=np.full(tasks, np.nan),
        baseline_finish=baseline_finish,
        actual_start=actual_start,
        actual_finish=actual_finish,
        is_critical=rng.random(tasks) < 0.2,
        is_milestone=duration == 0,
        total_float_days=rng.integers(0, 10, tasks).astype(np.float64),
    ).with_plan_as_baseline()
    # Elements come in blocks per task (as a model is built storey by storey), ~5 % in none.
    first = np.sort(rng.integers(0, tasks, elements))
    linked = rng.random(elements) >= 0.05
    second = rng.random(elements) < 0.2
    element_index = np.concatenate([np.arange(elements)[linked], np.arange(elements)[linked & second]])
    task_index = np.concatenate(
        [
            first[linked],
            np.minimum(first[linked & second] + rng.integers(1, 20, (linked & second).sum()), tasks - 1),
        ]
    )
    installed = np.full(elements, np.nan)
    marked = rng.random(elements) < 0.01
    installed[marked] = DAY - rng.integers(0, 60, marked.sum())
    return task_dates, (element_index, task_index), installed


def median_ms(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3), result


def node_bench(payload: bytes, runs: int) -> dict | None:
    if shutil.which("node") is None:
        return None
    with tempfile.TemporaryDirectory(prefix="bench-4d-") as folder:
        path = Path(folder) / "payload.e4d"
        path.write_bytes(payload)
        completed = subprocess.run(
            ["node", str(NODE_TOOL), "--bench", str(path), str(DAY), str(runs)],
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        raise SystemExit(f"node benchmark failed: {completed.stderr[-1000:]}")
    return json.loads(completed.stdout)


def bench(elements: int, tasks: int, runs: int, node_runs: int, seed: int) -> dict:
    task_dates, links, installed = schedule(elements, tasks, seed)
    dates_ms, dates = median_ms(
        lambda: element_dates(task_dates, elements, links, installed_day=installed), max(3, runs // 10)
    )
    assert isinstance(dates, ElementDates)
    # Alternate engine and baseline runs so drifts of a shared machine hit both alike.
    status_runs, baseline_runs = [], []
    for r in range(runs):
        day = float(DAY - 30 + r % 61)
        ms, _ = median_ms(lambda day=day: element_status(dates, day), 1)
        status_runs.append(ms)
        ms, _ = median_ms(lambda day=day: dates.actual_finish <= day, 1)
        baseline_runs.append(ms)
    status_ms = statistics.median(status_runs)
    baseline_ms = statistics.median(baseline_runs)
    delay_ms, _ = median_ms(lambda: task_delay_days(task_dates, DAY), runs)
    encode_ms, payload = median_ms(lambda: encode_fourd(dates, task_count=tasks), max(5, runs // 5))
    decode_ms, _ = median_ms(lambda: decode_fourd(payload), max(5, runs // 5))
    json_bytes = len(json.dumps(fourd_json(dates, task_count=tasks), separators=(",", ":")).encode())
    counts = np.bincount(element_status(dates, DAY), minlength=6).tolist()
    node = node_bench(payload, node_runs)
    result = {
        "elements": elements,
        "tasks": tasks,
        "links": len(links[0]),
        "day": DAY,
        "status_counts": dict(
            zip(["no_task", "not_started", "in_progress", "done", "late", "ahead"], counts, strict=True)
        ),
        "python": {
            "element_dates_ms": dates_ms,
            "element_status_ms": round(status_ms, 3),
            "baseline_compare_ms": round(baseline_ms, 3),
            "ratio": round(status_ms / baseline_ms, 2),
            "task_delay_days_ms": delay_ms,
            "encode_ms": encode_ms,
            "decode_ms": decode_ms,
            "runs": runs,
        },
        "payload": {
            "bytes": len(payload),
            "gzip_bytes": len(gzip.compress(payload, compresslevel=6)),
            "brotli_bytes": _brotli_size(payload),
            "json_bytes": json_bytes,
        },
        "node": node,
        # The browser's code, on the decoded payload, must count the same statuses.
        "node_agrees": None if node is None else list(node["status_counts_at_day"].values()) == counts,
        "numpy": np.__version__,
        "schedule_import": schedule_import(runs=20),
    }
    if elements == 100_000:
        result["targets"] = {
            "element_status<=20ms": status_ms <= TARGET_STATUS_MS,
            "payload<=2MB": len(payload) <= TARGET_PAYLOAD_BYTES,
        }
    return result


def schedule_import(runs: int) -> dict | None:
    """``read_schedule`` on the corpus' Schependomlaan MS Project XML (157 tasks), against a
    bare ElementTree parse of the same file in the same run (target ≤ 1 s)."""
    import xml.etree.ElementTree as ET

    from ifc_processing.schedules import read_schedule

    corpus = Path(os.environ.get("ERJI_CORPUS", ROOT.parent / "shared" / "corpus"))
    path = corpus / "schedule" / "Schependomlaan_Uitvoering_18-02-2015.xml"
    if not path.is_file():
        return None
    read_schedule(path)  # first call pays the imports (ifcopenshell), not the file
    import_ms, record = median_ms(lambda: read_schedule(path), runs)
    parse_ms, _ = median_ms(lambda: ET.parse(path), runs)
    return {
        "file": path.name,
        "tasks": len(record.tasks),
        "links": len(record.links),
        "import_ms": import_ms,
        "elementtree_parse_ms": parse_ms,
        "ratio": round(import_ms / parse_ms, 2),
        "target_met": import_ms <= TARGET_IMPORT_MS,
    }


def _brotli_size(payload: bytes) -> int | None:
    try:
        import brotli
    except ImportError:
        return None
    return len(brotli.compress(payload, quality=5))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=50, help="Python runs per timing (medians)")
    parser.add_argument("--node-runs", type=int, default=200, help="Node elementStatus runs (median)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--markdown", action="store_true", help="also print a docs/performance.md table row")
    args = parser.parse_args(argv)
    r = bench(args.elements, args.tasks, args.runs, args.node_runs, args.seed)
    print(json.dumps(r))
    if args.markdown:
        py, node, size = r["python"], r["node"] or {}, r["payload"]
        print(
            "| elements | element_dates ms | status ms (py) | ÷ compare | status ms (js) | ÷ compare "
            "| decode ms (js) | payload MB | gzip MB |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        cells = [
            f"{r['elements']:,}",
            f"{py['element_dates_ms']:.1f}",
            f"{py['element_status_ms']:.2f}",
            f"{py['ratio']:.1f}",
            f"{node.get('element_status_ms', float('nan')):.2f}",
            f"{node.get('ratio', float('nan')):.1f}",
            f"{node.get('decode_ms', float('nan')):.2f}",
            f"{size['bytes'] / 1e6:.2f}",
            f"{size['gzip_bytes'] / 1e6:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
