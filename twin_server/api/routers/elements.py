"""Elements of processed revisions: filtered lists, one element, history across revisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import StringConstraints

from ...domain.access import Capability
from ...schemas.elements import ElementRevisionPublic, ElementsPublic, ElementSummaryPublic
from ...services import elements as element_service
from ..deps import Id, ProjectAccess, ProjectScope, RuntimeDep, SessionDep, run_point_query

router = APIRouter(prefix="/api/projects/{project_id}", tags=["elements"])

Reader = Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))]
GlobalId = Annotated[str, Path(min_length=1, max_length=64, description="IFC GlobalId")]
# Query list parameters: ``max_length`` on the list bounds the number of items, these the
# length of each. Every property condition is a subquery: a handful is what users combine.
ClassName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PropertyCondition = Annotated[str, StringConstraints(min_length=1, max_length=400)]
MAX_PROPERTY_FILTERS = 10


@router.get("/revisions/{revision_id}/elements")
def list_elements(
    revision_id: Id,
    scope: Reader,
    session: SessionDep,
    ifc_class: Annotated[
        list[ClassName], Query(max_length=50, description="IfcWall, IfcSlab, … (any of; case-insensitive)")
    ] = [],  # noqa: B006
    storey: Annotated[str | None, Query(max_length=200, description="storey GlobalId or name")] = None,
    prop: Annotated[
        list[PropertyCondition],
        Query(
            max_length=MAX_PROPERTY_FILTERS,
            description="'Pset.Property<op>value', op one of = != > >= < <= ~ (contains); all must hold "
            f"(at most {MAX_PROPERTY_FILTERS})",
        ),
    ] = [],  # noqa: B006
    classification: Annotated[str | None, Query(max_length=64, description="code, or prefix*")] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in name, GlobalId, type, class")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=element_service.MAX_PAGE_SIZE)] = 100,
) -> ElementsPublic:
    """One page of the revision's elements, in file order. 409 until the revision is processed."""
    where = element_service.ElementFilter(
        ifc_classes=tuple(ifc_class),
        storey=storey,
        properties=tuple(element_service.parse_property_filter(p) for p in prop),
        classification=classification,
        text=q,
    )
    result = element_service.list_elements(
        session,
        project_id=scope.project.id,
        revision_id=revision_id,
        where=where,
        page=page,
        page_size=page_size,
    )
    return ElementsPublic(
        items=[ElementSummaryPublic.model_validate(item) for item in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/revisions/{revision_id}/elements/{global_id}")
async def read_element(
    revision_id: Id, global_id: GlobalId, scope: Reader, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """One element with everything the pipeline extracted: class, names, storey,
    materials, classifications and every property set with its values and units."""
    # The stored record is already JSON: sent as is, without a parse and re-serialise.
    record = await run_point_query(
        runtime,
        element_service.element_record,
        session,
        project_id=scope.project.id,
        revision_id=revision_id,
        global_id=global_id,
    )
    return Response(record, media_type="application/json")


@router.get("/models/{model_id}/elements/{global_id}/history")
def element_history(
    model_id: Id, global_id: GlobalId, scope: Reader, session: SessionDep
) -> list[ElementRevisionPublic]:
    """The processed revisions of the model that hold this GlobalId, oldest first, each
    saying whether the element changed since the previous one."""
    history = element_service.element_history(
        session, project_id=scope.project.id, model_id=model_id, global_id=global_id
    )
    return [ElementRevisionPublic.model_validate(entry) for entry in history]
