"""Generate ``tests/golden/fourd_status.json``: the 4D status rules as a table of answers.

    python -m tests.golden.make_fourd_golden          # rewrite the committed table
    python -m tests.golden.make_fourd_golden --check  # exit 1 if it is out of date

The answers come from the Python engine (``twin_server.domain.fourd``); the browser's
``viewer/js/src/status.js`` must give the same ones (``tests/twin_server/domain/
test_fourd_golden.py`` runs ``viewer/js/tools/check-status.mjs`` over the table), and the
engine itself must keep giving them: changing a rule means regenerating this table on
purpose, and reviewing its diff.

The table holds elements (their dates as ``element_dates`` computes them from tasks,
links and "installed" marks, plus a name saying which situation each one is), and for a
list of days the status of every element on that day. Three parts:

* named situations, one or a few elements each, around day ``D`` (2024-10-04): every
  status, every kind of missing date, milestones, elements in two or three tasks,
  installed marks, actual dates before planned ones;
* a grid: every combination of planned start, baseline finish, actual start and actual
  finish each being absent or one day before, on, or one day after ``D`` (4⁴ elements),
  so every ordering a date can have relative to the day is covered at ``D``;
* dates far apart: one project spanning 1945..2120 (64,000 days, within what the binary
  payload holds), and dates before 1970 (negative day numbers).

Deterministic: no randomness, no clock; the output is a pure function of the engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from twin_server.domain.fourd import EPOCH_ORDINAL, Status, TaskDates, element_dates, element_status

GOLDEN = Path(__file__).resolve().parent / "fourd_status.json"
FORMAT = "erji-4d-golden-1"
D = 20_000  # 2024-10-04, as in tests/twin_server/domain/test_fourd.py
N = None
COLUMNS = ("planned_start", "planned_finish", "baseline_finish", "actual_start", "actual_finish")

# Far apart: day numbers of 1945-06-01 and 2120-01-01 (63,906 days apart, < 65,534).
FAR_START = dt.date(1945, 6, 1).toordinal() - EPOCH_ORDINAL
FAR_FINISH = dt.date(2120, 1, 1).toordinal() - EPOCH_ORDINAL


class _Builder:
    """Collects tasks, elements, links and installed marks; one ``element_dates`` call at the end."""

    def __init__(self) -> None:
        self.tasks: list[dict] = []
        self.names: list[str] = []
        self.links: list[tuple[int, int]] = []
        self.installed: list[float] = []

    def task(self, **fields) -> int:
        self.tasks.append(fields)
        return len(self.tasks) - 1

    def element(self, name: str, *tasks: int, installed: float | None = None) -> int:
        self.names.append(name)
        index = len(self.names) - 1
        self.links += [(index, t) for t in tasks]
        self.installed.append(np.nan if installed is None else float(installed))
        return index

    def single(self, name: str, **fields) -> int:
        """An element in one task of its own."""
        return self.element(name, self.task(**fields))


def _situations(b: _Builder) -> None:
    """Named situations around D (the comments say what D sees; other days see more)."""
    single = b.single
    b.element("no task: linked to nothing")
    b.element("no task, though marked installed", installed=D - 2)
    single("nothing planned, nothing done")
    single("planned later, not started", planned_start=D + 3, planned_finish=D + 9)
    single("should have started, not started, not yet due", planned_start=D - 3, planned_finish=D + 2)
    single("running on time", planned_start=D - 3, planned_finish=D + 2, actual_start=D - 3)
    single("due today, running: not late yet", planned_start=D - 3, planned_finish=D, actual_start=D - 3)
    single("due yesterday, running: late", planned_start=D - 5, planned_finish=D - 1, actual_start=D - 5)
    single("due long ago, never started: late", planned_start=D - 20, planned_finish=D - 10)
    single(
        "finished on its due day",
        planned_start=D - 5,
        planned_finish=D - 1,
        actual_start=D - 5,
        actual_finish=D - 1,
    )
    single(
        "finished late", planned_start=D - 9, planned_finish=D - 6, actual_start=D - 9, actual_finish=D - 2
    )
    single(
        "finished before its due date: ahead",
        planned_start=D - 5,
        planned_finish=D + 5,
        actual_start=D - 5,
        actual_finish=D,
    )
    single(
        "started before its planned start: ahead",
        planned_start=D + 2,
        planned_finish=D + 8,
        actual_start=D - 1,
    )
    single(
        "started early but the baseline has passed: late wins",
        planned_start=D + 2,
        planned_finish=D + 8,
        baseline_finish=D - 1,
        actual_start=D - 4,
    )
    single(
        "actual finish after the day: not done yet",
        planned_start=D - 5,
        planned_finish=D + 1,
        actual_start=D - 5,
        actual_finish=D + 3,
    )
    single(
        "finish without a start counts as started",
        planned_start=D - 5,
        planned_finish=D - 1,
        actual_finish=D - 2,
    )
    single(
        "baseline decides lateness, not the re-planned finish",
        planned_start=D - 5,
        planned_finish=D + 4,
        baseline_finish=D - 2,
        actual_start=D - 5,
    )
    single(
        "re-planned earlier than its baseline",
        planned_start=D - 5,
        planned_finish=D - 1,
        baseline_finish=D + 3,
        actual_start=D - 5,
    )
    single(
        "actual dates all before the planned ones: ahead, then done",
        planned_start=D - 5,
        planned_finish=D + 5,
        actual_start=D - 20,
        actual_finish=D - 12,
    )
    single(
        "actual finish before actual start (bad data)",
        planned_start=D - 6,
        planned_finish=D - 2,
        actual_start=D + 1,
        actual_finish=D - 3,
    )
    single(
        "milestone reached on time",
        planned_start=D - 1,
        planned_finish=D - 1,
        is_milestone=True,
        actual_finish=D - 1,
    )
    single("milestone missed", planned_start=D - 3, planned_finish=D - 3, is_milestone=True)
    single("milestone due today", planned_start=D, planned_finish=D, is_milestone=True)
    single(
        "milestone ahead", planned_start=D + 4, planned_finish=D + 4, is_milestone=True, actual_finish=D - 1
    )
    # One date alone, each kind (missing dates of every other kind).
    single("only a planned start", planned_start=D - 2)
    single("only a planned finish", planned_finish=D - 2)
    single("only a baseline finish", baseline_finish=D - 1)
    single("only a baseline start", baseline_start=D - 8)
    single("only an actual start", actual_start=D - 2)
    single("only an actual finish", actual_finish=D - 2)
    single("no planned start", planned_finish=D + 3, actual_start=D + 1)
    single("no planned finish, no baseline: never late", planned_start=D - 10, actual_start=D - 10)

    # Elements in several tasks: earliest start, latest finish, done when all are.
    formwork = b.task(planned_start=D - 10, planned_finish=D - 8, actual_start=D - 10, actual_finish=D - 8)
    concrete = b.task(planned_start=D - 7, planned_finish=D + 2, actual_start=D - 7)
    cured = b.task(planned_start=D - 7, planned_finish=D - 3, actual_start=D - 7, actual_finish=D - 1)
    finishes = b.task(planned_start=D + 3, planned_finish=D + 12, baseline_finish=D + 9)
    unplanned = b.task(actual_start=D - 4)
    b.element("two tasks, one done one running: in progress", concrete, formwork)
    b.element("two tasks, both done: done when the later is", formwork, cured)
    b.element("in the first task only: done", formwork)
    b.element("two tasks, second not started: baseline is the later one", formwork, finishes)
    b.element("three tasks", finishes, cured, formwork)
    b.element("two tasks, one without a planned start (main task: the planned one)", unplanned, concrete)
    same_a = b.task(planned_start=D - 2, planned_finish=D + 1)
    same_b = b.task(planned_start=D - 2, planned_finish=D + 6, actual_start=D - 2)
    b.element("two tasks starting the same day (main task: the lower index)", same_b, same_a)

    # "Installed" marks: an element-level actual finish that wins over the tasks'.
    running = b.task(planned_start=D - 5, planned_finish=D + 5, actual_start=D - 5)
    waiting = b.task(planned_start=D + 2, planned_finish=D + 6)
    closed = b.task(planned_start=D - 12, planned_finish=D - 6, actual_start=D - 12, actual_finish=D - 7)
    b.element("installed in a running task: ahead", running, installed=D - 1)
    b.element("not installed, same running task", running)
    b.element("installed before its task started", running, installed=D - 8)
    b.element("installed in a task not started yet", waiting, installed=D - 1)
    b.element("installed after its task was closed: the mark wins", closed, installed=D + 2)
    b.element("installed, in two tasks", running, waiting, installed=D)


def _grid(b: _Builder) -> None:
    """Every combination of four status-relevant dates ∈ {none, D-1, D, D+1} (planned finish
    absent, so the baseline is exactly what is given)."""
    choices = (None, -1, 0, 1)
    label = {None: "-", -1: "D-1", 0: "D", 1: "D+1"}
    for ps, bf, as_, af in itertools.product(choices, repeat=4):
        fields = {
            name: D + offset
            for name, offset in (
                ("planned_start", ps),
                ("baseline_finish", bf),
                ("actual_start", as_),
                ("actual_finish", af),
            )
            if offset is not None
        }
        b.single(f"grid ps={label[ps]} bf={label[bf]} as={label[as_]} af={label[af]}", **fields)


def _far_apart(b: _Builder) -> None:
    b.single(
        "far apart: 1945 to 2120, running",
        planned_start=FAR_START,
        planned_finish=FAR_FINISH,
        actual_start=FAR_START + 1,
    )
    b.single("far apart: due 2120, not started", planned_start=FAR_FINISH - 30, planned_finish=FAR_FINISH)
    b.single(
        "before 1970: finished on time",
        planned_start=-400,
        planned_finish=-100,
        actual_start=-400,
        actual_finish=-100,
    )
    b.single(
        "before 1970: never done, late ever since", planned_start=-30, planned_finish=-1, actual_start=-30
    )


def _days(elements: dict[str, list]) -> list[int]:
    """Every day of D-25..D+15, and around every far date (the day before, of and after)."""
    days = set(range(D - 25, D + 16))
    for name in COLUMNS:
        for value in elements[name]:
            if value is not None and not D - 40 <= value <= D + 40:
                days.update((value - 1, value, value + 1))
    days.update((0, -1))
    return sorted(days)


def build_table() -> dict:
    """The golden table, computed by the engine."""
    b = _Builder()
    _situations(b)
    _grid(b)
    _far_apart(b)
    tasks = TaskDates.from_rows(b.tasks)
    links = tuple(np.array(a, dtype=np.int64) for a in zip(*b.links, strict=True))
    dates = element_dates(tasks, len(b.names), links, installed_day=np.array(b.installed))

    elements: dict[str, list] = {"name": b.names}
    for name in COLUMNS:
        elements[name] = [None if np.isnan(v) else int(v) for v in getattr(dates, name)]
    elements["task_index"] = [int(t) if t >= 0 else None for t in dates.task_index]
    days = [
        {
            "day": day,
            "iso": dt.date.fromordinal(day + EPOCH_ORDINAL).isoformat(),
            "status": element_status(dates, float(day)).tolist(),
        }
        for day in _days(elements)
    ]
    return {
        "format": FORMAT,
        "about": (
            "Generated by `python -m tests.golden.make_fourd_golden` from twin_server/domain/fourd.py; "
            "do not edit by hand. Days are day numbers (days since 1970-01-01); null = no date / no task."
        ),
        "status_codes": {s.name: int(s) for s in Status},
        "task_count": len(tasks),
        "element_count": len(b.names),
        "elements": elements,
        "days": days,
    }


def render(table: dict) -> str:
    """JSON text with one line per column and per day: small diffs when a rule changes."""

    def compact(value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    lines = ["{"]
    for i, (key, value) in enumerate(table.items()):
        end = "," if i < len(table) - 1 else ""
        if key == "elements":
            lines.append(f'  "{key}": {{')
            items = list(value.items())
            lines += [
                f"    {compact(k)}: {compact(v)}{',' if j < len(items) - 1 else ''}"
                for j, (k, v) in enumerate(items)
            ]
            lines.append(f"  }}{end}")
        elif key == "days":
            lines.append(f'  "{key}": [')
            lines += [f"    {compact(d)}{',' if j < len(value) - 1 else ''}" for j, d in enumerate(value)]
            lines.append(f"  ]{end}")
        else:
            lines.append(f"  {compact(key)}: {compact(value)}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed table is out of date")
    args = parser.parse_args(argv)
    text = render(build_table())
    if args.check:
        current = GOLDEN.read_text(encoding="utf-8") if GOLDEN.exists() else ""
        if current != text:
            print(f"{GOLDEN} is out of date: run python -m tests.golden.make_fourd_golden", file=sys.stderr)
            return 1
        return 0
    GOLDEN.write_text(text, encoding="utf-8")
    print(f"wrote {GOLDEN} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
