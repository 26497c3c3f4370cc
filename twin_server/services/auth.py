"""Users, log-in and the caller's identity."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.orm import LoginFailureRow, OrgNodeRow, UserRow
from ..domain.access import Role
from ..domain.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, RateLimited
from ..domain.model import Principal
from ..security import hash_password, verify_password

__all__ = ["PrincipalCache", "authenticate", "create_user", "load_principal"]

_MIN_PASSWORD_LENGTH = 8


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    node_code: str,
    display_name: str | None = None,
) -> Principal:
    """Add a user bound to the org node ``node_code`` (for the CLI and admins)."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}") from None
    if len(password) < _MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {_MIN_PASSWORD_LENGTH} characters")
    node = session.execute(select(OrgNodeRow).where(OrgNodeRow.code == node_code)).scalar_one_or_none()
    if node is None:
        raise NotFound(f"no organisation node with code {node_code!r}")
    row = UserRow(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role.value,
        node_id=node.id,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"the user name {username!r} is taken") from None
    return Principal(row.id, row.username, row.display_name, role, node.id, node.path)


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    client_ip: str,
    now: dt.datetime,
    max_failures: int,
    window_s: int,
) -> tuple[int, int]:
    """``(user id, token version)`` for the right password; otherwise ``NotAuthenticated``.

    Failures are counted per user name and per client address in the database (so the
    limit holds across API processes): after ``max_failures`` within ``window_s``
    seconds, further attempts get ``RateLimited`` until the window has passed.
    """
    keys = (f"user:{username.lower()}", f"ip:{client_ip}")
    since = now - dt.timedelta(seconds=window_s)
    for key in keys:
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailureRow.at)).where(
                LoginFailureRow.key == key, LoginFailureRow.at > since
            )
        ).one()
        if count >= max_failures:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.UTC)
            retry_after = max(1, int((oldest + dt.timedelta(seconds=window_s) - now).total_seconds()))
            raise RateLimited(
                f"too many failed log-ins; try again in {retry_after} s", retry_after_s=retry_after
            )
    user = session.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none()
    if not verify_password(password, user.password_hash if user else None) or not user.active:
        session.add_all(LoginFailureRow(key=key, at=now) for key in keys)
        # Old failures are only history; keep the table small.
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.at < since))
        session.commit()
        raise NotAuthenticated("wrong user name or password", code="bad_credentials")
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.key == keys[0]))
    session.commit()
    return user.id, user.token_version


class PrincipalCache:
    """user id → (token version, Principal), trusted for ``ttl_s`` seconds.

    Every request resolves its caller; a few seconds of caching save a query per request,
    at the price of role changes taking up to ``ttl_s`` to apply in other processes.
    """

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._entries: dict[int, tuple[float, int, bool, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: int) -> tuple[int, bool, Principal] | None:
        with self._lock:
            entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[0] >= self._ttl_s:
            return None
        return entry[1], entry[2], entry[3]

    def cached(self, user_id: int) -> bool:
        return self.get(user_id) is not None

    def put(self, user_id: int, token_version: int, active: bool, principal: Principal) -> None:
        with self._lock:
            self._entries[user_id] = (time.monotonic(), token_version, active, principal)


def load_principal(session: Session, *, user_id: int, token_version: int, cache: PrincipalCache) -> Principal:
    """The caller behind a valid token; ``NotAuthenticated`` if the user is gone or the
    token was revoked (its version is older than the user's)."""
    cached = cache.get(user_id)
    if cached is None:
        row = session.execute(
            select(UserRow, OrgNodeRow.path)
            .join(OrgNodeRow, OrgNodeRow.id == UserRow.node_id)
            .where(UserRow.id == user_id)
        ).first()
        if row is None:
            raise NotAuthenticated("the token's user no longer exists", code="invalid_token")
        user, path = row
        principal = Principal(user.id, user.username, user.display_name, Role(user.role), user.node_id, path)
        cache.put(user_id, user.token_version, user.active, principal)
        cached = (user.token_version, user.active, principal)
    version, active, principal = cached
    if not active or version != token_version:
        raise NotAuthenticated("the token has been revoked; log in again", code="token_revoked")
    return principal
