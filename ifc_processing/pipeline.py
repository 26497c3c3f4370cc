"""``process_model``: one IFC file in, the twin's records and GLB out.

Stages (the names ``on_progress`` reports): ``open`` → ``elements`` → ``geometry`` →
``glb`` → ``write``. Tessellation starts right after opening, in worker processes,
while this process extracts elements and properties, so ``geometry`` mostly waits for
work already under way.

Everything is written into a hidden staging folder next to ``out_dir`` and renamed
into place at the end: a failed or interrupted run leaves nothing half-written, and a
previous result in ``out_dir`` is replaced only by a complete new one.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import ifcopenshell
import orjson

from .elements import ExtractedModel, check_model, extract_model, select_elements
from .errors import OutputError
from .footprint import NOT_ON_THE_GROUND, ground_outline
from .geometry import DEFAULT_KERNELS, Tessellation, TessellationResult
from .georef import extract_georef
from .glb import DEFAULT_MAX_POSITION_ERROR_M, Compression, GlbElement, GlbStats, write_glb
from .reader import LoadedModel, open_model
from .records import GeoReference, ModelSummary

__all__ = ["OUTPUT_FILES", "PIPELINE_VERSION", "ProgressCallback", "process_model", "read_summary"]

ProgressCallback = Callable[[str, int, int], None]

#: Version of the output layout; bump it when files or fields change meaning.
PIPELINE_VERSION = "2"  # 2: footprint.json
#: Files written into ``out_dir``.
OUTPUT_FILES = (
    "model.glb",
    "elements.jsonl",
    "spatial.json",
    "georef.json",
    "footprint.json",
    "failures.json",
    "summary.json",
)
_JSON = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def process_model(
    path: str | Path,
    out_dir: str | Path,
    *,
    on_progress: ProgressCallback | None = None,
    compression: Compression = "meshopt",
    kernels: Sequence[str] = DEFAULT_KERNELS,
    workers: int | None = None,
    max_position_error_m: float = DEFAULT_MAX_POSITION_ERROR_M,
) -> ModelSummary:
    """Turn the IFC file at ``path`` into the records and GLB of ``out_dir``.

    Writes ``model.glb`` (merged meshes + element table), ``elements.jsonl`` (one
    ``ElementRecord`` per line, file order), ``spatial.json``, ``georef.json``,
    ``footprint.json`` (the ground outline in the engineering frame, a ``Footprint``),
    ``failures.json`` (elements whose geometry failed) and ``summary.json``.
    ``out_dir`` must be missing, empty, or an earlier output of this function.
    ``on_progress(stage, done, total)`` is called as work advances. ``workers`` is the
    number of geometry processes (default: one per core; 0 tessellates in-process).

    Raises ``IfcProcessingError`` subclasses with a one-line reason; then nothing is
    written and an existing ``out_dir`` is left untouched.

    Example::

        summary = process_model("house.ifc", "out/house", on_progress=print)
        print(summary.element_count, summary.triangles, summary.outputs["model.glb"])
    """
    path = Path(path)
    out_dir = Path(out_dir)
    report = on_progress or _ignore
    clock = _Laps()
    _check_out_dir(path, out_dir)
    staging = _staging_dir(path, out_dir)
    try:
        report("open", 0, 1)
        with open_model(path, work_dir=staging) as loaded:
            elements = select_elements(loaded.file)
            check_model(loaded.file, path, elements, parser_errors=loaded.parser_errors)
            report("open", 1, 1)
            clock.lap("open")
            with Tessellation(
                loaded.file, elements, kernels=kernels, workers=workers, work_dir=staging
            ) as tessellation:
                tessellation.start()  # workers tessellate while this process extracts below
                extracted = extract_model(
                    loaded.file, path, elements=elements, checked=True, on_progress=report
                )
                georef = extract_georef(loaded.file)
                clock.lap("elements")
                result = tessellation.finish(on_progress=report)
                clock.lap("geometry")
            report("glb", 0, 1)
            glb = _write_glb(path, staging, extracted, result, compression, max_position_error_m)
            report("glb", 1, 1)
            clock.lap("glb")
            report("write", 0, 1)
            summary = _write_records(
                path, staging, loaded, extracted, result, georef, glb, compression, clock
            )
            report("write", 1, 1)
        _publish(path, staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


class _Laps:
    """Wall time per stage, in seconds."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self.last, 3)
        self.last = now


def _write_glb(
    path: Path,
    staging: Path,
    extracted: ExtractedModel,
    result: TessellationResult,
    compression: Compression,
    max_position_error_m: float,
) -> GlbStats:
    storey_row = {node.global_id: i for i, node in enumerate(extracted.storeys)}
    table = {
        r.step_id: GlbElement(r.step_id, r.global_id, r.ifc_class, storey_row.get(r.storey_global_id))
        for r in extracted.elements
    }
    with _output_errors(path, staging):
        glb = write_glb(
            staging / "model.glb",
            result.placed,
            result.shapes,
            table,
            [(node.global_id, node.name) for node in extracted.storeys],
            compression=compression,
            max_position_error_m=max_position_error_m,
        )
    for record in extracted.elements:
        record.glb_index = glb.row_of_step_id.get(record.step_id)
        record.has_geometry = record.glb_index is not None
    return glb


def _write_records(
    path: Path,
    staging: Path,
    loaded: LoadedModel,
    extracted: ExtractedModel,
    result: TessellationResult,
    georef: GeoReference,
    glb: GlbStats,
    compression: str,
    clock: _Laps,
) -> ModelSummary:
    with _output_errors(path, staging):
        _write_jsonl(staging / "elements.jsonl", extracted.elements)
        (staging / "spatial.json").write_bytes(orjson.dumps(extracted.spatial_tree, option=_JSON))
        (staging / "georef.json").write_bytes(orjson.dumps(georef, option=_JSON))
        not_built = {r.step_id for r in extracted.elements if r.ifc_class in NOT_ON_THE_GROUND}
        footprint = ground_outline(result.placed, result.shapes, exclude_step_ids=not_built)
        (staging / "footprint.json").write_bytes(orjson.dumps(footprint, option=_JSON))
        clock.lap("footprint")
        (staging / "failures.json").write_bytes(orjson.dumps(result.failures, option=_JSON))
        counts = Counter(r.ifc_class for r in extracted.elements)
        summary = ModelSummary(
            source_file=path.name,
            source_bytes=path.stat().st_size,
            source_sha256=_sha256(path),
            schema=loaded.schema,
            ifcopenshell_version=ifcopenshell.version,
            pipeline_version=PIPELINE_VERSION,
            element_count=len(extracted.elements),
            space_count=sum(1 for r in extracted.elements if r.is_space),
            counts_by_class=dict(sorted(counts.items())),
            storey_count=len(extracted.storeys),
            elements_with_geometry=len(glb.row_of_step_id),
            geometry_failures=len(result.failures),
            geometry_retried=result.retried,
            triangles=glb.triangles,
            stored_triangles=glb.stored_triangles,
            instanced_shapes=glb.instanced_meshes,
            instances=glb.instances,
            vertices=glb.vertices,
            unique_shapes=len({p.shape_key for p in result.placed}),
            glb_meshes=glb.meshes,
            origin_m=glb.origin_m,
            bbox_min_m=glb.bbox_min_m,
            bbox_max_m=glb.bbox_max_m,
            max_position_error_m=glb.max_position_error_m,
            compression=compression,
            georef_source=georef.source,
            seconds=clock.seconds,
            outputs={},
            warnings=loaded.warnings + [f"parser: {e}" for e in loaded.parser_errors[:20]],
        )
        clock.lap("write")
        clock.seconds["total"] = round(time.perf_counter() - clock.started, 3)
        # Sizes of everything but summary.json itself, which cannot contain its own size.
        summary.outputs = {name: (staging / name).stat().st_size for name in OUTPUT_FILES[:-1]}
        (staging / "summary.json").write_bytes(orjson.dumps(summary, option=_JSON))
    return summary


@contextmanager
def _output_errors(path: Path, staging: Path) -> Iterator[None]:
    """Turn a failing write (disk full, quota, permissions) into a one-line OutputError."""
    try:
        yield
    except OSError as exc:
        raise OutputError(
            path, f"cannot write the result next to {staging.parent}: {exc.strerror or exc}"
        ) from exc


def read_summary(out_dir: str | Path) -> dict:
    """The ``summary.json`` of an output folder as a dict (for tools and tests)."""
    return orjson.loads((Path(out_dir) / "summary.json").read_bytes())


def _ignore(stage: str, done: int, total: int) -> None:
    return None


def _write_jsonl(path: Path, records: list) -> None:
    with path.open("wb") as out:
        for record in records:
            out.write(orjson.dumps(record))
            out.write(b"\n")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _is_our_output(folder: Path) -> bool:
    try:
        return "pipeline_version" in orjson.loads((folder / "summary.json").read_bytes())
    except (OSError, orjson.JSONDecodeError, TypeError):
        return False


def _check_out_dir(path: Path, out_dir: Path) -> None:
    try:
        if not out_dir.exists():
            return
        if not out_dir.is_dir():
            raise OutputError(path, f"output {out_dir} exists and is not a folder")
        if any(out_dir.iterdir()) and not _is_our_output(out_dir):
            raise OutputError(
                path, f"output folder {out_dir} is not empty and holds no earlier result; choose another one"
            )
    except OSError as exc:
        raise OutputError(path, f"cannot read the output folder {out_dir}: {exc.strerror or exc}") from exc


def _staging_dir(path: Path, out_dir: Path) -> Path:
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
        return staging
    except OSError as exc:
        raise OutputError(path, f"cannot write next to {out_dir}: {exc.strerror or exc}") from exc


def _publish(path: Path, staging: Path, out_dir: Path) -> None:
    """Move the finished staging folder to ``out_dir``, replacing an earlier result."""
    retired = None
    try:
        if out_dir.exists():
            retired = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
            out_dir.rename(retired)
        staging.rename(out_dir)
    except OSError as exc:
        if retired is not None and retired.exists() and not out_dir.exists():
            retired.rename(out_dir)  # put the earlier result back where it was
        raise OutputError(path, f"cannot move the result into {out_dir}: {exc.strerror or exc}") from exc
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
