"""Layout pieces every Panel page shares, so the pages look like one product."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import panel as pn

from ..client import NotAuthenticated, ViewerError

# The box around an inline form (a new issue, an improvement action).
FORM_STYLES = {
    "border": "1px solid #c8d0da",
    "border-radius": "4px",
    "padding": "4px",
    "background": "#fbfcfd",
}


def page_header(*controls, user_line: pn.viewable.Viewable, language: pn.viewable.Viewable) -> pn.FlexBox:
    """The bar at the top of a page: ``controls`` on the left, the signed-in user and the
    language switch on the right; it wraps onto more lines on a phone."""
    return pn.FlexBox(
        *controls,
        pn.Spacer(width=0, styles={"flex-grow": "1"}),  # pushes the user and language right
        user_line,
        language,
        flex_wrap="wrap",
        align_items="center",
        sizing_mode="stretch_width",
        styles={"border-bottom": "1px solid #d0d6de", "background": "#f7f9fb"},
    )


async def load_or_warn(
    load: Callable[[], Awaitable[object]],
    *,
    warn: Callable[[str], None],
    text: Callable[[str], str],
    standing: str = "",
) -> None:
    """Run a page's ``load``: the warning line shows ``standing`` (or nothing) while it works,
    and a lost session or a server error instead of a traceback if it fails."""
    try:
        warn(standing)
        await load()
    except NotAuthenticated:
        warn(text("session_expired"))
    except ViewerError as exc:
        warn(f"{text('server_error')}: {exc}")
