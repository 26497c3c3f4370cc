"""Users, log-in and the caller's identity."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..db.orm import LoginFailureRow, OrgNodeRow, UserRow
from ..domain.access import Role
from ..domain.errors import InvalidInput, NotAuthenticated, NotFound, RateLimited
from ..domain.model import Principal
from ..security import hash_password, verify_password
from .store import commit_or_conflict

__all__ = [
    "PrincipalCache",
    "authenticate",
    "create_user",
    "load_principal",
    "principal_named",
    "revoke_tokens",
    "set_active",
    "set_password",
]

_MIN_PASSWORD_LENGTH = 8
_MAX_USERNAME = 64


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
    if not username or len(username) > _MAX_USERNAME or not username.isprintable():
        raise InvalidInput(f"the user name must be 1 to {_MAX_USERNAME} printable characters")
    _check_password(password)
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
    commit_or_conflict(session, f"the user name {username!r} is taken")
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

    Attempts are counted per user name and per client address in the database (so the
    limit holds across API processes): once ``max_failures`` attempts failed within
    ``window_s`` seconds, further ones get ``RateLimited`` until the window has passed.
    Each attempt is recorded *before* the password is checked and counted after, so a
    burst of parallel guesses cannot all slip through between one count and the next.
    """
    # Keys fit their column and hold no NUL (PostgreSQL cannot store one), whatever was typed.
    safe_name = username.lower()[:_MAX_USERNAME].replace("\x00", "\ufffd")
    keys = (f"user:{safe_name}", f"ip:{client_ip[:64]}")
    since = now - dt.timedelta(seconds=window_s)
    attempt = [LoginFailureRow(key=key, at=now) for key in keys]
    session.add_all(attempt)
    session.commit()
    for key in keys:
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailureRow.at)).where(
                LoginFailureRow.key == key, LoginFailureRow.at > since
            )
        ).one()
        if count > max_failures:  # this attempt included
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.UTC)
            retry_after = max(1, int((oldest + dt.timedelta(seconds=window_s) - now).total_seconds()))
            raise RateLimited(
                f"too many failed log-ins; try again in {retry_after} s", retry_after_s=retry_after
            )
    user = None
    if len(username) <= _MAX_USERNAME and "\x00" not in username:
        user = session.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none()
    if not verify_password(password, user.password_hash if user else None) or not user.active:
        # Old attempts are only history; keep the table small.
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.at < since))
        session.commit()
        raise NotAuthenticated("wrong user name or password", code="bad_credentials")
    # Success: this attempt and the user name's failures no longer count.
    session.execute(
        delete(LoginFailureRow).where(
            (LoginFailureRow.key == keys[0]) | LoginFailureRow.id.in_([row.id for row in attempt])
        )
    )
    session.commit()
    return user.id, user.token_version


def revoke_tokens(session: Session, *, user_id: int, cache: PrincipalCache | None = None) -> None:
    """End every token and session of the user (log-out, password change, deactivation)."""
    session.execute(
        update(UserRow).where(UserRow.id == user_id).values(token_version=UserRow.token_version + 1)
    )
    session.commit()
    if cache is not None:
        cache.forget(user_id)


def set_password(session: Session, *, username: str, password: str) -> None:
    """A new password for ``username``; the user's existing tokens stop working."""
    user = _user(session, username)
    _check_password(password)
    user.password_hash = hash_password(password)
    session.commit()
    revoke_tokens(session, user_id=user.id)


def set_active(session: Session, *, username: str, active: bool) -> None:
    """Enable or disable a user; disabling ends the user's tokens."""
    user = _user(session, username)
    user.active = active
    session.commit()
    if not active:
        revoke_tokens(session, user_id=user.id)


def _user(session: Session, username: str) -> UserRow:
    user = session.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def _check_password(password: str) -> None:
    if len(password) < _MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {_MIN_PASSWORD_LENGTH} characters")


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

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._entries.pop(user_id, None)

    def cached(self, user_id: int) -> bool:
        return self.get(user_id) is not None

    def put(self, user_id: int, token_version: int, active: bool, principal: Principal) -> None:
        with self._lock:
            self._entries[user_id] = (time.monotonic(), token_version, active, principal)


def _user_with_path(session: Session, condition) -> tuple[UserRow, Principal] | None:
    """The user matching ``condition`` and that user as a caller (with its node's path)."""
    row = session.execute(
        select(UserRow, OrgNodeRow.path).join(OrgNodeRow, OrgNodeRow.id == UserRow.node_id).where(condition)
    ).first()
    if row is None:
        return None
    user, path = row
    return user, Principal(user.id, user.username, user.display_name, Role(user.role), user.node_id, path)


def principal_named(session: Session, *, username: str) -> Principal:
    """The user ``username`` as a caller (for commands and demo data acting as a user)."""
    found = _user_with_path(session, UserRow.username == username)
    if found is None:
        raise NotFound(f"no user {username!r}")
    return found[1]


def load_principal(session: Session, *, user_id: int, token_version: int, cache: PrincipalCache) -> Principal:
    """The caller behind a valid token; ``NotAuthenticated`` if the user is gone or the
    token was revoked (its version is older than the user's)."""
    cached = cache.get(user_id)
    if cached is None:
        found = _user_with_path(session, UserRow.id == user_id)
        if found is None:
            raise NotAuthenticated("the token's user no longer exists", code="invalid_token")
        user, principal = found
        cache.put(user_id, user.token_version, user.active, principal)
        cached = (user.token_version, user.active, principal)
    version, active, principal = cached
    if not active or version != token_version:
        raise NotAuthenticated("the token has been revoked; log in again", code="token_revoked")
    return principal
