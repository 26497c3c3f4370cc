"""Model revision states after ISO 19650: WIP → SHARED → PUBLISHED → ARCHIVED.

A revision enters WIP when its upload has been processed. Sharing makes it visible to
the team for review; publishing makes it the model of record, and the model's previously
published revision becomes ARCHIVED at the same time. Defects and 4D links reference
published, immutable revisions.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import Conflict

__all__ = ["ALLOWED_TRANSITIONS", "Processing", "RevisionState", "check_transition"]


class RevisionState(StrEnum):
    WIP = "WIP"
    SHARED = "SHARED"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class Processing(StrEnum):
    """Where the upload's processing job stands; only SUCCEEDED revisions are usable."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ALLOWED_TRANSITIONS: dict[RevisionState, frozenset[RevisionState]] = {
    RevisionState.WIP: frozenset({RevisionState.SHARED, RevisionState.ARCHIVED}),
    # A shared revision that fails review goes back to work in progress.
    RevisionState.SHARED: frozenset({RevisionState.WIP, RevisionState.PUBLISHED, RevisionState.ARCHIVED}),
    RevisionState.PUBLISHED: frozenset({RevisionState.ARCHIVED}),
    RevisionState.ARCHIVED: frozenset(),
}


def check_transition(current: RevisionState, target: RevisionState, processing: Processing) -> None:
    """Raise ``Conflict`` unless a revision may move from ``current`` to ``target``.

    Example::

        >>> check_transition(RevisionState.SHARED, RevisionState.PUBLISHED, Processing.SUCCEEDED)
    """
    if processing is not Processing.SUCCEEDED:
        raise Conflict(f"the revision is {processing.value}; only processed revisions change state")
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none"
        raise Conflict(f"a {current.value} revision cannot become {target.value} (allowed: {allowed})")
