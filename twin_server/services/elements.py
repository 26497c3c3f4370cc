"""Reading elements of processed revisions: filtered lists, one element, history, diffs.

Elements are identified across revisions by GlobalId; what an element *is* in a revision
is its record, and ``content_hash`` says whether that changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ..db.orm import ElementClassificationRow, ElementPropertyRow, ElementRow, RevisionRow
from ..domain.errors import InvalidInput, NotFound
from ..domain.model import ElementPage, ElementSummary, RevisionDiff
from ..domain.revisions import Processing
from .revisions import processed_revision

__all__ = [
    "ElementFilter",
    "diff_revisions",
    "element_filter_from_dict",
    "element_history",
    "element_record",
    "list_elements",
    "matching_global_ids",
    "parse_property_filter",
]

MAX_PAGE_SIZE = 1000
_PROPERTY_FILTER = re.compile(
    r"^(?P<pset>[^.]+)\.(?P<name>[^=<>!~]+?)\s*(?P<op>>=|<=|!=|=|>|<|~)\s*(?P<value>.*)$"
)
_NUMERIC_OPS = {">": "__gt__", ">=": "__ge__", "<": "__lt__", "<=": "__le__"}


@dataclass(frozen=True, slots=True)
class PropertyFilter:
    pset: str
    name: str
    op: str
    value: str


@dataclass(frozen=True, slots=True)
class ElementFilter:
    """Conditions on elements; all given ones must hold (AND).

    ``classification`` matches a code exactly, or as a prefix when it ends with ``*``
    (``14-10*``). ``text`` searches name, GlobalId, type name and class (case-insensitive).
    """

    ifc_classes: tuple[str, ...] = ()
    storey: str | None = None  # GlobalId or name of the storey
    properties: tuple[PropertyFilter, ...] = ()
    classification: str | None = None
    text: str | None = None
    name_pattern: str | None = None  # glob on the name, case-insensitive: "WQ*", "KZ-?"


def parse_property_filter(expression: str) -> PropertyFilter:
    """``"Pset_WallCommon.IsExternal=true"``, ``"Qto.Length>=3.5"``, ``"施工信息.施工段~A"``.

    Operators: ``=`` ``!=`` ``>`` ``>=`` ``<`` ``<=`` (numbers) and ``~`` (contains).

    Example::

        >>> parse_property_filter("Pset_WallCommon.IsExternal=true")
        PropertyFilter(pset='Pset_WallCommon', name='IsExternal', op='=', value='true')
    """
    match = _PROPERTY_FILTER.match(expression.strip())
    if match is None:
        raise InvalidInput(
            f"property filter {expression!r} is not 'Set.Property<op>value' with one of = != > >= < <= ~"
        )
    pset, name, op, value = match.group("pset", "name", "op", "value")
    if op in _NUMERIC_OPS:
        try:
            float(value)
        except ValueError:
            raise InvalidInput(f"property filter {expression!r}: {op} needs a number") from None
    return PropertyFilter(pset.strip(), name.strip(), op, value.strip())


def list_elements(
    session: Session, *, project_id: int, revision_id: int, where: ElementFilter, page: int, page_size: int
) -> ElementPage:
    """One page of the revision's elements matching ``where``, in file order (1-based pages)."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page starts at 1 and page_size is 1 to {MAX_PAGE_SIZE}")
    processed_revision(session, project_id=project_id, revision_id=revision_id)
    if where.ifc_classes:
        where = replace(where, ifc_classes=_stored_classes(session, revision_id, where.ifc_classes))
    query = _filtered(select(ElementRow.id), revision_id, where)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        _filtered(
            select(
                ElementRow.global_id,
                ElementRow.ifc_class,
                ElementRow.name,
                ElementRow.type_name,
                ElementRow.storey_global_id,
                ElementRow.storey_name,
                ElementRow.glb_index,
            ),
            revision_id,
            where,
        )
        .order_by(ElementRow.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return ElementPage([ElementSummary(*row) for row in rows], total, page, page_size)


# Built once: constructing the statement costs more than running it (~70 µs vs ~10 µs on
# SQLite), and element detail is the API's hottest request.
_RECORD_QUERY = (
    select(ElementRow.record_json)
    .join(RevisionRow, RevisionRow.id == ElementRow.revision_id)
    .where(
        ElementRow.revision_id == bindparam("revision_id"),
        ElementRow.global_id == bindparam("global_id"),
        RevisionRow.project_id == bindparam("project_id"),
        RevisionRow.processing == Processing.SUCCEEDED.value,
    )
)


def element_record(session: Session, *, project_id: int, revision_id: int, global_id: str) -> bytes:
    """The full record (JSON) of one element of a processed revision, in one query."""
    record = session.execute(
        _RECORD_QUERY, {"revision_id": revision_id, "global_id": global_id, "project_id": project_id}
    ).scalar_one_or_none()
    if record is None:
        # Tell a missing element from an unusable revision.
        processed_revision(session, project_id=project_id, revision_id=revision_id)
        raise NotFound(f"no element {global_id} in revision {revision_id}")
    return record.encode()


def element_history(
    session: Session, *, project_id: int, model_id: int, global_id: str
) -> list[dict[str, Any]]:
    """The processed revisions of a model holding this GlobalId, oldest first, and whether
    the element changed from the previous one holding it."""
    rows = session.execute(
        select(RevisionRow.id, RevisionRow.label, RevisionRow.state, ElementRow.content_hash)
        .join(ElementRow, ElementRow.revision_id == RevisionRow.id)
        .where(
            RevisionRow.model_id == model_id,
            RevisionRow.project_id == project_id,
            RevisionRow.processing == Processing.SUCCEEDED.value,
            ElementRow.global_id == global_id,
        )
        .order_by(RevisionRow.id)
    ).all()
    if not rows:
        raise NotFound(f"no revision of model {model_id} holds element {global_id}")
    history, previous = [], None
    for revision_id, label, state, content_hash in rows:
        history.append(
            {
                "revision_id": revision_id,
                "label": label,
                "state": state,
                "changed": previous is not None and content_hash != previous,
            }
        )
        previous = content_hash
    return history


def diff_revisions(
    session: Session, *, project_id: int, base_id: int, target_id: int, details_limit: int = 1000
) -> RevisionDiff:
    """Elements added, removed and changed from ``base_id`` to ``target_id`` (same model).

    For up to ``details_limit`` changed elements, the fields that differ are listed
    (``name``, ``ifc_class``, ``storey_global_id``, ``materials``, and properties as
    ``"Pset.Property"``), each as ``[before, after]``.
    """
    base = processed_revision(session, project_id=project_id, revision_id=base_id)
    target = processed_revision(session, project_id=project_id, revision_id=target_id)
    if base.model_id != target.model_id:
        raise InvalidInput("revisions of different models cannot be compared")
    before = dict(
        session.execute(
            select(ElementRow.global_id, ElementRow.content_hash).where(ElementRow.revision_id == base_id)
        ).all()
    )
    after = dict(
        session.execute(
            select(ElementRow.global_id, ElementRow.content_hash).where(ElementRow.revision_id == target_id)
        ).all()
    )
    diff = RevisionDiff(base_id=base_id, target_id=target_id)
    diff.added = sorted(set(after) - set(before))
    diff.removed = sorted(set(before) - set(after))
    changed = sorted(g for g in set(before) & set(after) if before[g] != after[g])
    diff.unchanged = len(set(before) & set(after)) - len(changed)
    for global_id in changed[:details_limit]:
        old = orjson.loads(
            element_record(session, project_id=project_id, revision_id=base_id, global_id=global_id)
        )
        new = orjson.loads(
            element_record(session, project_id=project_id, revision_id=target_id, global_id=global_id)
        )
        diff.changed[global_id] = _record_changes(old, new)
    for global_id in changed[details_limit:]:
        diff.changed[global_id] = {}
    return diff


def _record_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        if key in ("property_sets", "step_id", "glb_index", "has_geometry"):
            continue
        if old.get(key) != new.get(key):
            changes[key] = [old.get(key), new.get(key)]
    old_props, new_props = _flat_properties(old), _flat_properties(new)
    for key in sorted(set(old_props) | set(new_props)):
        if old_props.get(key) != new_props.get(key):
            changes[key] = [old_props.get(key), new_props.get(key)]
    return changes


def _flat_properties(record: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{pset['name']}.{name}": value
        for pset in record.get("property_sets", ())
        for name, value in pset["properties"].items()
    }


def _stored_classes(session: Session, revision_id: int, asked: tuple[str, ...]) -> tuple[str, ...]:
    """The revision's class names as stored, for names given in any case (``ifcwall``):
    IFC entity names are case-insensitive, and the indexed column keeps one spelling."""
    stored = session.execute(
        select(ElementRow.ifc_class).where(ElementRow.revision_id == revision_id).distinct()
    ).scalars()
    by_lower = {name.lower(): name for name in stored}
    return tuple(by_lower.get(name.lower(), name) for name in asked)


def _filtered(query: Select, revision_id: int, where: ElementFilter) -> Select:
    query = query.where(ElementRow.revision_id == revision_id)
    if where.ifc_classes:
        query = query.where(ElementRow.ifc_class.in_(where.ifc_classes))
    if where.storey:
        query = query.where(
            or_(ElementRow.storey_global_id == where.storey, ElementRow.storey_name == where.storey)
        )
    for condition in where.properties:
        query = query.where(ElementRow.id.in_(_property_matches(condition)))
    if where.classification:
        code = where.classification
        match = (
            ElementClassificationRow.code.startswith(code[:-1], autoescape=True)
            if code.endswith("*")
            else ElementClassificationRow.code == code
        )
        query = query.where(ElementRow.id.in_(select(ElementClassificationRow.element_id).where(match)))
    if where.name_pattern:
        query = query.where(
            func.lower(ElementRow.name).like(_glob_to_like(where.name_pattern.lower()), escape="\\")
        )
    if where.text:
        # autoescape: % and _ in the user's text are literal characters, not wildcards.
        text = where.text.lower()
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(text, autoescape=True)
                    for column in (
                        ElementRow.name,
                        ElementRow.global_id,
                        ElementRow.type_name,
                        ElementRow.ifc_class,
                    )
                )
            )
        )
    return query


def _glob_to_like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def element_filter_from_dict(spec: dict) -> ElementFilter:
    """An ``ElementFilter`` from its stored form (a link rule):
    ``{"ifc_class": [...], "storey": ..., "prop": [...], "classification": ..., "text": ..., "name": ...}``.
    """
    known = {"ifc_class", "storey", "prop", "classification", "text", "name"}
    unknown = set(spec) - known
    if unknown or not spec:
        raise InvalidInput(
            f"a rule filter takes {', '.join(sorted(known))} (got {', '.join(sorted(spec)) or 'nothing'})"
        )
    classes, props = spec.get("ifc_class", []), spec.get("prop", [])
    classes = [classes] if isinstance(classes, str) else classes
    props = [props] if isinstance(props, str) else props
    scalars = [spec.get(k) for k in ("storey", "classification", "text", "name")]
    if not all(isinstance(v, str) for v in [*classes, *props]) or not all(
        v is None or isinstance(v, str) for v in scalars
    ):
        raise InvalidInput("rule filter values are text (or lists of text for ifc_class and prop)")
    return ElementFilter(
        ifc_classes=tuple(classes),
        storey=spec.get("storey"),
        properties=tuple(parse_property_filter(p) for p in props),
        classification=spec.get("classification"),
        text=spec.get("text"),
        name_pattern=spec.get("name"),
    )


def matching_global_ids(
    session: Session, *, revision_id: int, where: ElementFilter, among: str | None = None
) -> list[str]:
    """GlobalIds of the revision's elements matching ``where`` (class names in any case);
    with ``among``, only whether that one element matches (an indexed lookup)."""
    if where.ifc_classes:
        where = replace(where, ifc_classes=_stored_classes(session, revision_id, where.ifc_classes))
    query = _filtered(select(ElementRow.global_id), revision_id, where)
    if among is not None:
        query = query.where(ElementRow.global_id == among)
    return list(session.execute(query).scalars())


def _property_matches(condition: PropertyFilter) -> Select:
    column = ElementPropertyRow
    base = and_(column.pset == condition.pset, column.name == condition.name)
    value = condition.value
    if condition.op in _NUMERIC_OPS:
        test = getattr(column.value_num, _NUMERIC_OPS[condition.op])(float(value))
    elif condition.op == "~":
        test = func.lower(column.value_text).contains(value.lower(), autoescape=True)
    else:
        number = _number(value)
        equal = column.value_text == _canonical(value)
        if number is not None:  # "3" matches 3.0 stored as a number, "001" the text 001
            equal = or_(equal, column.value_num == number)
        test = equal if condition.op == "=" else ~equal
    return select(column.element_id).where(base, test)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _canonical(text: str) -> str:
    # Booleans are stored as "true"/"false" whatever the user types.
    return text.lower() if text.lower() in ("true", "false") else text
