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
    "DEFAULT_TOPIC_TYPE",
    "GENESIS_HASH",
    "LIVE",
    "NOT_A_PARTY",
    "TERMINAL",
    "TRANSITIONS",
    "Action",
    "ChainProblem",
    "IssueFacts",
    "IssueKind",
    "IssueState",
    "NoticeHandling",
    "NoticeStatus",
    "Party",
    "Severity",
    "Status",
    "anchor_root",
    "apply_action",
    "bcf_status",
    "canonical_json",
    "chain_hash",
    "check_anchor",
    "check_parties",
    "check_severity_change",
    "check_sign_off",
    "differing_facts",
    "is_overdue",
    "notice_status",
    "replay_events",
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
        # A sign-off is for the evidence it saw: a failed re-inspection means new evidence
        # and a new sign-off.
        has_regional_signoff=state.has_regional_signoff and action is not Action.REINSPECT_FAIL,
    )


def check_sign_off(state: IssueState) -> None:
    """The region signs a major hazard's closure off once the rectification is in: only a
    major hazard, only while it waits for re-inspection (READY_FOR_REVIEW)."""
    if not state.is_major_hazard:
        raise InvalidInput("only a major safety hazard (重大隐患) needs a regional sign-off")
    if state.status is not Status.READY_FOR_REVIEW:
        raise Conflict(
            "a major hazard is signed off once its rectification is in (ready for review); "
            f"it is {state.status.value}",
            code="invalid_transition",
        )


def check_severity_change(state: IssueState, severity: Severity, *, treatment_plan: bool) -> None:
    """A grade may change while the issue is in the loop, with two guards: a safety hazard is
    minor or major, never critical; and a major hazard, once opened, keeps its grade (its
    closure needs the region's sign-off — lowering the grade would skip it: void it and raise
    a new one instead), while raising an open hazard to major needs its treatment plan."""
    if state.kind is IssueKind.SAFETY and severity is Severity.CRITICAL:
        raise InvalidInput("a safety hazard is minor (一般隐患) or major (重大隐患), not critical")
    if state.status is Status.DRAFT or severity is state.severity:
        return
    if state.is_major_hazard:
        raise Conflict(
            "a major safety hazard (重大隐患) keeps its grade once opened: void it and raise a new issue",
            code="major_hazard_grade",
        )
    if state.kind is IssueKind.SAFETY and severity is Severity.MAJOR and not treatment_plan:
        raise InvalidInput("a major safety hazard (重大隐患) needs a treatment plan")


def check_parties(*, assignee: int | None, verifier: int | None) -> None:
    """The one who rectifies does not verify their own work (assignee ≠ verifier)."""
    if assignee is not None and assignee == verifier:
        raise InvalidInput("the assignee cannot also be the verifier: nobody checks their own rectification")


def is_overdue(state: IssueState, today: dt.date) -> bool:
    """Past due while the ball is with the responsible party (OPEN) — not while the
    verifier holds it, not once closed."""
    return state.status is Status.OPEN and state.due_date is not None and state.due_date < today


def bcf_status(status: Status) -> str:
    """BCF's TopicStatus: Open for anything still in the loop, Closed for CLOSED / VOID
    (the native status travels as a label)."""
    return "Closed" if status in TERMINAL else "Open"


#: BCF TopicType written for an issue that has none of its own (free text in BCF).
DEFAULT_TOPIC_TYPE = {
    IssueKind.QUALITY: "Defect",
    IssueKind.SAFETY: "Safety hazard",
    IssueKind.COORDINATION: "Issue",
}

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


# --- what the log says the issue is ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueFacts:
    """The parts of an issue its event log determines, in comparable form: the log replayed
    (``replay_events``) must equal the stored rows, or a row was changed behind the log."""

    status: str = Status.DRAFT.value
    reopened_count: int = 0
    severity: str | None = None
    title: str | None = None
    description: str | None = None
    due_date: str | None = None  # ISO date
    assignee: str | None = None  # user name, or the name a BCF file gave
    labels: frozenset[str] = frozenset()
    global_ids: frozenset[str] = frozenset()
    comments: tuple[tuple[str, str], ...] = ()  # (guid, text), sorted by guid
    photos: frozenset[tuple[str, str]] = frozenset()  # (role, sha256)
    viewpoints: frozenset[str] = frozenset()
    signed_off: bool = False
    notice: str | None = None  # notice number


#: Event types whose value is the new value of a text field of the same name.
_FIELD_EVENTS = {
    "title_updated": "title",
    "description_updated": "description",
    "severity_updated": "severity",
    "due_date_updated": "due_date",
    "assigned_to_updated": "assignee",
}


def replay_events(contents: Iterable[Mapping[str, Any]]) -> IssueFacts:
    """Fold an issue's event contents (in sequence order) into ``IssueFacts``.

    Every service that changes one of these facts appends the event that says so (the
    contract ``verify_project_chain`` holds them to): ``created`` carries the first values,
    ``status_updated`` the new status and reopen count, ``<field>_updated`` a field's new
    value, ``label_added``/``label_removed``, ``comment_added``/``comment_updated``,
    ``photo_added``, ``elements_added``, ``viewpoint_added``, ``signoff_added``/``signoff_removed``,
    ``notice_issued``.
    """
    facts: dict[str, Any] = {}
    labels: set[str] = set()
    global_ids: set[str] = set()
    comments: dict[str, str] = {}
    photos: set[tuple[str, str]] = set()
    viewpoints: set[str] = set()
    for content in contents:
        kind, value = content.get("type"), content.get("value")
        if kind == "created" and isinstance(value, Mapping):
            for name in ("title", "description", "severity"):
                facts[name] = value.get(name)
            facts["status"] = value.get("status") or Status.DRAFT.value
            labels = set(value.get("labels") or ())
            global_ids = set(value.get("global_ids") or ())
            viewpoints |= set(value.get("viewpoints") or ())
        elif kind in _FIELD_EVENTS:
            facts[_FIELD_EVENTS[kind]] = value
        elif kind == "status_updated" and isinstance(value, Mapping):
            facts["status"] = value.get("to")
            facts["reopened_count"] = value.get("reopened_count", facts.get("reopened_count", 0))
        elif kind == "label_added":
            labels.add(value)
        elif kind == "label_removed":
            labels.discard(value)
        elif kind in ("comment_added", "comment_updated") and isinstance(value, Mapping):
            comments[value.get("guid")] = value.get("text")
        elif kind == "photo_added" and isinstance(value, Mapping):
            photos.add((value.get("role"), value.get("sha256")))
        elif kind == "elements_added":
            global_ids |= set(value or ())
        elif kind == "viewpoint_added" and isinstance(value, Mapping):
            viewpoints.add(value.get("guid"))
        elif kind in ("signoff_added", "signoff_removed"):
            facts["signed_off"] = kind == "signoff_added"
        elif kind == "notice_issued":
            facts["notice"] = value
    return IssueFacts(
        **facts,
        labels=frozenset(labels),
        global_ids=frozenset(global_ids),
        comments=tuple(sorted(comments.items())),
        photos=frozenset(photos),
        viewpoints=frozenset(viewpoints),
    )


def differing_facts(logged: IssueFacts, stored: IssueFacts) -> list[str]:
    """Names of the facts where the stored issue differs from its log (empty: it agrees)."""
    return [name for name in IssueFacts.__slots__ if getattr(logged, name) != getattr(stored, name)]


# --- anchoring the chains outside the database ---------------------------------------------
# A row can be checked against its neighbours, and an issue against its own log; but an issue
# deleted whole, or a chain cut back and its recorded head rewound, leaves nothing behind to
# compare with. An anchor — every issue's (event count, head hash) at a moment, and one root
# hash over them — kept outside the database (printed, mailed, filed) closes that gap: later,
# every anchored issue must still be there with its anchored event unchanged.


def anchor_root(heads: Mapping[str, tuple[int, str]]) -> str:
    """One sha256 over every issue's ``guid → (event count, head hash)``, in guid order."""
    digest = hashlib.sha256()
    for guid in sorted(heads):
        count, head = heads[guid]
        digest.update(f"{guid}\n{count}\n{head}\n".encode("ascii", "replace"))
    return digest.hexdigest()


def check_anchor(
    anchored: Mapping[str, tuple[int, str]], hash_at: Mapping[str, Mapping[int, str]]
) -> list[tuple[str, str]]:
    """``(guid, reason)`` for every anchored issue that is gone, or whose anchored event is
    missing or different now. ``hash_at`` gives, per current issue, its events' hashes by
    sequence. Issues and events added since the anchor are fine (the chain grows)."""
    problems = []
    for guid, (count, head) in sorted(anchored.items()):
        events = hash_at.get(guid)
        if events is None:
            problems.append((guid, "the issue was anchored but no longer exists (deleted)"))
        elif count and events.get(count) != head:
            problems.append(
                (guid, f"event {count} is not the one anchored (the chain was cut back or rewritten)")
            )
    return problems
