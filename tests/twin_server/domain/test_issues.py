"""The issue state machine (every allowed and forbidden transition, who may take it) and
the tamper-evident event chain (edit, insert, delete)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

import pytest

from twin_server.domain.errors import Conflict, InvalidInput, PermissionDenied
from twin_server.domain.issues import (
    GENESIS_HASH,
    TRANSITIONS,
    Action,
    IssueKind,
    IssueState,
    Party,
    Severity,
    Status,
    apply_action,
    bcf_status,
    chain_hash,
    is_overdue,
    verify_chain,
)

ALLOWED = {
    (Status.DRAFT, Action.SUBMIT): Status.OPEN,
    (Status.DRAFT, Action.VOID): Status.VOID,
    (Status.OPEN, Action.REPLY): Status.READY_FOR_REVIEW,
    (Status.OPEN, Action.DISPUTE): Status.DISPUTED,
    (Status.OPEN, Action.VOID): Status.VOID,
    (Status.READY_FOR_REVIEW, Action.REINSPECT_PASS): Status.CLOSED,
    (Status.READY_FOR_REVIEW, Action.REINSPECT_FAIL): Status.OPEN,
    (Status.READY_FOR_REVIEW, Action.VOID): Status.VOID,
    (Status.DISPUTED, Action.UPHOLD): Status.OPEN,
    (Status.DISPUTED, Action.VOID): Status.VOID,
}
EVERYONE = set(Party)


def _do(status: Status, action: Action, parties=EVERYONE, **kwargs) -> IssueState:
    state = IssueState(kind=IssueKind.QUALITY, severity=Severity.MINOR, status=status)
    return apply_action(
        state, action, parties=parties, reason=kwargs.pop("reason", "because"), evidence_count=1, **kwargs
    )


def test_the_table_is_exactly_the_documented_machine() -> None:
    assert {k: v[0] for k, v in TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_transition_is_allowed_or_refused(status, action) -> None:
    if (status, action) in ALLOWED:
        assert _do(status, action).status is ALLOWED[(status, action)]
    else:
        with pytest.raises(Conflict) as refused:
            _do(status, action)
        assert refused.value.code == "invalid_transition"


@pytest.mark.parametrize(("key", "step"), list(TRANSITIONS.items()))
def test_only_the_right_party_may_take_each_step(key, step) -> None:
    status, action = key
    owner = step[1]
    assert _do(status, action, parties={owner}).status is step[0]
    for other in EVERYONE - {owner}:
        with pytest.raises(PermissionDenied):
            _do(status, action, parties={other})


def test_a_failed_reinspection_reopens_and_counts() -> None:
    state = IssueState(kind=IssueKind.QUALITY, severity=Severity.MINOR, status=Status.OPEN)
    for expected in (1, 2):
        state = apply_action(state, Action.REPLY, parties={Party.ASSIGNEE}, evidence_count=2)
        state = apply_action(state, Action.REINSPECT_FAIL, parties={Party.VERIFIER}, reason="still cracked")
        assert (state.status, state.reopened_count) == (Status.OPEN, expected)
    state = apply_action(state, Action.REPLY, parties={Party.ASSIGNEE}, evidence_count=1)
    state = apply_action(state, Action.REINSPECT_PASS, parties={Party.VERIFIER})
    assert (state.status, state.reopened_count) == (Status.CLOSED, 2)


def test_steps_that_need_evidence_or_a_reason() -> None:
    open_ = IssueState(kind=IssueKind.QUALITY, severity=Severity.MINOR, status=Status.OPEN)
    with pytest.raises(InvalidInput, match="after-photo"):
        apply_action(open_, Action.REPLY, parties={Party.ASSIGNEE}, evidence_count=0)
    for action in (Action.VOID, Action.DISPUTE):
        with pytest.raises(InvalidInput, match="reason"):
            apply_action(open_, action, parties=EVERYONE, reason="  ")
    voided = apply_action(open_, Action.VOID, parties={Party.VERIFIER}, reason=" duplicate of #12 ")
    assert voided.void_reason == "duplicate of #12"


def test_a_major_safety_hazard_needs_a_plan_to_open_and_a_signoff_to_close() -> None:
    hazard = IssueState(kind=IssueKind.SAFETY, severity=Severity.MAJOR)
    with pytest.raises(InvalidInput, match="treatment plan"):
        apply_action(hazard, Action.SUBMIT, parties={Party.CREATOR})
    hazard = apply_action(replace(hazard, has_treatment_plan=True), Action.SUBMIT, parties={Party.CREATOR})
    hazard = apply_action(hazard, Action.REPLY, parties={Party.ASSIGNEE}, evidence_count=1)
    with pytest.raises(InvalidInput, match="sign-off"):
        apply_action(hazard, Action.REINSPECT_PASS, parties={Party.VERIFIER})
    closed = apply_action(
        replace(hazard, has_regional_signoff=True), Action.REINSPECT_PASS, parties={Party.VERIFIER}
    )
    assert closed.status is Status.CLOSED
    # A major *quality* defect has no such rule.
    quality = IssueState(kind=IssueKind.QUALITY, severity=Severity.MAJOR)
    assert apply_action(quality, Action.SUBMIT, parties={Party.CREATOR}).status is Status.OPEN


def test_overdue_only_while_the_ball_is_with_the_assignee() -> None:
    today = dt.date(2025, 6, 10)
    due = dt.date(2025, 6, 9)
    for status in Status:
        state = IssueState(kind=IssueKind.SAFETY, severity=Severity.MINOR, status=status, due_date=due)
        assert is_overdue(state, today) is (status is Status.OPEN)
    on_time = IssueState(kind=IssueKind.SAFETY, severity=Severity.MINOR, status=Status.OPEN, due_date=today)
    assert not is_overdue(on_time, today)
    assert not is_overdue(replace(on_time, due_date=None), today)


def test_bcf_status_keeps_open_and_closed_apart() -> None:
    assert {s: bcf_status(s) for s in Status} == {
        Status.DRAFT: "Open",
        Status.OPEN: "Open",
        Status.READY_FOR_REVIEW: "Open",
        Status.DISPUTED: "Open",
        Status.CLOSED: "Closed",
        Status.VOID: "Closed",
    }


def _chain(contents):
    events, previous = [], GENESIS_HASH
    for sequence, content in enumerate(contents, start=1):
        digest = chain_hash(previous, content)
        events.append((sequence, content, previous, digest))
        previous = digest
    return events


CONTENTS = [
    {"type": "created", "author": "inspector", "at": "2025-06-01T09:00:00+08:00", "value": "墙面空鼓"},
    {
        "type": "assigned_to_updated",
        "author": "inspector",
        "at": "2025-06-01T09:01:00+08:00",
        "value": "site",
    },
    {
        "type": "status_updated",
        "author": "site",
        "at": "2025-06-03T16:30:00+08:00",
        "value": "ready_for_review",
    },
]


def test_an_intact_chain_verifies() -> None:
    events = _chain(CONTENTS)
    assert verify_chain(events, expected_count=3, expected_head=events[-1][3]) == []
    assert verify_chain([], expected_count=0, expected_head=GENESIS_HASH) == []
    # The hash is over canonical content: key order does not matter, every value does.
    assert chain_hash(GENESIS_HASH, dict(reversed(CONTENTS[0].items()))) == events[0][3]


def test_an_edited_inserted_or_deleted_row_is_detected() -> None:
    events = _chain(CONTENTS)
    head = events[-1][3]
    edited = list(events)
    edited[1] = (2, {**CONTENTS[1], "value": "someone else"}, events[1][2], events[1][3])
    assert [p.sequence for p in verify_chain(edited, expected_count=3, expected_head=head)] == [2]

    forged = {"type": "comment_added", "author": "x", "at": "2025-06-02T00:00:00+08:00", "value": "ok"}
    inserted = [*events[:1], (2, forged, events[0][3], chain_hash(events[0][3], forged)), *events[1:]]
    problems = verify_chain(inserted, expected_count=3, expected_head=head)
    assert problems and problems[0].sequence == 3

    middle_gone = [events[0], events[2]]
    assert verify_chain(middle_gone, expected_count=3, expected_head=head)

    last_gone = events[:2]  # every remaining link is fine: only the recorded count and head tell
    problems = verify_chain(last_gone, expected_count=3, expected_head=head)
    assert {p.reason for p in problems} >= {"2 events where 3 were recorded"}

    rehashed = _chain([CONTENTS[0], {**CONTENTS[1], "value": "rewritten"}, CONTENTS[2]])
    assert verify_chain(
        rehashed, expected_count=3, expected_head=head
    )  # a rewritten history has another head


# --- notices and severity -------------------------------------------------------------------


def test_notice_is_issued_until_acknowledged_then_replied_then_verified() -> None:
    from twin_server.domain.issues import NoticeStatus, notice_status

    open_two = [(Status.OPEN, 0), (Status.OPEN, 0)]
    assert notice_status(open_two, acknowledged=False) is NoticeStatus.ISSUED
    assert notice_status(open_two, acknowledged=True) is NoticeStatus.ACKNOWLEDGED
    half = [(Status.READY_FOR_REVIEW, 0), (Status.OPEN, 0)]
    assert notice_status(half, acknowledged=True) is NoticeStatus.ACKNOWLEDGED
    both = [(Status.READY_FOR_REVIEW, 0), (Status.CLOSED, 0)]
    assert notice_status(both, acknowledged=False) is NoticeStatus.REPLIED
    # Scenario 6: one item fails re-inspection and goes back: the notice stays REPLIED.
    failed_one = [(Status.OPEN, 1), (Status.CLOSED, 0)]
    assert notice_status(failed_one, acknowledged=True) is NoticeStatus.REPLIED
    assert notice_status([(Status.CLOSED, 1), (Status.VOID, 0)], acknowledged=True) is NoticeStatus.VERIFIED
    # A voided finding does not hold the reply back.
    assert notice_status([(Status.VOID, 0), (Status.READY_FOR_REVIEW, 0)], acknowledged=False) is (
        NoticeStatus.REPLIED
    )
    assert notice_status([], acknowledged=False) is NoticeStatus.ISSUED


def test_severity_rank_orders_minor_major_critical() -> None:
    from twin_server.domain.issues import severity_rank

    ranks = [severity_rank(s) for s in (Severity.MINOR, Severity.MAJOR, Severity.CRITICAL)]
    assert ranks == sorted(ranks) and len(set(ranks)) == 3
