"""FastAPI dependencies: the runtime, a database session, the caller, and access rules.

Every route declares exactly one access rule (``Public``, ``Authenticated``,
``NodeAccess(capability)`` or ``ProjectAccess(capability)``); the rules call
``services.access`` (the one place that decides) and the authorization-matrix test reads
them from the route table, so a route without a rule fails the suite.

The light dependencies are ``async`` on purpose: FastAPI runs plain ``def`` dependencies in
a thread pool, and a thread hop per dependency costs more than the work they do when the
caller and the project scope are cached. Database work on a cache miss goes to the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..domain.access import Capability
from ..domain.errors import NotAuthenticated, PermissionDenied
from ..domain.model import Principal
from ..runtime import Runtime
from ..security import csrf_matches
from ..services.access import NodeRef, authorize_node, authorize_project
from ..services.auth import load_principal

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Access",
    "Authenticated",
    "Id",
    "IdQuery",
    "NodeAccess",
    "NodeScope",
    "ProjectAccess",
    "ProjectScope",
    "Public",
    "RuntimeDep",
    "SessionDep",
    "run_point_query",
]

SESSION_COOKIE = "twin_session"
CSRF_COOKIE = "twin_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Ids are 32-bit in the schema; a larger number can only be unknown (404), and must not
# reach PostgreSQL, which would reject it with an error.
_MAX_ID = 2_147_483_647

#: A database id in a path.
Id = Annotated[int, Path(ge=1, le=_MAX_ID)]
#: A database id in a query string.
IdQuery = Annotated[int, Query(ge=1, le=_MAX_ID)]


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    # A Session connects lazily, on its first query, so routes that need none pay nothing.
    session = runtime.sessions()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


# Declares the bearer scheme in the OpenAPI schema (the Authorize button of /docs); the
# header itself is read below, where a malformed one gets its own error.
_bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def current_principal(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    _documented: Annotated[str | None, Depends(_bearer_scheme)],
) -> Principal:
    """The caller, from ``Authorization: Bearer`` or the session cookie.

    Cookie-authenticated requests that change something must echo the session's CSRF
    secret in ``X-CSRF-Token``: another site can make a browser send the cookie, but it
    cannot read the secret.
    """
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    from_cookie = False
    if not authorization:
        token = request.cookies.get(SESSION_COOKIE, "")
        from_cookie = bool(token)
    elif scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'", code="invalid_token")
    if not token:
        raise NotAuthenticated("log in first: send 'Authorization: Bearer <token>' or the session cookie")
    claims = runtime.tokens.check(token.strip())
    csrf_ok = csrf_matches(claims.csrf, request.headers.get(CSRF_HEADER))
    if from_cookie and request.method not in _SAFE_METHODS and not csrf_ok:
        raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header", code="csrf_failed")
    if runtime.principals.cached(claims.user_id):
        return load_principal(
            session, user_id=claims.user_id, token_version=claims.token_version, cache=runtime.principals
        )
    return await run_in_threadpool(
        load_principal,
        session,
        user_id=claims.user_id,
        token_version=claims.token_version,
        cache=runtime.principals,
    )


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def run_point_query(runtime: Runtime, function, /, *args, **kwargs):
    """Run a single-row, indexed lookup: on the event loop with SQLite, in the pool otherwise.

    SQLite answers such a lookup in-process in ~10 µs, less than the thread hop it would
    otherwise take; with several requests per worker the pool's threads also fight over
    the GIL, which showed as a p99 of 57 ms vs 33 ms on the element-detail benchmark. A
    network database (PostgreSQL) waits on I/O instead, so there the pool keeps the loop free.
    Only for bounded work: lists and filters always go to the pool.
    """
    if runtime.engine.dialect.name == "sqlite":
        return function(*args, **kwargs)
    return await run_in_threadpool(function, *args, **kwargs)


class Access:
    """An access rule; ``capability`` is what the route needs (``None``: nothing)."""

    capability: Capability | None = None
    scoped_by: str | None = None  # the path parameter naming the org node checked


class Public(Access):
    """No credentials needed (log-in, health)."""

    async def __call__(self) -> None:
        return None


class Authenticated(Access):
    """Any logged-in user; the route itself limits what it returns to the caller's subtree."""

    def __init__(self, capability: Capability = Capability.READ) -> None:
        self.capability = capability

    async def __call__(self, principal: PrincipalDep) -> Principal:
        if not principal.can(self.capability):
            raise PermissionDenied(f"the role {principal.role.value} may not {self.capability.value}")
        return principal


@dataclass(frozen=True, slots=True)
class ProjectScope:
    principal: Principal
    project: NodeRef


@dataclass(frozen=True, slots=True)
class NodeScope:
    principal: Principal
    node: NodeRef


class _ScopedAccess(Access):
    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    async def _authorize(
        self, authorize, node_id: int, principal: Principal, runtime: Runtime, session: Session
    ):
        # A cache hit decides without a query; a miss loads the path in the pool.
        if not runtime.paths.cached(node_id):
            await run_in_threadpool(runtime.paths.get, session, node_id)
        return authorize(session, principal, node_id, self.capability, paths=runtime.paths)


class ProjectAccess(_ScopedAccess):
    """The route's ``{project_id}`` must be in the caller's subtree (else 404) and the
    caller's role must grant ``capability`` (else 403)."""

    scoped_by = "project_id"

    async def __call__(
        self, project_id: Id, principal: PrincipalDep, runtime: RuntimeDep, session: SessionDep
    ) -> ProjectScope:
        project = await self._authorize(authorize_project, project_id, principal, runtime, session)
        return ProjectScope(principal, project)


class NodeAccess(_ScopedAccess):
    """Like ``ProjectAccess`` for any org node ``{node_id}`` (HQ, region or project)."""

    scoped_by = "node_id"

    async def __call__(
        self, node_id: Id, principal: PrincipalDep, runtime: RuntimeDep, session: SessionDep
    ) -> NodeScope:
        node = await self._authorize(authorize_node, node_id, principal, runtime, session)
        return NodeScope(principal, node)
