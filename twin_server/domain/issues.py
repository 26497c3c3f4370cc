"""Issues (quality defects, safety hazards, coordination topics): the 整改 → 复查 loop as a
pure state machine, and the hash chain that makes each issue's event log tamper-evident.

State machine (domain.md §3.7; Procore observation / punch item, BCF, 智慧工地 待整改 → 待复查 → 已闭合)::

    DRAFT --submit--> OPEN                      (ball with the assignee)
    OPEN --reply (after-photos)--> READY_FOR_REVIEW   (ball with the verifier)
    READY_FOR_REVIEW --reinspect_pass--> CLOSED
    READY_FOR_REVIEW --reinspect_fail--> OPEN   (reopened_count + 1)
    OPEN --dispute--> DISPUTED --uphold--> OPEN | --void--> VOID
    any non-terminal --void (verifier, with a reason)--> VOID

Who may act is part of the rule: the creator (an inspector) submits, the assignee replies
and disputes, the verifier re-inspects, rules on disputes and voids. A major safety hazard
(重大隐患) needs a treatment plan before it opens and a regional sign-off before it closes.

No clock, no I/O: callers pass ``today`` and the actor's relation to the issue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .errors import Conflict, InvalidInput, PermissionDenied

__all__ = [
    "GENESIS_HASH",
    "LIVE",
    "NOT_A_PARTY",
    "TERMINAL",
    "TRANSITIONS",
    "Action",
    "ChainProblem",
    "IssueKind",
    "IssueState",
    "NoticeHandling",
    "NoticeStatus",
    "Party",
    "Severity",
    "Status",
    "apply_action",
    "bcf_status",
    "canonical_json",
    "chain_hash",
    "is_overdue",
    "notice_status",
    "severity_rank",
    "verify_chain",
]


class IssueKind(StrEnum):
    QUALITY = "quality"
    SAFETY = "safety"
    COORDINATION = "coordination"


class Severity(StrEnum):
    """Quality 一般 / 较大 / 严重; safety 一般隐患 / 重大隐患 (GB/JGJ usage)."""

    MINOR = "minor"  # 一般 / 一般隐患
    MAJOR = "major"  # 较大 / 重大隐患 (for safety)
    CRITICAL = "critical"  # 严重 (quality only)


class Status(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    READY_FOR_REVIEW = "ready_for_review"
    DISPUTED = "disputed"
    CLOSED = "closed"
    VOID = "void"


class Action(StrEnum):
    SUBMIT = "submit"
    REPLY = "reply"
    REINSPECT_PASS = "reinspect_pass"
    REINSPECT_FAIL = "reinspect_fail"
    DISPUTE = "dispute"
    UPHOLD = "uphold"  # the verifier rejects the dispute: back to OPEN
    VOID = "void"


#: The error code of a step refused because the caller has no part in the issue (their role
#: may act on issues in general: the route let them through, the issue did not).
NOT_A_PARTY = "not_a_party"


class Party(StrEnum):
    """How the actor relates to this issue (a person may hold several)."""

    CREATOR = "creator"
    ASSIGNEE = "assignee"
    VERIFIER = "verifier"


TERMINAL = frozenset({Status.CLOSED, Status.VOID})

#: (from status, action) → (to status, the party that may do it). VOID is added below for
#: every non-terminal status.
TRANSITIONS: dict[tuple[Status, Action], tuple[Status, Party]] = {
    (Status.DRAFT, Action.SUBMIT): (Status.OPEN, Party.CREATOR),
    (Status.OPEN, Action.REPLY): (Status.READY_FOR_REVIEW, Party.ASSIGNEE),
    (Status.READY_FOR_REVIEW, Action.REINSPECT_PASS): (Status.CLOSED, Party.VERIFIER),
    (Status.READY_FOR_REVIEW, Action.REINSPECT_FAIL): (Status.OPEN, Party.VERIFIER),
    (Status.OPEN, Action.DISPUTE): (Status.DISPUTED, Party.ASSIGNEE),
    (Status.DISPUTED, Action.UPHOLD): (Status.OPEN, Party.VERIFIER),
}
for _status in Status:
    if _status not in TERMINAL:
        TRANSITIONS[(_status, Action.VOID)] = (Status.VOID, Party.VERIFIER)


@dataclass(frozen=True, slots=True)
class IssueState:
    """What the rules need to know about an issue."""

    kind: IssueKind
    severity: Severity
    status: Status = Status.DRAFT
    reopened_count: int = 0
    due_date: dt.date | None = None
    has_treatment_plan: bool = False  # 重大隐患: 治理方案 attached
    has_regional_signoff: bool = False  # 重大隐患: the region signed the closure off
    void_reason: str | None = None

    @property
    def is_major_hazard(self) -> bool:
        return self.kind is IssueKind.SAFETY and self.severity is Severity.MAJOR


def apply_action(
    state: IssueState,
    action: Action,
    *,
    parties: Iterable[Party],
    reason: str | None = None,
    evidence_count: int = 0,
) -> IssueState:
    """The issue after ``action`` by an actor holding ``parties``.

    Raises ``Conflict`` (code ``invalid_transition``) for an action the status does not
    allow, ``PermissionDenied`` when the actor is not the party the step belongs to, and
    ``InvalidInput`` when the step lacks what it needs (a reply without after-photos, a
    void or a failed re-inspection without a reason, a major hazard without its plan or
    sign-off).
    """
    step = TRANSITIONS.get((state.status, action))
    if step is None:
        raise Conflict(
            f"an issue that is {state.status.value} cannot take '{action.value}'", code="invalid_transition"
        )
    target, party = step
    if party not in set(parties):
        raise PermissionDenied(f"only the issue's {party.value} may {action.value} it", code=NOT_A_PARTY)
    if action is Action.SUBMIT and state.is_major_hazard and not state.has_treatment_plan:
        raise InvalidInput("a major safety hazard (重大隐患) needs a treatment plan before it is opened")
    if action is Action.REPLY and evidence_count < 1:
        raise InvalidInput("a rectification reply needs at least one after-photo")
    if action is Action.REINSPECT_PASS and state.is_major_hazard and not state.has_regional_signoff:
        raise InvalidInput("closing a major safety hazard (重大隐患) needs the region's sign-off")
    if action in (Action.VOID, Action.REINSPECT_FAIL, Action.DISPUTE) and not (reason and reason.strip()):
        raise InvalidInput(f"'{action.value}' needs a reason")
    return replace(
        state,
        status=target,
        reopened_count=state.reopened_count + (1 if action is Action.REINSPECT_FAIL else 0),
        void_reason=reason.strip() if action is Action.VOID and reason else state.void_reason,
    )


def is_overdue(state: IssueState, today: dt.date) -> bool:
    """Past due while the ball is with the responsible party (OPEN) — not while the
    verifier holds it, not once closed."""
    return state.status is Status.OPEN and state.due_date is not None and state.due_date < today


def bcf_status(status: Status) -> str:
    """BCF's TopicStatus: Open for anything still in the loop, Closed for CLOSED / VOID
    (the native status travels as a label)."""
    return "Closed" if status in TERMINAL else "Open"


#: In the loop and visible to others: what the "defects" colour mode and overdue lists count.
LIVE = frozenset({Status.OPEN, Status.READY_FOR_REVIEW, Status.DISPUTED})

_SEVERITY_RANK = {Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


def severity_rank(severity: Severity) -> int:
    """1 (minor) … 3 (critical): larger is worse, for "worst open severity per element"."""
    return _SEVERITY_RANK[severity]


# --- rectification notice (整改通知单) -------------------------------------------------------


class NoticeHandling(StrEnum):
    """处理意见."""

    RECTIFY = "rectify"  # 整改
    STOP_WORK = "stop_work"  # 停工整改
    FINE = "fine"  # 罚款


class NoticeStatus(StrEnum):
    ISSUED = "issued"  # 已下发 (未回执)
    ACKNOWLEDGED = "acknowledged"  # 已签收
    REPLIED = "replied"  # 已回执: every finding has been answered at least once
    VERIFIED = "verified"  # 已闭合: every finding closed (or voided)


def notice_status(findings: Iterable[tuple[Status, int]], *, acknowledged: bool) -> NoticeStatus:
    """A notice's state follows its findings, given as ``(status, reopened_count)``.

    VERIFIED once every finding is closed or void; REPLIED once every live finding has been
    answered (ready for review, closed, or reopened after a failed re-inspection, which
    means it was answered before) — so a notice stays REPLIED while a failed item is
    reworked (domain.md scenario 6); otherwise ACKNOWLEDGED or ISSUED.
    """
    items = list(findings)
    if items and all(status in TERMINAL for status, _ in items):
        return NoticeStatus.VERIFIED
    answered = [
        status in (Status.READY_FOR_REVIEW, Status.CLOSED) or reopened > 0
        for status, reopened in items
        if status is not Status.VOID
    ]
    if answered and all(answered):
        return NoticeStatus.REPLIED
    return NoticeStatus.ACKNOWLEDGED if acknowledged else NoticeStatus.ISSUED


# --- hash chain ---------------------------------------------------------------------------

#: The previous hash of an issue's first event.
GENESIS_HASH = "0" * 64


def canonical_json(content: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same content always gives the same bytes, on
    any machine and database (dates and datetimes must already be ISO strings)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(previous_hash: str, content: Mapping[str, Any]) -> str:
    """sha256 over the previous event's hash and this event's canonical content."""
    return hashlib.sha256(previous_hash.encode("ascii") + b"\n" + canonical_json(content)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    sequence: int  # the event's position (1-based) where the chain breaks
    reason: str


def verify_chain(
    events: Sequence[tuple[int, Mapping[str, Any], str, str]], *, expected_count: int, expected_head: str
) -> list[ChainProblem]:
    """Problems in one issue's event log; empty when it is intact.

    ``events`` are ``(sequence, content, prev_hash, hash)`` in sequence order, as stored;
    ``expected_count`` and ``expected_head`` are what the issue row recorded when the last
    event was appended. An edited row fails its own hash; an inserted or deleted row breaks
    the sequence numbers or the link to its neighbour; a deleted (or added) last row no
    longer matches the recorded count and head.
    """
    problems: list[ChainProblem] = []
    previous = GENESIS_HASH
    for position, (sequence, content, prev_hash, stored_hash) in enumerate(events, start=1):
        if sequence != position:
            problems.append(ChainProblem(position, f"sequence {sequence} where {position} was expected"))
        if prev_hash != previous:
            problems.append(ChainProblem(position, "does not link to the event before it"))
        if chain_hash(prev_hash, content) != stored_hash:
            problems.append(ChainProblem(position, "its content does not match its hash (edited)"))
        previous = stored_hash
    if len(events) != expected_count:
        problems.append(
            ChainProblem(len(events), f"{len(events)} events where {expected_count} were recorded")
        )
    if previous != (expected_head if expected_count else GENESIS_HASH):
        problems.append(ChainProblem(len(events), "the last event is not the one recorded on the issue"))
    return problems
