"""Composition root: every collaborator built once from ``Settings`` and wired together.

The API (``main.create_app``) and ``twin worker`` both start from ``build_runtime``, so a
job runs with the same database, blobs and settings wherever it is consumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db.session import make_engine, make_sessionmaker, migrate
from .jobs import JobQueue
from .security import TokenService
from .services.access import PathCache
from .services.alerts import evaluate_projects
from .services.auth import PrincipalCache
from .services.portfolio import SummaryCache
from .services.processing import ProcessingEnv, process_revision, reap_stale_jobs
from .storage import LocalBlobStore

__all__ = ["Runtime", "build_runtime"]


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: LocalBlobStore
    tokens: TokenService
    principals: PrincipalCache
    paths: PathCache
    processing: ProcessingEnv
    queue: JobQueue
    summaries: SummaryCache

    def close(self) -> None:
        self.queue.stop()
        self.engine.dispose()


def build_runtime(settings: Settings, *, migrate_schema: bool = True) -> Runtime:
    """Everything a server or worker process needs; migrates the database first."""
    engine = make_engine(settings.sqlalchemy_url)
    if migrate_schema:
        migrate(engine)
    sessions = make_sessionmaker(engine)
    blobs = LocalBlobStore(settings.blob_dir)
    processing = ProcessingEnv(
        sessions=sessions,
        blobs=blobs,
        work_dir=settings.work_dir,
        lease_s=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
        geometry_workers=settings.geometry_workers,
    )
    queue = JobQueue(
        settings,
        handler=partial(process_revision, processing),
        reaper=partial(reap_stale_jobs, processing),
        evaluator=partial(
            evaluate_projects,
            sessions,
            every_s=settings.evaluation_interval_seconds,
            policy=settings.health_policy,
            sensor_retention_days=settings.sensor_retention_days,
            sensor_aggregate_retention_days=settings.sensor_aggregate_retention_days,
        ),
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        blobs=blobs,
        tokens=TokenService(settings.secret_key, lifetime_minutes=settings.access_token_minutes),
        principals=PrincipalCache(settings.cache_seconds),
        paths=PathCache(settings.cache_seconds),
        processing=processing,
        queue=queue,
        summaries=SummaryCache(ttl_s=settings.portfolio_cache_seconds),
    )
