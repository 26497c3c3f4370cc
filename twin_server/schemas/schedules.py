from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from .common import GlobalIdText, Input, Name, PlanDate, Public, UtcDatetime


class ScheduleVersionPublic(Public):
    id: int
    schedule_id: int
    number: int
    source_format: str
    file_name: str
    data_date: dt.date | None
    task_count: int
    link_count: int
    element_link_count: int
    warnings: list[str]
    imported_at: UtcDatetime
    calendars: list[dict[str, Any]] = Field(
        default_factory=list, description="key, name, working_weekdays (ISO 1=Mon), holidays"
    )


class SchedulePublic(Public):
    id: int
    project_id: int
    name: str
    latest_version: int | None
    baseline_version: int | None
    baseline_pinned: bool


class TaskPublic(Public):
    index: int = Field(description="position in the version: the task index of the 4D payload")
    key: str
    wbs_code: str | None
    name: str
    parent_key: str | None
    is_milestone: bool
    is_summary: bool
    is_critical: bool
    planned_start: dt.date | None
    planned_finish: dt.date | None
    baseline_start: dt.date | None
    baseline_finish: dt.date | None
    actual_start: dt.date | None
    actual_finish: dt.date | None
    duration_days: float | None
    percent_complete: float | None
    total_float_days: float | None
    status: str | None = Field(None, description="not_started, in_progress, done, late, ahead (at the date)")
    delay_days: float | None = None
    light: str | None = Field(None, description="green, yellow, red")


class TaskElementsPublic(Public):
    task_key: str
    glb_indices: list[int] = Field(description="rows of the GLB element table, ascending")


class BaselineUpdate(Input):
    version: int | None = Field(
        None, ge=1, le=1_000_000, description="version number to pin; null: the previous version"
    )


class TaskProgressUpdate(Input):
    actual_start: PlanDate | None = None
    actual_finish: PlanDate | None = None
    percent_complete: float | None = Field(None, ge=0, le=100)


class ElementLinksCreate(Input):
    task_key: Name = Field(max_length=100)
    global_ids: list[GlobalIdText] = Field(min_length=1, max_length=10_000)


class RuleFilter(Input):
    """Which elements a rule links (all given conditions must hold); a zone (流水段) is a
    property condition such as ``施工信息.施工段=A区``."""

    ifc_class: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        [], max_length=50, description="any of these classes (any case)"
    )
    storey: str | None = Field(None, min_length=1, max_length=200, description="storey GlobalId or name")
    prop: list[Annotated[str, StringConstraints(min_length=1, max_length=400)]] = Field(
        [], max_length=10, description="'Set.Property<op>value', op one of = != > >= < <= ~"
    )
    classification: str | None = Field(None, min_length=1, max_length=64, description="code, or prefix*")
    text: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, min_length=1, max_length=200, description="glob on the name, e.g. 'WQ*'")


class LinkRuleCreate(Input):
    task_key: Name = Field(max_length=100)
    filter: RuleFilter = Field(
        examples=[{"ifc_class": ["IfcWall"], "storey": "2F", "prop": ["施工信息.施工段=A区"]}]
    )


class LinkRulePublic(Public):
    id: int
    task_key: str
    filter: dict[str, Any]


class LinksAdded(Public):
    added: int
    unmatched: list[str] = Field(description="rows whose task is not in the latest version (first 100)")


class CoveragePublic(Public):
    elements: int
    linked_elements: int
    elements_without_task_count: int
    elements_in_several_tasks_count: int
    elements_without_task: list[str]
    tasks_without_element: list[str]
    elements_in_several_tasks: dict[str, list[str]]


class LinkDiffPublic(Public):
    base_id: int
    target_id: int
    added: dict[str, list[str]]
    removed: dict[str, list[str]]


class TaskComparison(Public):
    key: str
    name: str
    status: str = Field(description="same, moved, added, removed")
    start_shift_days: int | None = None
    finish_shift_days: int | None = None


class VersionComparison(Public):
    version: int
    against: int
    tasks: list[TaskComparison]


class FourDSummary(Public):
    at: dt.date
    elements: int
    by_status: dict[str, int]
    spi: float | None = Field(description="earned value / planned value, element-weighted")
