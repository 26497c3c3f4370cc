"""Password hashing and tokens, below the HTTP layer."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from twin_server.domain.errors import NotAuthenticated
from twin_server.security import TokenService, hash_password, verify_password


def test_argon2_hashes_verify_and_differ_per_salt() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password("correct horse", first) and not verify_password("wrong horse", first)
    assert not verify_password("anything", None)  # unknown user: same work, never true
    assert not verify_password("anything", "not-a-hash")


def test_a_verified_token_is_still_refused_once_it_expires() -> None:
    service = TokenService("k" * 32, lifetime_minutes=1)
    # Issued 58 s ago with a 60 s lifetime: valid for about 2 more seconds.
    token = service.issue(7, 3, now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=58))
    claims = service.check(token)
    assert (claims.user_id, claims.token_version, claims.csrf) == (7, 3, None)
    assert service.check(token) is claims  # remembered, not decoded again
    time.sleep(2.5)
    with pytest.raises(NotAuthenticated) as caught:
        service.check(token)
    assert caught.value.code == "token_expired"


def test_tokens_of_another_key_are_invalid() -> None:
    mine, theirs = TokenService("a" * 32, lifetime_minutes=5), TokenService("b" * 32, lifetime_minutes=5)
    token = theirs.issue(1, 1, csrf="c", now=dt.datetime.now(dt.UTC))
    with pytest.raises(NotAuthenticated) as caught:
        mine.check(token)
    assert caught.value.code == "invalid_token"
