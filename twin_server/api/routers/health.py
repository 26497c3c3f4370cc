"""Liveness and readiness for load balancers and ``make run``'s start-up check."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import text

from ..deps import Public, RuntimeDep, SessionDep

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", dependencies=[Depends(Public())])
def read_health(runtime: RuntimeDep, session: SessionDep) -> dict[str, str]:
    """``{"status": "ok", "database": <dialect>, "queue": <backend>}`` once the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok", "database": runtime.engine.dialect.name, "queue": runtime.queue.kind}
