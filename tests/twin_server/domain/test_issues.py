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


# --- sign-off, grades, parties ---------------------------------------------------------------

HAZARD = IssueState(IssueKind.SAFETY, Severity.MAJOR, has_treatment_plan=True)


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_the_region_signs_off_only_a_major_hazard_waiting_for_re_inspection(status) -> None:
    from twin_server.domain.issues import check_sign_off

    if status is Status.READY_FOR_REVIEW:
        check_sign_off(replace(HAZARD, status=status))
    else:
        with pytest.raises(Conflict):
            check_sign_off(replace(HAZARD, status=status))
    with pytest.raises(InvalidInput):
        check_sign_off(IssueState(IssueKind.QUALITY, Severity.MAJOR, status=Status.READY_FOR_REVIEW))


def test_a_failed_re_inspection_takes_the_sign_off_back() -> None:
    signed = replace(HAZARD, status=Status.READY_FOR_REVIEW, has_regional_signoff=True)
    failed = apply_action(signed, Action.REINSPECT_FAIL, parties=[Party.VERIFIER], reason="not done")
    assert failed.has_regional_signoff is False and failed.reopened_count == 1
    passed = apply_action(signed, Action.REINSPECT_PASS, parties=[Party.VERIFIER])
    assert passed.status is Status.CLOSED


@pytest.mark.parametrize(
    ("kind", "before", "status", "after", "plan", "outcome"),
    [
        (IssueKind.SAFETY, Severity.MINOR, Status.DRAFT, Severity.CRITICAL, True, InvalidInput),
        (IssueKind.SAFETY, Severity.MAJOR, Status.OPEN, Severity.MINOR, True, Conflict),  # skip the sign-off
        (IssueKind.SAFETY, Severity.MAJOR, Status.DRAFT, Severity.MINOR, True, None),  # not opened yet
        (IssueKind.SAFETY, Severity.MINOR, Status.OPEN, Severity.MAJOR, False, InvalidInput),  # needs a plan
        (IssueKind.SAFETY, Severity.MINOR, Status.OPEN, Severity.MAJOR, True, None),
        (IssueKind.QUALITY, Severity.CRITICAL, Status.OPEN, Severity.MINOR, False, None),
        (IssueKind.QUALITY, Severity.MINOR, Status.READY_FOR_REVIEW, Severity.CRITICAL, False, None),
    ],
)
def test_severity_changes(kind, before, status, after, plan, outcome) -> None:
    from twin_server.domain.issues import check_severity_change

    state = IssueState(kind, before, status=status)
    if outcome is None:
        check_severity_change(state, after, treatment_plan=plan)
    else:
        with pytest.raises(outcome):
            check_severity_change(state, after, treatment_plan=plan)


def test_the_assignee_is_never_the_verifier() -> None:
    from twin_server.domain.issues import check_parties

    check_parties(assignee=1, verifier=2)
    check_parties(assignee=None, verifier=2)
    with pytest.raises(InvalidInput):
        check_parties(assignee=3, verifier=3)


# --- replaying the log, anchors ------------------------------------------------------------


def _log(*events: tuple[str, object]) -> list[dict]:
    return [{"type": kind, "value": value} for kind, value in events]


def test_replaying_the_log_gives_the_issue_it_describes() -> None:
    from twin_server.domain.issues import IssueFacts, differing_facts, replay_events

    log = _log(
        (
            "created",
            {
                "title": "柱脚露筋",
                "severity": "major",
                "status": "draft",
                "labels": ["A"],
                "global_ids": ["g1"],
            },
        ),
        ("assigned_to_updated", "site"),
        ("due_date_updated", "2026-12-20"),
        ("status_updated", {"from": "draft", "to": "open", "reopened_count": 0}),
        ("photo_added", {"role": "after", "sha256": "s1"}),
        ("comment_added", {"guid": "c1", "text": "已修补"}),
        ("comment_updated", {"guid": "c1", "text": "已修补完成"}),
        ("label_added", "B"),
        ("label_removed", "A"),
        ("status_updated", {"from": "open", "to": "ready_for_review", "reopened_count": 0}),
        ("status_updated", {"from": "ready_for_review", "to": "open", "reopened_count": 1}),
        ("elements_added", ["g2"]),
        ("viewpoint_added", {"guid": "v1"}),
        ("notice_issued", "ZG-2026-0001"),
        ("title_updated", "柱脚露筋（复核）"),
    )
    facts = replay_events(log)
    expected = IssueFacts(
        status="open",
        reopened_count=1,
        severity="major",
        title="柱脚露筋（复核）",
        due_date="2026-12-20",
        assignee="site",
        labels=frozenset({"B"}),
        global_ids=frozenset({"g1", "g2"}),
        comments=(("c1", "已修补完成"),),
        photos=frozenset({("after", "s1")}),
        viewpoints=frozenset({"v1"}),
        notice="ZG-2026-0001",
    )
    assert facts == expected and differing_facts(facts, expected) == []
    assert differing_facts(facts, replace(expected, status="closed", photos=frozenset())) == [
        "status",
        "photos",
    ]


def test_an_anchor_finds_deleted_issues_and_cut_chains_but_not_growth() -> None:
    from twin_server.domain.issues import anchor_root, check_anchor

    anchored = {"a": (3, "h3"), "b": (2, "h2"), "c": (0, GENESIS_HASH)}
    now = {"a": {1: "h1", 2: "h2a", 3: "h3", 4: "h4"}, "b": {1: "x", 2: "other"}, "c": {}, "d": {1: "n"}}
    problems = dict(check_anchor(anchored, now))
    assert set(problems) == {"b"} and "cut back" in problems["b"]
    del now["a"]
    assert "deleted" in dict(check_anchor(anchored, now))["a"]
    assert anchor_root(anchored) == anchor_root(dict(reversed(list(anchored.items()))))  # order-free
    assert anchor_root(anchored) != anchor_root({**anchored, "b": (2, "h2x")})
