"""Layout pieces every Panel page shares, so the pages look like one product."""

from __future__ import annotations

import panel as pn

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
