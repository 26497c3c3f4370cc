"""Log-in: bearer tokens for API clients (OAuth2 password flow), cookies for browsers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from ...domain.model import Principal
from ...schemas.auth import PrincipalPublic, SessionCreate, SessionPublic, TokenPublic
from ...security import new_csrf_token
from ...services.auth import authenticate, revoke_tokens
from ..deps import CSRF_COOKIE, SESSION_COOKIE, Authenticated, Public, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


async def _log_in(request: Request, runtime: RuntimeDep, session: SessionDep, username: str, password: str):
    settings = runtime.settings
    return await run_in_threadpool(
        authenticate,
        session,
        username=username,
        password=password,
        client_ip=request.client.host if request.client else "unknown",
        now=dt.datetime.now(dt.UTC),
        max_failures=settings.login_max_failures,
        window_s=settings.login_window_seconds,
    )


@router.post("/token", dependencies=[Depends(Public())])
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
) -> TokenPublic:
    """OAuth2 password flow: form fields ``username`` and ``password`` → bearer token.

    Wrong credentials: 401. Too many failures for the user name or the client address
    within the window: 429 with ``Retry-After``.
    """
    user_id, version = await _log_in(request, runtime, session, form.username, form.password)
    token = runtime.tokens.issue(user_id, version, now=dt.datetime.now(dt.UTC))
    return TokenPublic(access_token=token, expires_in=runtime.tokens.lifetime_seconds)


@router.post("/session", dependencies=[Depends(Public())])
async def open_session(
    body: SessionCreate, request: Request, response: Response, runtime: RuntimeDep, session: SessionDep
) -> SessionPublic:
    """Browser log-in: sets the HttpOnly session cookie and returns the CSRF secret,
    which scripts send back in ``X-CSRF-Token`` (also readable from the ``twin_csrf``
    cookie) on every request that changes something."""
    user_id, version = await _log_in(request, runtime, session, body.username, body.password)
    csrf = new_csrf_token()
    token = runtime.tokens.issue(user_id, version, csrf=csrf, now=dt.datetime.now(dt.UTC))
    lifetime = runtime.tokens.lifetime_seconds
    secure = not runtime.settings.development  # plain http only on a workstation
    response.set_cookie(
        SESSION_COOKIE, token, max_age=lifetime, httponly=True, samesite="strict", secure=secure, path="/"
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=lifetime, samesite="strict", secure=secure, path="/")
    return SessionPublic(csrf_token=csrf, expires_in=lifetime)


@router.delete("/session", status_code=204)
def close_session(
    response: Response,
    principal: Annotated[Principal, Depends(Authenticated())],
    runtime: RuntimeDep,
    session: SessionDep,
) -> None:
    """Log out: clears the cookies and ends **every** session and token of the user, so a
    copied cookie is worthless afterwards (other server processes honour it within
    ``TWIN_CACHE_SECONDS``)."""
    revoke_tokens(session, user_id=principal.user_id, cache=runtime.principals)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me")
async def read_me(principal: Annotated[Principal, Depends(Authenticated())]) -> PrincipalPublic:
    """Who the token or session belongs to: user, role, org node and scope."""
    return PrincipalPublic.model_validate(principal)
