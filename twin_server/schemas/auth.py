from __future__ import annotations

from pydantic import BaseModel, Field

from .common import Input, Public


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class SessionCreate(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class SessionPublic(BaseModel):
    """A browser session: the token travels in an HttpOnly cookie; echo ``csrf_token`` in
    the ``X-CSRF-Token`` header of every POST, PUT, PATCH and DELETE."""

    csrf_token: str
    expires_in: int


class PrincipalPublic(Public):
    user_id: int
    username: str
    display_name: str | None
    role: str
    node_id: int
    scope_path: str
    capabilities: list[str]
