"""``ModelScene``: the 3D view, a Panel ``JSComponent`` over our own three.js bundle.

The bundle (``viewer.bundle.js`` beside this file) is built by ``make bundle`` from
``viewer/js`` (pinned ``package.json`` + ``package-lock.json``) and committed, so installing
the package needs no npm. Panel serves it by URL (``_bundle``), and since ``_esm`` is that
same pre-built file, ``--dev``/autoreload cannot fall back to a CDN import map.

Python owns the state below; the browser fetches the GLB and the 4D payload itself by URL
(never through the websocket), computes the 4D status for the day, and writes back only
``selected_global_id``, ``day`` and ``playing`` (what the user did) and ``storey_names``,
``element_count``, ``load_error`` (what the GLB said).
"""

from __future__ import annotations

from pathlib import Path

import param
from panel.custom import JSComponent

__all__ = ["BUNDLE", "ModelScene"]

BUNDLE = Path(__file__).with_name("viewer.bundle.js")


class ModelScene(JSComponent):
    """The model in 3D, coloured per element, with the 4D timeline under it."""

    glb_url = param.String(default="", doc="Same-origin URL of the revision's GLB.")
    fourd_url = param.String(default="", doc="Same-origin URL of the binary 4D payload; empty: no schedule.")
    day = param.Integer(
        default=None, allow_None=True, doc="Timeline day (days since 1970-01-01); set by either side."
    )
    color_mode = param.Selector(
        default="status",
        objects=["status", "class", "storey", "original", "custom"],
        doc="What colours the elements; 'custom' paints `element_colors`.",
    )
    not_started = param.Selector(
        default="ghost", objects=["ghost", "hidden"], doc="How 4D mode draws elements not started yet."
    )
    element_colors = param.Bytes(
        default=b"",
        doc="Custom mode: RGBA bytes per element in GLB order; the alpha byte is a code "
        "(255 solid, 254 own colour, 64 ghost, 0 hidden). Defect and sensor modes feed this.",
    )
    storey = param.String(default="", doc="Storey name to filter on; empty: all storeys.")
    storey_mode = param.Selector(
        default="only", objects=["only", "isolate"], doc="'only' hides other storeys, 'isolate' ghosts them."
    )
    xray = param.Boolean(default=False, doc="Ghost every element but the selection.")
    section_axis = param.Selector(
        default="",
        objects=["", "x", "y", "z"],
        doc="Section plane across this axis (y = height); empty: none.",
    )
    section_position = param.Number(
        default=0.5, bounds=(0.0, 1.0), doc="Where the cut is, 0..1 of the extent."
    )
    selected_global_id = param.String(default="", doc="The selected element (picked in 3D or set by Python).")
    focus_rows = param.List(
        default=[], item_type=int, doc="Element rows (GLB order) to select and frame, e.g. a task's elements."
    )
    url_query = param.String(
        default="", doc="Query string the address bar should show (replaced in place: no history entry)."
    )
    labels = param.Dict(default={}, doc="Strings for the overlays, from viewer.i18n (one language).")
    storey_names = param.List(default=[], item_type=str, doc="Set by the browser: storeys in the GLB.")
    element_count = param.Integer(default=0, doc="Set by the browser: elements in the GLB.")
    load_error = param.String(default="", doc="Set by the browser when the GLB or 4D payload fails.")
    playing = param.Boolean(default=False, doc="Set by the browser while the timeline plays.")

    _esm = BUNDLE
    _bundle = BUNDLE
    _stylesheets = [":host { display: block; }"]  # noqa: RUF012 (Panel's class attribute)
