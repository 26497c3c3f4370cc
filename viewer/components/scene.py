"""``ModelScene``: the 3D view, a Panel ``JSComponent`` over our own three.js bundle.

The bundle (``viewer.bundle.js`` beside this file) is built by ``make bundle`` from
``viewer/js`` (pinned ``package.json`` + ``package-lock.json``) and committed, so installing
the package needs no npm. Panel serves it by URL (``_bundle``), and since ``_esm`` is that
same pre-built file, ``--dev``/autoreload cannot fall back to a CDN import map.

Python owns the state below; the browser fetches the GLB, the 4D payload and the defects
payload itself by URL (never through the websocket), computes the 4D status for the day,
and writes back only what the user did (``selected_global_id`` with ``picked_point_m``,
``camera``, ``selected_issue``, ``selected_point``, ``day``, ``playing``) and what the GLB
said (``storey_names``, ``element_count``, ``load_error``). The sensor colours come as one
byte per element (``sensor_conditions``, built by ``viewer.pages.sensors``); the only thing
the browser works out for them is where a sensor pin sits on its element.

Frames: every point and camera that crosses between Python and the browser is in the IFC
project world frame (Z up, metres), which is BCF's frame and the same for every revision of
a model; the GLB's own frame (Y up, relative to its ``origin_m``) never leaves the browser.
A camera dict is a BCF camera::

    {"kind": "perspective", "position_m": [x, y, z], "direction": [dx, dy, dz],
     "up": [ux, uy, uz], "field_of_view_deg": 45.0, "aspect_ratio": 1.6}

(``direction`` and ``up`` unit vectors, the field of view vertical), or for ``goto_camera``
also ``{"kind": "orthogonal", ..., "view_to_world_scale": <view height in m>}``.
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
        objects=["status", "class", "storey", "original", "custom", "defects", "sensors"],
        doc="What colours the elements; 'custom' paints `element_colors`, 'defects' the "
        "`defects_url` payload, 'sensors' the `sensor_conditions` bytes (original colours until "
        "they arrive).",
    )
    not_started = param.Selector(
        default="ghost", objects=["ghost", "hidden"], doc="How 4D mode draws elements not started yet."
    )
    element_colors = param.Bytes(
        default=b"",
        doc="Custom mode: RGBA bytes per element in GLB order; the alpha byte is a code "
        "(255 solid, 254 own colour, 64 ghost, 0 hidden). Defect and sensor modes feed this.",
    )
    defects_url = param.String(
        default="",
        doc="Same-origin URL of the defects payload (application/octet-stream): one byte per GLB "
        "element row, the worst live issue's severity (0 none, 1 minor, 2 major, 3 critical). Fetched "
        "again whenever the URL changes (append a version query to refresh); a payload whose length is "
        "not the element count is not painted and sets `load_error`.",
    )
    sensor_conditions = param.Bytes(
        default=b"",
        doc="Sensors mode: one byte per GLB element row, the worst condition of the monitor points "
        "on the element (0 none, 1 no data, 2 ok, 3 offline, 4 warn, 5 alarm, 6 control; "
        "viewer.pages.sensors.SENSOR_CODES). Bytes whose length is not the element count (made for "
        "another revision) are not painted.",
    )
    sensor_pins = param.List(
        default=[],
        item_type=dict,
        doc="Sensor pins: {'id': point id, 'code': str, 'row': GLB element row, 'condition': "
        "'no_data'|'ok'|'offline'|'warn'|'alarm'|'control', 'title': str}; each is drawn at the top "
        "centre of its element's bounding box in its condition's colour. Malformed entries and rows "
        "without geometry are skipped.",
    )
    selected_point = param.Integer(
        default=0,
        doc="The highlighted sensor pin's point id (0: none); set by the browser when a sensor pin is "
        "tapped (then `point_taps` counts it), or by Python.",
    )
    point_taps = param.Integer(default=0, doc="Set by the browser: counts sensor pin taps.")
    legend_note = param.String(
        default="", doc="A line under the legend's title in the sensors mode (the moment shown)."
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
    picked_point_m = param.List(
        default=[],
        item_type=(int, float),
        bounds=(0, 3),
        doc="Set by the browser on every click-pick, with `selected_global_id`: [x, y, z], the point "
        "on the picked element's surface under the cursor (IFC world frame, metres; the centre of the "
        "element's box if the view ray misses its triangles); [] when the click hit nothing.",
    )
    camera = param.Dict(
        default={},
        doc="Set by the browser: the current view as a BCF perspective camera (IFC world frame; shape "
        "in the module docstring), once a model is in view, then ~0.3 s after the view stops changing, "
        "right after each pick and after `goto_camera` is applied. Empty until a model loads.",
    )
    goto_camera = param.Dict(
        default={},
        doc="Set by Python: move the view to this camera (shape of `camera`, or a BCF orthogonal one "
        "with `view_to_world_scale`), once per change (applied after the model loads if set before). "
        "Malformed dicts are ignored. To go to the same camera again, change it (e.g. a 'seq' key).",
    )
    pins = param.List(
        default=[],
        item_type=dict,
        doc="Issue pins drawn over the model: {'id': int, 'number': int, 'point_m': [x, y, z] (IFC world "
        "frame), 'severity': 'minor'|'major'|'critical', 'status': str, 'title': str}; statuses "
        "'closed' and 'void' are greyed. Malformed entries are skipped.",
    )
    pin_taps = param.Integer(
        default=0,
        doc="Set by the browser: counts pin taps (after `selected_issue` is set), so tapping the "
        "already selected pin again is seen too.",
    )
    selected_issue = param.Integer(
        default=0,
        doc="The highlighted pin's issue id (0: none); set by the browser when a pin is clicked, or by "
        "Python.",
    )
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
