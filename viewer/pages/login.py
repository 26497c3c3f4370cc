"""The log-in page: one HTML document with its strings from the catalogue.

Plain HTML (no Panel session, no web fonts, no external script): it posts the form to
``POST /api/auth/session``, which sets the HttpOnly session cookie, then goes to ``next``.
With ``logout`` it first asks the user to confirm, then ends the session (``DELETE
/api/auth/session`` with the CSRF header read from the ``twin_csrf`` cookie).
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote, urlsplit

from ..i18n import LANGUAGES, text

__all__ = ["login_page", "safe_next"]


_CSS = """
body { margin:0;
  min-height:100vh;
  display:flex;
  align-items:center;
  justify-content:center;
  background:#eef1f5;
  font:14px/1.5 system-ui, "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif;
  color:#1f2933;
  }
form { background:#fff;
  padding:28px 32px;
  border-radius:8px;
  box-shadow:0 2px 12px rgba(0,0,0,.08);
  width:300px;
  }
h1 { font-size:20px; margin:0 0 16px; } label { display:block; margin:10px 0 4px; }
input { width:100%;
  box-sizing:border-box;
  padding:7px 8px;
  border:1px solid #b8c0cc;
  border-radius:4px;
  font:inherit;
  }
button { margin-top:18px;
  width:100%;
  padding:8px;
  border:0;
  border-radius:4px;
  background:#1f6feb;
  color:#fff;
  font:inherit; cursor:pointer; }
.error { color:#b42318; min-height:1.5em; margin:10px 0 0; } .notice { color:#44505f; }
.lang { display:block; margin-top:14px; text-align:right; font-size:12px; }
"""


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths may follow a log-in: ``/viewer/model?...`` yes,
    ``//evil.example`` or ``https://…`` no (an open redirect is a phishing tool)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    # Browsers drop tabs and newlines from URLs: "/\t/evil.example" would become "//evil.example".
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def login_page(*, language: str, next_url: str, logout: bool = False, expired: bool = False) -> str:
    t = lambda key: html.escape(text(key, language))  # noqa: E731
    other = next(lang for lang in LANGUAGES if lang != language)
    switch = f"/login?lang={other}&next={quote(next_url, safe='')}"
    messages = json.dumps(
        {"failed": text("login_failed", language), "throttled": text("login_throttled", language)}
    )
    notice = f"<p class='notice'>{t('session_expired')}</p>" if expired else ""
    # Logging out is a click, not a page load: a link from another site must not end a session.
    logout_form = (
        f"<form id='logout'><h1>{t('app_title')}</h1><p>{t('log_out_confirm')}</p>"
        f"<button type='submit'>{t('log_out')}</button></form>"
        if logout
        else ""
    )
    return f"""<!doctype html>
<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t("login_title")} · {t("app_title")}</title>
<style>{_CSS}</style></head><body>
{logout_form}
<form id="login" autocomplete="on"{" hidden" if logout else ""}>
<h1>{t("app_title")} · {t("login_title")}</h1>{notice}
<label for="username">{t("username")}</label><input id="username" name="username" required autofocus>
<label for="password">{t("password")}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{t("login_button")}</button>
<p class="error" id="error" role="alert"></p>
<a class="lang" href="{html.escape(switch)}">{"English" if other == "en" else "中文"}</a>
</form>
<script>
const NEXT = {_js(next_url)}, MESSAGES = {_js_raw(messages)};
const csrf = (document.cookie.match(/(?:^|; )twin_csrf=([^;]*)/) || [])[1];
const logoutForm = document.getElementById('logout');
if (logoutForm) logoutForm.addEventListener('submit', async (event) => {{
  event.preventDefault();
  if (csrf) {{
    const headers = {{'X-CSRF-Token': decodeURIComponent(csrf)}};
    await fetch('/api/auth/session', {{method: 'DELETE', headers}});
  }}
  logoutForm.hidden = true;
  document.getElementById('login').hidden = false;
}});
document.getElementById('login').addEventListener('submit', async (event) => {{
  event.preventDefault();
  const body = JSON.stringify({{username: username.value, password: password.value}});
  const headers = {{'Content-Type': 'application/json'}};
  const r = await fetch('/api/auth/session', {{method: 'POST', headers, body}});
  if (r.ok) {{ window.location.assign(NEXT); return; }}
  document.getElementById('error').textContent = r.status === 429 ? MESSAGES.throttled : MESSAGES.failed;
}});
</script></body></html>"""


def _js_raw(encoded_json: str) -> str:
    # Inside <script>, "</script>" or "<!--" in a string would end or confuse the block.
    return encoded_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _js(value: object) -> str:
    return _js_raw(json.dumps(value))
