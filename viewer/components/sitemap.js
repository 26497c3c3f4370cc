// The HQ site map (viewer/components/sitemap.py): a 2D canvas with the offline base map (or an
// administrator's XYZ tiles over it), one marker per project and, zoomed in, footprints.
//
// Python owns the data: markers arrive with their colour, radius and hover text (escaped, in
// the page language); this file only draws them, pans and zooms (drag, wheel, pinch, keys,
// buttons), shows the hover text, and reports a click on a marker by setting `selected`.
// Plain ES module without imports: Panel loads it as is, there is nothing to bundle.
//
// World coordinates are Web Mercator scaled to [0, 1] (x east, y south), as tile zoom 0.
// A frame is drawn at most once per animation frame, only when something changed.
//
// Measuring (benchmarks/map.py): when markers arrive the mark `erji-map-sites` is set; once a
// frame with those markers and the base map has been drawn, `erji-map-complete` is set in the
// next animation frame (the drawn frame has gone to the screen) and the element gets
// `data-complete="yes"`. `window.erjiMap.metrics` keeps draw times and, per set of markers,
// the time from their arrival to that complete frame.

const TILE_PX = 256;
const MAX_LAT = 85.0511287798;
const EARTH_CIRCUMFERENCE_M = 40075016.686;
const MIN_ZOOM = 2;
const MAX_ZOOM = 19;
/** Fitting one site (or a few close together) stops at a district, not a street. */
const FIT_MAX_ZOOM = 12;
const FIT_PADDING_PX = 48;
/** Before any site is known: mainland China and its seas. */
const CHINA_LON_LAT = [73.5, 18.0, 135.1, 53.6];
const CLICK_SLOP_PX = 5;
const HIT_SLOP_PX = 3;
const WHEEL_PX_PER_DOUBLING = 300;
const KEY_PAN_PX = 80;
const TILE_CACHE_SIZE = 384;
const LABEL_MIN_ZOOM = 4.6; // province names once provinces are big enough to hold them

const COLOURS = {
  sea: '#dde8f2',
  country: '#efece4',
  countryEdge: '#c2bba9',
  china: '#fbfaf6',
  province: '#fbfaf6',
  provinceEdge: '#b8b0a0',
  chinaEdge: '#8e8676',
  label: '#5b6470',
  selected: '#1f5fbf',
};

const STYLE = `
.erji-map { position: relative; width: 100%; height: 100%; overflow: hidden; background: ${COLOURS.sea};
  font: 12px system-ui, "PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif; color: #1f2933; }
.erji-map canvas { position: absolute; inset: 0; width: 100%; height: 100%; touch-action: none; outline: none; }
.erji-map canvas:focus-visible { box-shadow: inset 0 0 0 2px ${COLOURS.selected}; }
.erji-map .controls { position: absolute; top: 10px; left: 10px; display: flex; flex-direction: column; gap: 4px; }
.erji-map .controls button { width: 32px; height: 32px; border: 1px solid #c8d0da; border-radius: 4px;
  background: #fff; font-size: 17px; line-height: 1; cursor: pointer; color: #1f2933; }
.erji-map .controls button:hover { background: #f2f5f8; }
.erji-map .tip { position: absolute; pointer-events: none; max-width: 320px; background: #fff;
  border: 1px solid #c8d0da; border-radius: 6px; padding: 7px 9px; box-shadow: 0 2px 8px rgba(0,0,0,.15);
  line-height: 1.45; display: none; z-index: 2; }
.erji-map .tip .code { color: #6a7480; font-size: 11px; }
.erji-map .tip .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px;
  vertical-align: middle; box-shadow: inset 0 0 0 1px rgba(0,0,0,.18); }
.erji-map .tip ul { margin: 4px 0 0 16px; padding: 0; }
.erji-map .scale { position: absolute; left: 10px; bottom: 8px; font-size: 11px; color: #44505f;
  border: 1.5px solid #44505f; border-top: 0; padding: 0 4px; background: rgba(255,255,255,.6); }
.erji-map .credit { position: absolute; right: 6px; bottom: 4px; font-size: 10px; color: #6a7480;
  background: rgba(255,255,255,.6); padding: 0 4px; max-width: 60%; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
`;

// ---- projection -------------------------------------------------------------------------

function worldX(lon) {
  return (lon + 180) / 360;
}

function worldY(lat) {
  const clamped = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const s = Math.sin((clamped * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

function latitudeOf(y) {
  return (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
}

/** Ground metres per CSS pixel at world y (Web Mercator stretches by 1 / cos(latitude)). */
function metresPerPx(scale, y) {
  return (EARTH_CIRCUMFERENCE_M * Math.cos((latitudeOf(y) * Math.PI) / 180)) / scale;
}

// ---- the base map ------------------------------------------------------------------------

function linePath(path, line, closed) {
  for (let i = 0; i < line.length; i++) {
    const x = worldX(line[i][0]);
    const y = worldY(line[i][1]);
    if (i === 0) path.moveTo(x, y);
    else path.lineTo(x, y);
  }
  if (closed) path.closePath();
}

function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

function linesOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'LineString') return [geometry.coordinates];
  if (geometry.type === 'MultiLineString') return geometry.coordinates;
  return [];
}

/** Where a province's name goes: the centroid of its largest outer ring (world units). */
function labelPoint(polygons) {
  let best = null;
  for (const polygon of polygons) {
    const ring = polygon[0];
    if (!ring || ring.length < 3) continue;
    let area = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const xi = worldX(ring[i][0]);
      const yi = worldY(ring[i][1]);
      const xj = worldX(ring[j][0]);
      const yj = worldY(ring[j][1]);
      const cross = xj * yi - xi * yj;
      area += cross;
      cx += (xi + xj) * cross;
      cy += (yi + yj) * cross;
    }
    if (area !== 0 && (!best || Math.abs(area) > best.area)) {
      best = { area: Math.abs(area), x: cx / (3 * area), y: cy / (3 * area) };
    }
  }
  return best;
}

/** Path2D per layer in world units (one fill and one stroke per layer per frame). Polygons
 * go to their kind's layer (unknown kinds: countries); lines (China's maritime boundary,
 * kind `china_maritime`) to `lines`, drawn like China's outline. A Path2D keeps float32
 * coordinates, ~2 m on the ground: far below the outlines' simplification. Footprints and
 * markers, which must sit exactly, are projected in float64 every frame instead. */
function buildBasemap(document) {
  const layers = { country: new Path2D(), province: new Path2D(), china: new Path2D(), lines: new Path2D() };
  const present = { country: false, province: false, china: false, lines: false };
  const names = [];
  for (const feature of document.features || []) {
    const properties = feature.properties || {};
    const kind = properties.kind in layers ? properties.kind : 'country';
    const polygons = polygonsOf(feature.geometry);
    for (const polygon of polygons) for (const ring of polygon) linePath(layers[kind], ring, true);
    present[kind] = present[kind] || polygons.length > 0;
    const lines = linesOf(feature.geometry);
    for (const line of lines) linePath(layers.lines, line, false);
    present.lines = present.lines || lines.length > 0;
    if (kind === 'province') {
      const at = labelPoint(polygons);
      if (at) names.push({ x: at.x, y: at.y, zh: properties.name_zh || '', en: properties.name_en || '' });
    }
  }
  return { layers, present, names };
}

// The parsed base map is kept for the page's lifetime: pages and re-renders share it.
const basemaps = new Map();

function loadBasemap(url) {
  if (!basemaps.has(url)) {
    const started = performance.now();
    const loading = fetch(url, { credentials: 'same-origin' })
      .then((response) => {
        if (!response.ok) throw new Error(`base map: HTTP ${response.status}`);
        return response.json();
      })
      .then((document) => ({ ...buildBasemap(document), loadMs: performance.now() - started }));
    loading.catch(() => basemaps.delete(url)); // a later render may try again
    basemaps.set(url, loading);
  }
  return basemaps.get(url);
}

// ---- tiles -------------------------------------------------------------------------------

class TileLayer {
  constructor(template, onLoad) {
    this.template = template;
    this.onLoad = onLoad;
    this.tiles = new Map(); // "z/x/y" -> {image, ready}, oldest first
  }

  tile(z, x, y) {
    const key = `${z}/${x}/${y}`;
    let tile = this.tiles.get(key);
    if (tile) {
      this.tiles.delete(key); // most recently used goes last
      this.tiles.set(key, tile);
      return tile;
    }
    const image = new Image();
    tile = { image, ready: false };
    image.onload = () => {
      tile.ready = true;
      this.onLoad();
    };
    image.src = this.template.replace('{z}', z).replace('{x}', x).replace('{y}', y);
    this.tiles.set(key, tile);
    while (this.tiles.size > TILE_CACHE_SIZE) this.tiles.delete(this.tiles.keys().next().value);
    return tile;
  }

  draw(ctx, scale, ox, oy, width, height) {
    const z = Math.max(0, Math.min(MAX_ZOOM, Math.round(Math.log2(scale / TILE_PX))));
    const n = 2 ** z;
    const size = scale / n;
    const x0 = Math.floor(-ox / size);
    const x1 = Math.floor((width - ox) / size);
    const y0 = Math.max(0, Math.floor(-oy / size));
    const y1 = Math.min(n - 1, Math.floor((height - oy) / size));
    for (let ty = y0; ty <= y1; ty++) {
      for (let tx = x0; tx <= x1; tx++) {
        const tile = this.tile(z, ((tx % n) + n) % n, ty);
        // +0.5 px overlap hides hairline seams between tiles.
        if (tile.ready) ctx.drawImage(tile.image, tx * size + ox, ty * size + oy, size + 0.5, size + 0.5);
      }
    }
  }
}

// ---- the component -----------------------------------------------------------------------

function plain(value) {
  return value instanceof Map ? Object.fromEntries(value) : value || {};
}

function niceLength(metres) {
  const power = 10 ** Math.floor(Math.log10(metres));
  for (const step of [5, 2, 1]) if (step * power <= metres) return step * power;
  return power;
}

export function render({ model, el }) {
  const style = document.createElement('style');
  style.textContent = STYLE;
  el.appendChild(style);
  const root = document.createElement('div');
  root.className = 'erji-map';
  root.dataset.role = 'site-map';
  el.appendChild(root);
  const canvas = document.createElement('canvas');
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'application');
  root.appendChild(canvas);
  const ctx = canvas.getContext('2d');
  const tip = document.createElement('div');
  tip.className = 'tip';
  tip.dataset.role = 'map-tip';
  root.appendChild(tip);
  const scaleBar = document.createElement('div');
  scaleBar.className = 'scale';
  root.appendChild(scaleBar);
  const credit = document.createElement('div');
  credit.className = 'credit';
  root.appendChild(credit);
  const controls = document.createElement('div');
  controls.className = 'controls';
  root.appendChild(controls);
  const button = (text, role, action) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.dataset.role = role;
    b.addEventListener('click', action);
    controls.appendChild(b);
    return b;
  };

  const state = {
    width: 0,
    height: 0,
    view: { x: 0.5, y: 0.5, zoom: MIN_ZOOM },
    markers: [],
    wx: new Float64Array(0), // marker world positions, in `markers` order
    wy: new Float64Array(0),
    sx: new Float64Array(0), // screen positions of the last frame
    sy: new Float64Array(0),
    basemap: null,
    basemapError: '',
    tiles: null,
    hovered: -1,
    fitPending: true,
    fittedMarkers: false,
    fitSeen: model.fit_request,
    frame: 0,
    awaitingComplete: false,
    sitesAt: 0,
  };
  const metrics = {
    drawMs: [],
    renders: [],
    basemapLoadMs: null,
    basemapReadyAt: null,
    markersDrawn: 0,
    footprintsDrawn: 0,
  };
  const labels = () => plain(model.labels);

  const scale = () => TILE_PX * 2 ** state.view.zoom;
  const offset = () => {
    const s = scale();
    return [state.width / 2 - state.view.x * s, state.height / 2 - state.view.y * s];
  };

  function invalidate() {
    if (!state.frame) state.frame = requestAnimationFrame(draw);
  }

  function setView(x, y, zoom) {
    state.view.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
    state.view.x = Math.max(0, Math.min(1, x));
    state.view.y = Math.max(0, Math.min(1, y));
    if (state.hovered >= 0) {
      state.hovered = -1; // the marker moved away from under the cursor
      hideTip();
    }
    invalidate();
  }

  /** Zoom by 2^dz keeping the world point under (px, py) where it is. */
  function zoomAt(dz, px, py) {
    const s0 = scale();
    const [ox0, oy0] = offset();
    const wx = (px - ox0) / s0;
    const wy = (py - oy0) / s0;
    const zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, state.view.zoom + dz));
    const s1 = TILE_PX * 2 ** zoom;
    setView(wx - (px - state.width / 2) / s1, wy - (py - state.height / 2) / s1, zoom);
  }

  function panBy(dx, dy) {
    const s = scale();
    setView(state.view.x - dx / s, state.view.y - dy / s, state.view.zoom);
  }

  function fitBounds(x0, y0, x1, y1) {
    const w = Math.max(state.width - 2 * FIT_PADDING_PX, 1);
    const h = Math.max(state.height - 2 * FIT_PADDING_PX, 1);
    const spanX = Math.max(x1 - x0, 1e-12);
    const spanY = Math.max(y1 - y0, 1e-12);
    const zoom = Math.min(Math.log2(w / (spanX * TILE_PX)), Math.log2(h / (spanY * TILE_PX)), FIT_MAX_ZOOM);
    setView((x0 + x1) / 2, (y0 + y1) / 2, zoom);
  }

  function fitMarkers() {
    const n = state.markers.length;
    if (!n) {
      const [w, s, e, nn] = CHINA_LON_LAT;
      fitBounds(worldX(w), worldY(nn), worldX(e), worldY(s));
      return;
    }
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, state.wx[i]);
      x1 = Math.max(x1, state.wx[i]);
      y0 = Math.min(y0, state.wy[i]);
      y1 = Math.max(y1, state.wy[i]);
    }
    fitBounds(x0, y0, x1, y1);
  }

  function setMarkers() {
    const count = (model.markers || []).length;
    performance.mark('erji-map-sites', { detail: { markers: count } });
    state.sitesAt = performance.now();
    state.awaitingComplete = true;
    delete root.dataset.complete;
    const markers = (model.markers || []).map(plain);
    const n = markers.length;
    state.markers = markers;
    state.wx = new Float64Array(n);
    state.wy = new Float64Array(n);
    state.sx = new Float64Array(n);
    state.sy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      state.wx[i] = worldX(markers[i].lon);
      state.wy[i] = worldY(markers[i].lat);
    }
    state.hovered = -1;
    hideTip();
    root.dataset.markers = String(n);
    invalidate();
  }

  function setBasemap() {
    state.basemap = null;
    state.basemapError = '';
    delete root.dataset.basemap;
    if (!model.basemap_url) {
      invalidate();
      return;
    }
    const url = model.basemap_url;
    loadBasemap(url).then(
      (basemap) => {
        if (model.basemap_url !== url) return;
        state.basemap = basemap;
        metrics.basemapLoadMs = basemap.loadMs;
        metrics.basemapReadyAt = performance.now();
        root.dataset.basemap = 'yes';
        invalidate();
      },
      (error) => {
        state.basemapError = String(error.message || error);
        root.dataset.basemap = 'failed';
        invalidate();
      },
    );
  }

  function setTiles() {
    state.tiles = model.tile_url ? new TileLayer(model.tile_url, invalidate) : null;
    root.dataset.tiles = model.tile_url ? 'yes' : 'no';
    invalidate();
  }

  function relabel() {
    zoomIn.title = labels().map_zoom_in || '+';
    zoomOut.title = labels().map_zoom_out || '−';
    fitAll.title = labels().map_fit || '⤢';
    canvas.setAttribute('aria-label', labels().map_title || 'map');
    credit.textContent = model.attribution ? `${labels().map_basemap || ''} ${model.attribution}`.trim() : '';
    credit.style.display = model.attribution ? '' : 'none';
    invalidate();
  }

  const zoomIn = button('+', 'map-zoom-in', () => zoomAt(1, state.width / 2, state.height / 2));
  const zoomOut = button('−', 'map-zoom-out', () => zoomAt(-1, state.width / 2, state.height / 2));
  const fitAll = button('⤢', 'map-fit', () => fitMarkers());

  // ---- drawing ----
  function drawBasemap(s, ox, oy) {
    const basemap = state.basemap;
    const { layers, present } = basemap;
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * ox, dpr * oy);
    ctx.lineJoin = 'round';
    if (present.country) {
      ctx.fillStyle = COLOURS.country;
      ctx.fill(layers.country, 'evenodd');
      ctx.strokeStyle = COLOURS.countryEdge;
      ctx.lineWidth = 0.8 / s;
      ctx.stroke(layers.country);
    }
    if (present.china) {
      ctx.fillStyle = COLOURS.china;
      ctx.fill(layers.china, 'evenodd');
    }
    if (present.province) {
      ctx.fillStyle = COLOURS.province;
      ctx.fill(layers.province, 'evenodd');
      ctx.strokeStyle = COLOURS.provinceEdge;
      ctx.lineWidth = 0.7 / s;
      ctx.stroke(layers.province);
    }
    ctx.strokeStyle = COLOURS.chinaEdge;
    ctx.lineWidth = 1.4 / s;
    if (present.china) ctx.stroke(layers.china);
    if (present.lines) ctx.stroke(layers.lines);
    ctx.restore();
  }

  function drawNames(s, ox, oy) {
    if (state.view.zoom < LABEL_MIN_ZOOM || !state.basemap) return;
    const key = model.lang === 'en' ? 'en' : 'zh';
    ctx.font = '12px system-ui, "PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255,255,255,0.85)';
    ctx.fillStyle = COLOURS.label;
    for (const name of state.basemap.names) {
      const x = name.x * s + ox;
      const y = name.y * s + oy;
      if (x < -50 || y < -20 || x > state.width + 50 || y > state.height + 20 || !name[key]) continue;
      ctx.strokeText(name[key], x, y);
      ctx.fillText(name[key], x, y);
    }
  }

  function drawFootprints(s, ox, oy) {
    metrics.footprintsDrawn = 0;
    const widthM = state.width * metresPerPx(s, state.view.y);
    if (!(widthM < model.footprint_max_width_m)) return;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([]);
    for (const marker of state.markers) {
      if (!marker.footprint) continue;
      ctx.beginPath();
      let inView = false;
      for (const ring of marker.footprint) {
        for (let i = 0; i < ring.length; i++) {
          const x = worldX(ring[i][0]) * s + ox;
          const y = worldY(ring[i][1]) * s + oy;
          inView = inView || (x >= 0 && y >= 0 && x <= state.width && y <= state.height);
          if (i === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
        }
        ctx.closePath();
      }
      if (!inView) continue;
      ctx.globalAlpha = 0.35;
      ctx.fillStyle = marker.colour;
      ctx.fill('evenodd');
      ctx.globalAlpha = 1;
      ctx.strokeStyle = marker.colour;
      ctx.stroke();
      metrics.footprintsDrawn++;
    }
  }

  function drawMarkers(s, ox, oy) {
    const { markers, wx, wy, sx, sy } = state;
    let drawn = 0;
    ctx.lineWidth = 1.5;
    for (let i = 0; i < markers.length; i++) {
      const m = markers[i];
      const x = wx[i] * s + ox;
      const y = wy[i] * s + oy;
      sx[i] = x;
      sy[i] = y;
      const r = m.radius_px;
      if (x < -r || y < -r || x > state.width + r || y > state.height + r) continue;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.globalAlpha = 0.88;
      ctx.fillStyle = m.colour;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.setLineDash(m.dashed ? [3, 2] : []);
      ctx.strokeStyle = m.dashed ? '#44505f' : '#ffffff';
      ctx.stroke();
      drawn++;
    }
    ctx.setLineDash([]);
    const chosen = markers.findIndex((m) => m.id === model.selected);
    if (chosen >= 0) {
      ctx.beginPath();
      ctx.arc(sx[chosen], sy[chosen], markers[chosen].radius_px + 4, 0, 2 * Math.PI);
      ctx.strokeStyle = COLOURS.selected;
      ctx.lineWidth = 3;
      ctx.stroke();
    }
    metrics.markersDrawn = drawn;
  }

  function drawScale(s) {
    const perPx = metresPerPx(s, state.view.y);
    const metres = niceLength(perPx * 100);
    scaleBar.style.width = `${Math.round(metres / perPx)}px`;
    scaleBar.textContent = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
  }

  function draw() {
    if (!state.width || !state.height) {
      state.frame = 0;
      return;
    }
    // Fit when asked to, and when the first markers come (before them: China). `state.frame`
    // is still set here, so the view change does not ask for another frame: this is it.
    if (state.fitPending || (!state.fittedMarkers && state.markers.length)) {
      state.fitPending = false;
      state.fittedMarkers = state.markers.length > 0;
      fitMarkers();
    }
    state.frame = 0;
    const started = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const s = scale();
    const [ox, oy] = offset();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = COLOURS.sea;
    ctx.fillRect(0, 0, state.width, state.height);
    if (state.basemap) drawBasemap(s, ox, oy);
    if (state.tiles) state.tiles.draw(ctx, s, ox, oy, state.width, state.height);
    drawNames(s, ox, oy);
    drawFootprints(s, ox, oy);
    drawMarkers(s, ox, oy);
    drawScale(s);
    metrics.drawMs.push(performance.now() - started);
    if (metrics.drawMs.length > 500) metrics.drawMs.splice(0, 250);
    root.dataset.zoom = state.view.zoom.toFixed(2);
    const basemapDone = !model.basemap_url || state.basemap !== null || state.basemapError !== '';
    if (state.awaitingComplete && basemapDone) {
      state.awaitingComplete = false;
      const since = state.sitesAt;
      // The next animation frame starts once the frame just drawn has gone to the screen.
      const count = state.markers.length;
      requestAnimationFrame(() => {
        performance.mark('erji-map-complete', { detail: { markers: count } });
        metrics.renders.push({ markers: count, sitesToCompleteMs: performance.now() - since });
        root.dataset.complete = 'yes';
      });
    }
  }

  // ---- hover and click ----
  function markerAt(px, py) {
    const { markers, sx, sy } = state;
    for (let i = markers.length - 1; i >= 0; i--) {
      const r = markers[i].radius_px + HIT_SLOP_PX;
      const dx = px - sx[i];
      const dy = py - sy[i];
      if (dx * dx + dy * dy <= r * r) return i;
    }
    return -1;
  }

  function hideTip() {
    tip.style.display = 'none';
    canvas.style.cursor = '';
  }

  function showTip(i, px, py) {
    if (state.hovered !== i) tip.innerHTML = state.markers[i].tip;
    state.hovered = i;
    tip.dataset.project = String(state.markers[i].id);
    tip.style.display = 'block';
    canvas.style.cursor = 'pointer';
    // Beside the cursor, flipped to stay inside the map.
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    const left = px + 14 + w > state.width ? px - 14 - w : px + 14;
    const top = py + 14 + h > state.height ? py - 14 - h : py + 14;
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${Math.max(0, top)}px`;
  }

  const pointers = new Map(); // pointerId -> {x, y}
  let press = null; // {x, y, moved} of the press that may become a click
  let pinch = null; // {distance, zoom}

  const local = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };

  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = local(event);
    pointers.set(event.pointerId, { x, y });
    if (pointers.size === 1) press = { x, y, moved: false };
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, zoom: state.view.zoom };
      press = null;
    }
  });

  canvas.addEventListener('pointermove', (event) => {
    const [x, y] = local(event);
    const last = pointers.get(event.pointerId);
    if (!last) {
      const i = markerAt(x, y);
      if (i >= 0) showTip(i, x, y);
      else if (state.hovered >= 0) {
        state.hovered = -1;
        hideTip();
      }
      return;
    }
    if (pointers.size === 2 && pinch) {
      pointers.set(event.pointerId, { x, y });
      const [a, b] = [...pointers.values()];
      const distance = Math.hypot(a.x - b.x, a.y - b.y) || 1;
      zoomAt(pinch.zoom + Math.log2(distance / pinch.distance) - state.view.zoom, (a.x + b.x) / 2, (a.y + b.y) / 2);
      return;
    }
    if (press && Math.hypot(x - press.x, y - press.y) > CLICK_SLOP_PX) press.moved = true;
    if (!press || press.moved) {
      panBy(x - last.x, y - last.y);
      hideTip();
    }
    pointers.set(event.pointerId, { x, y });
  });

  const release = (event) => {
    const [x, y] = local(event);
    if (pointers.size === 1 && press && !press.moved) {
      const i = markerAt(x, y);
      if (i >= 0) {
        model.selected = state.markers[i].id;
        invalidate();
      }
    }
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0) press = null;
  };
  canvas.addEventListener('pointerup', release);
  canvas.addEventListener('pointercancel', (event) => {
    pointers.delete(event.pointerId);
    pinch = null;
    press = null;
  });
  canvas.addEventListener('pointerleave', (event) => {
    if (event.pointerType === 'mouse') {
      state.hovered = -1;
      hideTip();
    }
  });
  canvas.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const [x, y] = local(event);
      const px = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY; // lines → px
      zoomAt(-px / WHEEL_PX_PER_DOUBLING, x, y);
    },
    { passive: false },
  );
  canvas.addEventListener('dblclick', (event) => {
    const [x, y] = local(event);
    zoomAt(event.shiftKey ? -1 : 1, x, y);
  });
  canvas.addEventListener('keydown', (event) => {
    const moves = {
      ArrowLeft: [KEY_PAN_PX, 0],
      ArrowRight: [-KEY_PAN_PX, 0],
      ArrowUp: [0, KEY_PAN_PX],
      ArrowDown: [0, -KEY_PAN_PX],
    };
    if (event.key in moves) panBy(...moves[event.key]);
    else if (event.key === '+' || event.key === '=') zoomAt(1, state.width / 2, state.height / 2);
    else if (event.key === '-') zoomAt(-1, state.width / 2, state.height / 2);
    else return;
    event.preventDefault();
  });

  // ---- size ----
  const resize = () => {
    const dpr = window.devicePixelRatio || 1;
    state.width = root.clientWidth;
    state.height = root.clientHeight;
    canvas.width = Math.round(state.width * dpr);
    canvas.height = Math.round(state.height * dpr);
    invalidate();
  };
  const observer = new ResizeObserver(resize);
  observer.observe(root);

  model.on('markers', setMarkers);
  model.on('basemap_url', setBasemap);
  model.on('tile_url', setTiles);
  model.on(['labels', 'attribution'], relabel);
  model.on(['selected', 'lang', 'footprint_max_width_m'], invalidate);
  model.on('fit_request', () => {
    if (model.fit_request === state.fitSeen) return;
    state.fitSeen = model.fit_request;
    state.fitPending = true;
    invalidate();
  });
  model.on('remove', () => {
    observer.disconnect();
    if (state.frame) cancelAnimationFrame(state.frame);
    if (window.erjiMap && window.erjiMap.root === root) delete window.erjiMap;
  });

  // For tests and benchmarks: where a project's marker is on the page (client px).
  window.erjiMap = {
    root,
    state,
    metrics,
    markerPoint(id) {
      const i = state.markers.findIndex((m) => m.id === id);
      if (i < 0) return null;
      const box = canvas.getBoundingClientRect();
      return { x: box.left + state.sx[i], y: box.top + state.sy[i], inView: this.inView(i) };
    },
    inView(i) {
      return state.sx[i] >= 0 && state.sy[i] >= 0 && state.sx[i] <= state.width && state.sy[i] <= state.height;
    },
    zoomAt,
    panBy,
    fitMarkers,
    /** Draw now and read one pixel back, which waits until the canvas is rasterised (the
     * browser otherwise records 2D calls and rasterises later): the full cost of a frame. */
    renderSync() {
      const started = performance.now();
      if (state.frame) cancelAnimationFrame(state.frame);
      state.frame = 1; // as inside an animation frame: the view stays as it is
      draw();
      ctx.getImageData(0, 0, 1, 1);
      return performance.now() - started;
    },
  };

  relabel();
  setTiles();
  setBasemap();
  setMarkers();
  resize();
}
