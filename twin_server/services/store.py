"""What every service does when it writes: commit, and turn a lost race into a clear 409."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.errors import Conflict

__all__ = ["commit_or_conflict"]


def commit_or_conflict(session: Session, message: str, *, code: str | None = None) -> None:
    """Commit; if a unique constraint refuses it (a duplicate name, or another writer that got
    there first), roll back and raise ``Conflict(message)`` — nothing of the attempt stays."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(message, code=code) from None
