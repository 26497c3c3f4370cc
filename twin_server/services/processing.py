"""The processing job of an uploaded revision: IFC → records + GLB → database and blobs.

A job claims its revision with a lease (``heartbeat_at``) that a thread renews while the
pipeline runs. Everything the revision offers (elements, properties, geometry, summary)
is written in one transaction together with ``processing = succeeded``: a reader sees
either nothing or the whole revision. A worker that dies mid-job stops renewing the
lease; ``reap_stale_jobs`` later hands the revision back to the queue, up to
``max_attempts`` times.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ifc_processing import IfcProcessingError, process_model

from ..db.orm import ElementClassificationRow, ElementPropertyRow, ElementRow, RevisionRow
from ..domain.revisions import Processing
from ..storage import LocalBlobStore
from .sites import place_revision

__all__ = ["ProcessingEnv", "process_revision", "reap_stale_jobs"]

log = logging.getLogger(__name__)

_BATCH_ROWS = 5_000  # rows per INSERT batch: large enough to be fast, small enough for memory
_TEXT_LIMIT = 400  # characters of a property value kept for filtering (the record keeps all)
# Fields that change on every export without the element changing.
_VOLATILE = ("step_id", "glb_index", "has_geometry")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class ProcessingEnv:
    """What a processing job needs, wired once by the composition root."""

    sessions: sessionmaker[Session]
    blobs: LocalBlobStore
    work_dir: Path
    lease_s: float
    max_attempts: int
    geometry_workers: int | None = None
    clock: Callable[[], dt.datetime] = utcnow


def process_revision(env: ProcessingEnv, revision_id: int) -> int | None:
    """Run the job of ``revision_id`` unless it is done or another live worker holds it;
    returns the revision's project id if this run processed it (its KPIs may have moved).

    Input errors (a corrupt IFC) end the job as ``failed`` with the pipeline's reason;
    anything else is re-raised after recording it, so the queue may retry.
    """
    claim = _claim(env, revision_id)
    if claim is None:
        return None
    ifc_sha256, attempt = claim
    ifc_path = env.blobs.path(ifc_sha256)
    if ifc_path is None:
        _fail(env, revision_id, "the uploaded file is missing from storage", attempt=attempt)
        return None
    env.work_dir.mkdir(parents=True, exist_ok=True)
    out_dir = Path(tempfile.mkdtemp(prefix=f"revision-{revision_id}-", dir=env.work_dir))
    progress = _Progress(env, revision_id)
    progress.start()
    try:
        try:
            process_model(
                ifc_path,
                out_dir / "out",
                on_progress=progress.update,
                workers=env.geometry_workers,
            )
        except IfcProcessingError as exc:
            _fail(env, revision_id, exc.reason, attempt=attempt)
            return None
        progress.update("import", 0, 1)
        _publish_results(env, revision_id, out_dir / "out", attempt=attempt)
        log.info("revision %s processed (attempt %s)", revision_id, attempt)
        with env.sessions() as session:
            return session.scalar(select(RevisionRow.project_id).where(RevisionRow.id == revision_id))
    except Exception as exc:
        if attempt >= env.max_attempts:
            _fail(
                env,
                revision_id,
                f"processing failed {attempt} times; last error: {type(exc).__name__}: {exc}",
                attempt=attempt,
            )
        else:
            _release(env, revision_id, attempt=attempt)  # the queue's retry must be able to claim it
        raise
    finally:
        progress.stop()
        shutil.rmtree(out_dir, ignore_errors=True)


def reap_stale_jobs(env: ProcessingEnv) -> list[int]:
    """Revisions whose worker died (stale lease): queued again, or failed after too many tries.

    Returns the ids to enqueue again.
    """
    stale_before = env.clock() - dt.timedelta(seconds=env.lease_s)
    requeue: list[int] = []
    with env.sessions() as session:
        rows = session.execute(
            select(RevisionRow.id, RevisionRow.attempts).where(
                RevisionRow.processing == Processing.RUNNING.value, RevisionRow.heartbeat_at < stale_before
            )
        ).all()
        for revision_id, attempts in rows:
            if attempts >= env.max_attempts:
                values = {
                    "processing": Processing.FAILED.value,
                    "failure_reason": f"the worker processing this revision stopped {attempts} times",
                }
            else:
                values = {"processing": Processing.QUEUED.value, "stage": None, "progress_pct": 0.0}
                requeue.append(revision_id)
            session.execute(
                update(RevisionRow)
                .where(RevisionRow.id == revision_id, RevisionRow.processing == Processing.RUNNING.value)
                .values(**values)
            )
        session.commit()
    if requeue:
        log.warning("requeued revisions whose worker stopped: %s", requeue)
    return requeue


def _claim(env: ProcessingEnv, revision_id: int) -> tuple[str, int] | None:
    """Take the job: ``(file sha256, attempt number)``, or ``None`` if nothing is to do.

    A compare-and-set on (processing, attempts): of two consumers handed the same job,
    exactly one claims it (``FOR UPDATE`` alone would not do on SQLite).
    """
    now = env.clock()
    stale_before = now - dt.timedelta(seconds=env.lease_s)
    with env.sessions() as session:
        row = session.execute(
            select(
                RevisionRow.processing,
                RevisionRow.attempts,
                RevisionRow.heartbeat_at,
                RevisionRow.file_sha256,
            ).where(RevisionRow.id == revision_id)
        ).first()
        if row is None:
            return None
        running_elsewhere = row.processing == Processing.RUNNING.value and (
            row.heartbeat_at is not None and _aware(row.heartbeat_at) >= stale_before
        )
        if row.processing in (Processing.SUCCEEDED.value, Processing.FAILED.value) or running_elsewhere:
            return None
        same = (
            RevisionRow.id == revision_id,
            RevisionRow.processing == row.processing,
            RevisionRow.attempts == row.attempts,
        )
        if row.attempts >= env.max_attempts:
            session.execute(
                update(RevisionRow)
                .where(*same)
                .values(
                    processing=Processing.FAILED.value,
                    failure_reason=f"processing was attempted {row.attempts} times without finishing",
                )
            )
            session.commit()
            return None
        claimed = session.execute(
            update(RevisionRow)
            .where(*same)
            .values(
                processing=Processing.RUNNING.value,
                attempts=row.attempts + 1,
                heartbeat_at=now,
                stage="starting",
                progress_pct=0.0,
            )
        ).rowcount
        session.commit()
        return (row.file_sha256, row.attempts + 1) if claimed == 1 else None


def _release(env: ProcessingEnv, revision_id: int, *, attempt: int) -> None:
    with env.sessions() as session:
        session.execute(
            update(RevisionRow)
            .where(*_holding(revision_id, attempt))
            .values(processing=Processing.QUEUED.value, stage=None, progress_pct=0.0)
        )
        session.commit()


def _fail(env: ProcessingEnv, revision_id: int, reason: str, *, attempt: int) -> None:
    with env.sessions() as session:
        session.execute(
            update(RevisionRow)
            .where(*_holding(revision_id, attempt))
            .values(
                processing=Processing.FAILED.value,
                failure_reason=reason,
                stage=None,
                processed_at=env.clock(),
            )
        )
        session.commit()
    log.warning("revision %s failed: %s", revision_id, reason)


class _Progress:
    """Renews the job's lease and records its stage and percentage, from a thread.

    The pipeline reports progress irregularly (opening a large file says nothing for
    seconds), so the lease is renewed on a timer, not on callbacks.
    """

    _STAGES = ("open", "elements", "geometry", "glb", "write", "import")

    def __init__(self, env: ProcessingEnv, revision_id: int) -> None:
        self._env = env
        self._revision_id = revision_id
        self._stage = "starting"
        self._pct = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{revision_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def update(self, stage: str, done: int, total: int) -> None:
        # Overall percentage: stages weigh equally except geometry, usually the longest.
        weights = {"open": 5, "elements": 15, "geometry": 60, "glb": 5, "write": 5, "import": 10}
        before = sum(weights[s] for s in self._STAGES[: self._STAGES.index(stage)]) if stage in weights else 0
        self._stage = stage
        self._pct = round(before + weights.get(stage, 0) * (done / total if total else 1), 1)

    def _run(self) -> None:
        interval = max(self._env.lease_s / 3, 0.2)
        while not self._stop.is_set():
            self._beat()
            self._stop.wait(interval)

    def _beat(self) -> None:
        try:
            with self._env.sessions() as session:
                session.execute(
                    update(RevisionRow)
                    .where(
                        RevisionRow.id == self._revision_id,
                        RevisionRow.processing == Processing.RUNNING.value,
                    )
                    .values(heartbeat_at=self._env.clock(), stage=self._stage, progress_pct=self._pct)
                )
                session.commit()
        except Exception:  # a missed beat is harmless; a dead thread would not be
            log.exception("could not renew the lease of revision %s", self._revision_id)


def _holding(revision_id: int, attempt: int) -> tuple:
    """Conditions under which this job still holds the revision: a job whose lease was
    reaped (it stalled) must not overwrite what the job that took over did."""
    return (
        RevisionRow.id == revision_id,
        RevisionRow.processing == Processing.RUNNING.value,
        RevisionRow.attempts == attempt,
    )


def _publish_results(env: ProcessingEnv, revision_id: int, out: Path, *, attempt: int) -> None:
    glb_sha256, glb_bytes = env.blobs.put_file(out / "model.glb", compress=True)
    spatial = (out / "spatial.json").read_bytes()
    storey_names = dict(_storeys(orjson.loads(spatial)))
    with env.sessions() as session:
        # A previous attempt may have died before committing; nothing of it is kept, but
        # a half-written batch from a crashed transaction must not clash with this one.
        session.execute(delete(ElementRow).where(ElementRow.revision_id == revision_id))
        _insert_elements(session, revision_id, out / "elements.jsonl", storey_names)
        published = session.execute(
            update(RevisionRow)
            .where(*_holding(revision_id, attempt))
            .values(
                processing=Processing.SUCCEEDED.value,
                stage=None,
                progress_pct=100.0,
                failure_reason=None,
                glb_sha256=glb_sha256,
                glb_bytes=glb_bytes,
                summary_json=(out / "summary.json").read_text(),
                spatial_json=spatial.decode(),
                georef_json=(out / "georef.json").read_text(),
                failures_json=(out / "failures.json").read_text(),
                footprint_local_json=_read_optional(out / "footprint.json"),
                processed_at=env.clock(),
            )
        ).rowcount
        if published != 1:
            session.rollback()
            log.warning(
                "revision %s: attempt %s lost its lease; its results are dropped", revision_id, attempt
            )
            return
        place_revision(session, revision_id=revision_id, now=env.clock())
        session.commit()


def _read_optional(path: Path) -> str | None:
    """A result file that outputs of an older pipeline version lack."""
    return path.read_text() if path.exists() else None


def _insert_elements(session: Session, revision_id: int, jsonl: Path, storey_names: dict[str, str]) -> None:
    element_batch: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []  # records of the batch, for their properties

    def flush() -> None:
        if not element_batch:
            return
        ids = session.execute(
            insert(ElementRow).returning(ElementRow.id, ElementRow.global_id, sort_by_parameter_order=True),
            element_batch,
        ).all()
        properties, classifications = [], []
        for (element_id, _), record in zip(ids, pending, strict=True):
            properties.extend(_property_rows(element_id, record))
            classifications.extend(
                {"element_id": element_id, "system": c["system"], "code": c["code"]}
                for c in record["classifications"]
            )
        for rows, table in ((properties, ElementPropertyRow), (classifications, ElementClassificationRow)):
            for start in range(0, len(rows), _BATCH_ROWS):
                session.execute(insert(table), rows[start : start + _BATCH_ROWS])
        element_batch.clear()
        pending.clear()

    for line in _lines(jsonl):
        record = orjson.loads(line)
        element_batch.append(
            {
                "revision_id": revision_id,
                "global_id": record["global_id"],
                "ifc_class": record["ifc_class"],
                "predefined_type": _clip(record["predefined_type"], 128),
                "name": _clip(record["name"], _TEXT_LIMIT),
                "type_name": _clip(record["type_name"], _TEXT_LIMIT),
                "storey_global_id": record["storey_global_id"],
                "storey_name": _clip(storey_names.get(record["storey_global_id"] or ""), 200),
                "glb_index": record["glb_index"],
                "content_hash": _content_hash(record),
                "record_json": line.decode(),
            }
        )
        pending.append(record)
        if len(element_batch) >= _BATCH_ROWS // 10:
            flush()
    flush()


def _property_rows(element_id: int, record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for pset in record["property_sets"]:
        for name, value in pset["properties"].items():
            if value is None or isinstance(value, (list, dict)):
                continue  # structured values stay in the record; filters take scalars
            if isinstance(value, bool):
                text, number = ("true" if value else "false"), float(value)
            elif isinstance(value, (int, float)):
                text, number = repr(value), float(value)
            else:
                text, number = str(value), None
            yield {
                "element_id": element_id,
                "pset": pset["name"][:200],
                "name": name[:200],
                "value_text": text[:_TEXT_LIMIT],
                "value_num": number,
            }


def _content_hash(record: dict[str, Any]) -> str:
    stable = {key: value for key, value in record.items() if key not in _VOLATILE}
    return hashlib.sha256(orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _storeys(node: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if node.get("ifc_class") in ("IfcBuildingStorey", "IfcFacilityPart"):
        yield node["global_id"], node.get("name") or node["global_id"]
    for child in node.get("children", ()):
        yield from _storeys(child)


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield line.rstrip(b"\n")


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else value


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
