"""The issues panel's own logic with a stand-in client (no server): what it sends when an
issue is raised, and what happens when the photo after it fails."""

from __future__ import annotations

import asyncio
import datetime as dt

from viewer.client import IssueDetail, IssueRow, Me, Refused, UserRef
from viewer.pages.issues import IssuesPanel

TODAY = dt.date(2026, 12, 6)


class FakeClient:
    """Records what the panel asks; ``photo_error`` makes photo uploads fail."""

    def __init__(self, photo_error: Exception | None = None) -> None:
        self.created: list[dict] = []
        self.photos: list[tuple[int, str]] = []
        self.photo_error = photo_error

    async def me(self) -> Me:
        return Me(1, "inspector", "inspector", frozenset({"read", "raise_issue"}))

    async def list_users(self, project_id: int) -> list[UserRef]:
        return [UserRef(1, "inspector", None, "inspector"), UserRef(2, "site", "项目经理", "site_manager")]

    async def list_issues(self, project_id: int, **filters) -> list[IssueRow]:
        return [self._row(n + 1, f["point_m"]) for n, f in enumerate(self.created)]

    async def create_issue(self, project_id: int, fields: dict) -> IssueDetail:
        self.created.append(fields)
        return IssueDetail(
            self._row(len(self.created), fields.get("point_m")), None, "inspector", None, 0, (), None, (), ()
        )

    async def get_issue(self, project_id: int, issue_id: int) -> IssueDetail:
        fields = self.created[issue_id - 1]
        return IssueDetail(
            self._row(issue_id, fields.get("point_m")), None, "inspector", None, 0, (), None, (), ()
        )

    async def add_photo(
        self, project_id: int, issue_id: int, *, role: str, file_name: str, data: bytes
    ) -> None:
        if self.photo_error is not None:
            raise self.photo_error
        self.photos.append((issue_id, role))

    @staticmethod
    def _row(number: int, point) -> IssueRow:
        return IssueRow(
            number,
            number,
            "quality",
            "t",
            "minor",
            "open",
            False,
            None,
            2,
            "site",
            ("g",),
            tuple(point or ()) or None,
            None,
        )


async def _noop(_detail) -> None:
    return None


def _panel(client: FakeClient) -> IssuesPanel:
    panel = IssuesPanel(client=client, today=TODAY, restore=_noop)
    asyncio.run(panel.load(project_id=4, revision_id=1))
    panel.set_pick(
        global_id="2O2Fr$t4X7Zf8NOew3FLOH",
        point_m=[1.0, 2.0, 3.0],
        camera={"kind": "perspective", "position_m": [1, 2, 3], "direction": [0, 1, 0]},
        day="2025-03-20",
        color_mode="status",
    )
    panel._open_form()
    panel.title_input.value = "柱脚露筋"
    return panel


def test_raising_sends_the_pick_the_view_and_the_date_with_the_site_manager_as_assignee() -> None:
    client = FakeClient()
    panel = _panel(client)
    assert not panel.new_button.disabled
    panel.form_photo.value = b"\xff\xd8\xff" + b"\0" * 10
    asyncio.run(panel._create())
    (sent,) = client.created
    assert sent["global_ids"] == ["2O2Fr$t4X7Zf8NOew3FLOH"] and sent["point_m"] == [1.0, 2.0, 3.0]
    assert sent["fourd_date"] == "2025-03-20" and sent["assignee_id"] == 2
    assert (
        sent["viewpoint"]["camera"]["position_m"] == [1, 2, 3] and sent["viewpoint"]["color_mode"] == "status"
    )
    assert client.photos == [(1, "before")]
    assert panel.form.visible is False and panel.pins[0]["point_m"] == [1.0, 2.0, 3.0]


def test_a_refused_photo_after_the_issue_exists_closes_the_form_so_it_is_not_raised_twice() -> None:
    client = FakeClient(photo_error=Refused("the photo is larger than 20 MB"))
    panel = _panel(client)
    panel.form_photo.value = b"\xff\xd8\xff" + b"\0" * 10
    asyncio.run(panel._create())
    assert len(client.created) == 1 and panel.form.visible is False
    assert panel.feedback.alert_type == "warning" and "20 MB" in panel.feedback.object
    asyncio.run(panel._create())  # pressing again (the form is closed): no second issue
    assert len(client.created) == 1  # the closed form kept nothing to send again


def test_a_major_hazard_asks_for_its_treatment_plan() -> None:
    client = FakeClient()
    panel = _panel(client)
    panel.kind.value = "safety"
    assert set(panel.severity.options.values()) == {"minor", "major"}  # hazards are 一般 or 重大
    assert "重大隐患" in panel.severity.options
    panel.severity.value = "major"
    assert panel.treatment_plan.visible
    panel.treatment_plan.value = "设置防护栏杆"
    asyncio.run(panel._create())
    assert client.created[0]["treatment_plan"] == "设置防护栏杆" and client.created[0]["severity"] == "major"
