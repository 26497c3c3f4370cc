"""Log-in, tokens, browser sessions with CSRF, and the log-in rate limit."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from tests.twin_server.conftest import PASSWORD, SECRET, Client, running_api
from twin_server.security import TokenService


def test_password_flow_issues_a_bearer_token_that_identifies_the_user(api) -> None:
    response = api.client.post("/api/auth/token", data={"username": "east", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() | {"user_id": 0} == {
        "user_id": 0,
        "username": "east",
        "display_name": None,
        "role": "regional_manager",
        "node_id": api.node("EAST"),
        "scope_path": f"/{api.node('HQ')}/{api.node('EAST')}/",
        # what a page may offer the user
        "capabilities": ["handle_alerts", "manage_org", "read", "sign_off_hazard"],
    }


@pytest.mark.parametrize(
    ("username", "password"), [("east", "wrong-password"), ("nobody", PASSWORD), ("", "")]
)
def test_wrong_credentials_are_401_without_saying_which_part_was_wrong(api, username, password) -> None:
    response = api.client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code in (401, 422)
    if response.status_code == 401:
        assert response.json() == {"error": "bad_credentials", "detail": "wrong user name or password"}
        assert response.headers["www-authenticate"] == "Bearer"


def test_missing_expired_and_forged_tokens_are_401(api) -> None:
    now = dt.datetime.now(dt.UTC)
    user_id = api.client.get("/api/auth/me", headers=api.auth("east")).json()["user_id"]
    expired = TokenService(SECRET, lifetime_minutes=1).issue(user_id, 1, now=now - dt.timedelta(hours=1))
    forged = jwt.encode({"sub": str(user_id), "ver": 1, "exp": now + dt.timedelta(hours=1)}, "x" * 32)
    cases = {
        None: "not_authenticated",
        f"Bearer {expired}": "token_expired",
        f"Bearer {forged}": "invalid_token",
        "Bearer not.a.jwt": "invalid_token",
        "Basic ZWFzdDpwdw==": "invalid_token",
    }
    for header, code in cases.items():
        headers = {"Authorization": header} if header else {}
        response = api.client.get(f"/api/projects/{api.node('P-EAST')}", headers=headers)
        assert response.status_code == 401, header
        assert response.json()["error"] == code, header
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_token_stops_working(api) -> None:
    from sqlalchemy import update

    from twin_server.db.orm import UserRow

    token_headers = api.auth("site")
    assert api.client.get("/api/auth/me", headers=token_headers).status_code == 200
    with api.runtime.sessions() as session:  # e.g. a password change bumps the version
        session.execute(update(UserRow).where(UserRow.username == "site").values(token_version=2))
        session.commit()
    response = api.client.get("/api/auth/me", headers=token_headers)
    assert (response.status_code, response.json()["error"]) == (401, "token_revoked")
    api.world.tokens.pop("site")
    assert api.client.get("/api/auth/me", headers=api.auth("site")).status_code == 200


def test_browser_session_cookie_needs_the_csrf_header_to_change_anything(api) -> None:
    browser = Client(api.app)
    try:
        login = browser.post("/api/auth/session", json={"username": "bim", "password": PASSWORD})
        assert login.status_code == 200
        csrf = login.json()["csrf_token"]
        cookie = login.headers.get_list("set-cookie")
        assert any("twin_session=" in c and "HttpOnly" in c and "Secure" in c for c in cookie)
        assert browser.http.cookies.get("twin_csrf") == csrf

        # Reads need only the cookie.
        assert browser.get("/api/auth/me").json()["username"] == "bim"
        url = f"/api/projects/{api.node('P-EAST')}/models"
        # A write without the header is what a cross-site form post looks like: refused.
        refused = browser.post(url, json={"name": "csrf-probe"})
        assert (refused.status_code, refused.json()["error"]) == (403, "csrf_failed")
        wrong = browser.post(url, json={"name": "csrf-probe"}, headers={"X-CSRF-Token": "guess"})
        assert wrong.status_code == 403
        created = browser.post(url, json={"name": "csrf-probe"}, headers={"X-CSRF-Token": csrf})
        assert created.status_code == 201

        logout = browser.delete("/api/auth/session", headers={"X-CSRF-Token": csrf})
        assert logout.status_code == 204
        assert browser.get("/api/auth/me").status_code == 401
    finally:
        browser.close()


def test_session_log_in_with_bad_json_is_422_not_500(api) -> None:
    for body in (b"{not json", b"[]", b'{"username": 5}'):
        response = api.client.post(
            "/api/auth/session", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_log_in_attempts_are_rate_limited_per_user_and_per_address(backend, tmp_path) -> None:
    with running_api(backend, tmp_path, login_max_failures=3, login_window_seconds=600) as api:
        attacker = Client(api.app, client_ip="203.0.113.7")
        colleague = Client(api.app, client_ip="198.51.100.2")
        try:
            for _ in range(3):
                bad = attacker.post("/api/auth/token", data={"username": "east", "password": "guess-guess"})
                assert bad.status_code == 401
            # The right password no longer helps from there: the user name is locked...
            locked = attacker.post("/api/auth/token", data={"username": "east", "password": PASSWORD})
            assert locked.status_code == 429
            assert locked.json()["error"] == "rate_limited"
            assert 0 < int(locked.headers["retry-after"]) <= 600
            # ...for everyone, while other users from other addresses are unaffected...
            assert (
                colleague.post("/api/auth/token", data={"username": "east", "password": PASSWORD}).status_code
                == 429
            )
            assert (
                colleague.post("/api/auth/token", data={"username": "site", "password": PASSWORD}).status_code
                == 200
            )
            # ...and the attacker's address cannot move on to the next user name.
            assert (
                attacker.post("/api/auth/token", data={"username": "site", "password": PASSWORD}).status_code
                == 429
            )
        finally:
            attacker.close()
            colleague.close()
