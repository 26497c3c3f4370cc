"""Ingest benchmark: our whole pipeline against raw ifcopenshell iteration, same file, same run.

The baseline is what any tool built on ifcopenshell has to pay at least: open the file
and walk ``ifcopenshell.geom.iterator`` over the same elements with the same settings
and kernel, touching every shape's buffers, with its fastest thread count on this
machine (cores + 1). The pipeline tessellates in one worker process per core. The pipeline adds everything
else (checks, properties, retries, GLB, records). Both run in this process, alternating,
``--repeat`` times; medians are reported. Peak RSS comes from one extra pipeline run in a
child process, so the baseline's memory does not count against it.

    python benchmarks/ingest.py                      # Janesville from ../shared/corpus
    python benchmarks/ingest.py FILE.ifc --repeat 5
    python benchmarks/ingest.py --generated 100000   # a 100k-element sample building

Prints one JSON object per file; ``--markdown`` also prints a table row for
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ifcopenshell
import ifcopenshell.geom

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ifc_processing import process_model  # noqa: E402
from ifc_processing.elements import select_elements  # noqa: E402
from ifc_processing.geometry import (  # noqa: E402
    DEFAULT_KERNELS,
    default_threads,
    default_workers,
    iterator_settings,
)

CORPUS = Path(os.environ.get("ERJI_CORPUS", ROOT.parent / "shared" / "corpus"))
DEFAULT_FILE = CORPUS / "ifc" / "revit2012_janesville_restaurant.ifc"
CACHE = ROOT / ".benchmarks-cache"
# Targets from issue 2.
TARGET_TIME_RATIO = 1.25
TARGET_SIZE_RATIO = 5.0
STRETCH_SIZE_RATIO = 10.0
TARGET_PEAK_RSS_MB = 2048
TARGET_100K_SECONDS = 60.0


def raw_iteration(path: Path, threads: int) -> tuple[float, int]:
    """Open + iterate with the pipeline's settings; returns (seconds, triangles)."""
    started = time.perf_counter()
    model = ifcopenshell.open(str(path))
    iterator = ifcopenshell.geom.iterator(
        iterator_settings(),
        model,
        threads,
        geometry_library=DEFAULT_KERNELS[0],
        include=select_elements(model),
    )
    triangles = 0
    if iterator.initialize():
        while True:
            geometry = iterator.get().geometry
            geometry.verts_buffer  # noqa: B018 - touch the data, as any consumer must
            triangles += len(geometry.faces_buffer) // 12
            if not iterator.next():
                break
    return time.perf_counter() - started, triangles


def pipeline_run(path: Path) -> tuple[float, dict]:
    out = Path(tempfile.mkdtemp(prefix="bench-")) / "out"
    try:
        started = time.perf_counter()
        summary = process_model(path, out)
        seconds = time.perf_counter() - started
        return seconds, {
            "glb_bytes": summary.outputs["model.glb"],
            "elements": summary.element_count,
            "triangles": summary.triangles,
            "stored_triangles": summary.stored_triangles,
            "geometry_failures": summary.geometry_failures,
            "max_position_error_m": summary.max_position_error_m,
            "stages": summary.seconds,
        }
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def peak_rss_mb(path: Path) -> dict[str, float]:
    """Peak resident memory of a fresh process running the whole pipeline once.

    The child reports its own VmHWM (a forked child's ru_maxrss would include this large
    parent's high water mark, which Linux carries across exec) and the largest of its
    geometry workers (RUSAGE_CHILDREN). Workers share the parsed model with the main
    process copy-on-write and count those pages too, so ``main + workers × worker`` is an
    upper bound of the machine's peak.
    """
    out = Path(tempfile.mkdtemp(prefix="bench-rss-"))
    code = (
        "import sys, resource; sys.path.insert(0, sys.argv[3]);"
        "from ifc_processing import process_model;"
        "process_model(sys.argv[1], sys.argv[2]);"
        "hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'));"
        "print(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    try:
        completed = subprocess.run(
            [sys.executable, "-c", code, str(path), str(out / "o"), str(ROOT)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if completed.returncode != 0:
        raise SystemExit(f"pipeline child failed on {path}: {completed.stderr[-500:]}")
    main_kb, worker_kb = (int(v) for v in completed.stdout.split())
    workers = default_workers()
    return {
        "main": round(main_kb / 1024, 1),
        "largest_worker": round(worker_kb / 1024, 1),
        "upper_bound": round((main_kb + workers * worker_kb) / 1024, 1),
    }


def generated_model(elements: int) -> Path:
    from sample_models import write_building
    from sample_models.generate import layout_for_element_count

    path = CACHE / f"generated-{elements}.ifc"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        started = time.perf_counter()
        storeys, bays_x, bays_y = layout_for_element_count(elements)
        write_building(path, storeys=storeys, bays_x=bays_x, bays_y=bays_y)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def bench(path: Path, *, repeat: int, threads: int) -> dict:
    raw_runs, pipeline_runs, details = [], [], {}
    raw_triangles = 0
    for _ in range(repeat):
        seconds, raw_triangles = raw_iteration(path, threads)
        raw_runs.append(round(seconds, 3))
        seconds, details = pipeline_run(path)
        pipeline_runs.append(round(seconds, 3))
    raw = statistics.median(raw_runs)
    pipeline = statistics.median(pipeline_runs)
    # The ratio of each adjacent (raw, pipeline) pair cancels out slow drifts of a shared
    # machine; its median is the figure to compare with the target.
    pair_ratios = [round(p / r, 3) for r, p in zip(raw_runs, pipeline_runs, strict=True)]
    ifc_bytes = path.stat().st_size
    result = {
        "file": path.name,
        "ifc_bytes": ifc_bytes,
        "raw_threads": threads,
        "pipeline_workers": default_workers(),
        "cpu_count": os.cpu_count(),
        "ifcopenshell": ifcopenshell.version,
        "raw_seconds": raw,
        "pipeline_seconds": pipeline,
        "time_ratio": round(statistics.median(pair_ratios), 3),
        "pair_ratios": pair_ratios,
        "glb_bytes": details["glb_bytes"],
        "size_ratio": round(ifc_bytes / details["glb_bytes"], 2),
        "peak_rss_mb": peak_rss_mb(path),
        "raw_triangles": raw_triangles,
        **{k: v for k, v in details.items() if k != "glb_bytes"},
        "raw_runs": raw_runs,
        "pipeline_runs": pipeline_runs,
    }
    result["targets"] = {
        "time_ratio<=1.25": result["time_ratio"] <= TARGET_TIME_RATIO,
        "size_ratio>=5": result["size_ratio"] >= TARGET_SIZE_RATIO,
        "size_ratio>=10 (stretch)": result["size_ratio"] >= STRETCH_SIZE_RATIO,
        "peak_rss<=2GB": result["peak_rss_mb"]["upper_bound"] <= TARGET_PEAK_RSS_MB,
    }
    if details["elements"] >= 100_000:
        result["targets"]["pipeline<60s"] = pipeline < TARGET_100K_SECONDS
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help=f"IFC files (default: {DEFAULT_FILE.name})")
    parser.add_argument(
        "--generated",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="also run a generated building of about N elements (cached in .benchmarks-cache)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=default_threads(), help="threads of the raw baseline")
    parser.add_argument("--markdown", action="store_true", help="also print docs/performance.md table rows")
    args = parser.parse_args(argv)

    files = list(args.files) or ([] if args.generated else [DEFAULT_FILE])
    files += [generated_model(n) for n in args.generated]
    rows = []
    for path in files:
        if not path.is_file():
            print(f"error: {path}: file not found", file=sys.stderr)
            return 2
        result = bench(path, repeat=args.repeat, threads=args.threads)
        print(json.dumps(result))
        rows.append(result)
    if args.markdown:
        print(
            "| file | IFC MB | raw s | pipeline s | ratio | GLB MB | IFC/GLB | peak RSS MB (main + workers) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            cells = [
                r["file"],
                f"{r['ifc_bytes'] / 1e6:.1f}",
                f"{r['raw_seconds']:.2f}",
                f"{r['pipeline_seconds']:.2f}",
                f"{r['time_ratio']:.2f}",
                f"{r['glb_bytes'] / 1e6:.2f}",
                f"{r['size_ratio']:.1f}",
                "{main:.0f} + {n}×{largest_worker:.0f}".format(n=r["pipeline_workers"], **r["peak_rss_mb"]),
            ]
            print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
