// Entry point of the viewer bundle: Panel's JSComponent calls `render({ model, el })`.
//
// The Python component (viewer/components/scene.py) owns the state as params; this file
// renders it and reports back only what the user did in the 3D view (picked element and
// point, camera, timeline day, chosen issue or sensor pin) and what the GLB told it
// (storeys, classes). Bulk data travels by URL (GLB, 4D payload, defects), never through
// the websocket; the sensors bytes (one per element, only for the elements' conditions
// Python read from the server) come as a binary param.
// Points and cameras cross to Python in the IFC world frame (frames.js), never the GLB's.
//
// The 4D status is computed here from the 4D arrays (status.js, the tested copy of the
// Python rule), so moving the timeline never waits for the server: the day param is sent
// to Python at most every DAY_SYNC_MS for the task list and the URL.

import { Matrix4, Vector2, Vector3 } from 'three';

import { decodeFourD } from './fourd.js';
import { bcfCamera, glbToIfcPoint, ifcToGlbPoint, parseBcfCamera, roundPoint, vector3 } from './frames.js';
import { composeColors, scheduleSpan } from './paint.js';
import { PinLayer } from './pins.js';
import { ModelScene } from './scene.js';
import { elementStatus, isoDate } from './status.js';
import { Legend, Timeline, Toolbar, injectStyles } from './overlays.js';

const DAY_SYNC_MS = 250;
const MARGIN_DAYS = 7;
/** The camera param is sent once the view has been still this long (orbit, zoom, resize). */
const CAMERA_SETTLE_MS = 300;

/** Bokeh hands over dicts as plain objects, but a Map (non-string keys) is possible too. */
function plain(value) {
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

function isEmptyDict(value) {
  const v = plain(value);
  return !v || typeof v !== 'object' || Object.keys(v).length === 0;
}

export function render({ model, el }) {
  injectStyles(el);
  el.classList.add('erji-viewer');
  const viewport = document.createElement('div');
  viewport.className = 'erji-viewport';
  el.appendChild(viewport);
  const scene = new ModelScene(viewport);
  const metrics = {
    navigationToFirstFrameMs: null,
    glbBytes: 0,
    recolourMs: [],
    frameMs: [],
    drawCalls: 0,
    triangles: 0,
  };
  const state = {
    fourd: null,
    status: null,
    texels: null,
    selected: null,
    selectedCount: 0,
    categories: null,
    day: model.day,
    lastSynced: 0,
    syncTimer: null,
    frameSeen: false,
    custom: null,
    defects: null, // bytes of the latest defects payload (any length; checked against the model)
    defectsError: '', // the load_error text a bad defects payload set (cleared by a good one)
    severity: null, // the defects bytes when they fit the model shown: 1 byte per element
    sensors: null, // the sensor condition bytes when they fit the model shown: 1 byte per element
    sensorTops: new Map(), // element row -> top centre of its box (GLB frame), null: no geometry
    modelLoading: false,
    cameraTimer: null,
    gotoPending: !isEmptyDict(model.goto_camera), // set before the model: applied once it is in
  };
  const labels = () => model.labels || {};

  const toolbar = new Toolbar(el, {
    onHome: () => scene.homeView(),
    onFit: () => scene.fitModel(),
    onFrameSelection: () => frameSelection(),
  });
  const legend = new Legend(el);
  const timeline = new Timeline(el, {
    onDay: (day, { final }) => setDay(day, { final }),
    onPlaying: (playing) => {
      if (model.playing !== playing) model.playing = playing;
    },
  });

  // Sensor pins: one tag per monitor point, on top of its element; Python sends them (only
  // in the sensors colour mode) with the element's row, the browser finds where that is.
  // Each layer goes right after the viewport, so a layer made later lies below one made
  // earlier: made first, the sensor tags are drawn over the issue badges where they overlap.
  const sensorPins = new PinLayer(viewport, {
    kind: 'sensor',
    onSelect: (id) => {
      sensorPins.setSelected(id);
      if (model.selected_point !== id) model.selected_point = id;
      model.point_taps = (model.point_taps || 0) + 1;
    },
    wheelTarget: scene.renderer.domElement,
  });
  const pins = new PinLayer(viewport, {
    onSelect: (id) => {
      pins.setSelected(id);
      if (model.selected_issue !== id) model.selected_issue = id;
      // Every tap counts, the selected pin's too: tapping it again goes back to its view.
      model.pin_taps = (model.pin_taps || 0) + 1;
    },
    wheelTarget: scene.renderer.domElement,
  });
  const viewProjection = new Matrix4();
  const canvasSize = new Vector2();
  /** Pins follow the camera: reprojected after every rendered frame (and on demand). */
  function updatePins() {
    const camera = scene.camera;
    camera.updateMatrixWorld();
    viewProjection.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
    // The size the renderer was given (CSS px): reading clientWidth here would force a
    // style recalculation of every badge moved in the previous frame.
    scene.renderer.getSize(canvasSize);
    pins.update(viewProjection.elements, canvasSize.x, canvasSize.y);
    sensorPins.update(viewProjection.elements, canvasSize.x, canvasSize.y);
  }

  scene.onFrame = (ms) => {
    updatePins();
    if (!state.frameSeen && scene.table) {
      state.frameSeen = true;
      metrics.navigationToFirstFrameMs = performance.now();
      metrics.drawCalls = scene.renderer.info.render.calls;
      metrics.triangles = scene.renderer.info.render.triangles;
      el.dataset.firstFrame = 'yes';
    }
    if (metrics.frameMs.length < 1000) metrics.frameMs.push(ms);
  };

  // ---- painting -------------------------------------------------------------------
  function categoriesFor(mode) {
    if (!scene.table) return null;
    if (mode === 'class') return scene.table.classIndex;
    if (mode === 'storey') return scene.table.storeyIndex;
    return null;
  }

  function repaint() {
    const table = scene.table;
    if (!table) return;
    const t0 = performance.now();
    let mode = model.color_mode;
    if (mode === 'status' && !state.fourd) mode = 'original';
    if (mode === 'custom' && !state.custom) mode = 'original';
    if (mode === 'defects' && !state.severity) mode = 'original'; // until the payload is in
    if (mode === 'sensors' && !state.sensors) mode = 'original'; // until Python sends the bytes
    if (mode === 'status') elementStatus(state.fourd, state.day, state.status);
    const storeyName = model.storey;
    const counts = composeColors(state.texels, {
      count: table.count,
      mode,
      status: state.status,
      hideNotStarted: model.not_started === 'hidden',
      categories: categoriesFor(mode),
      custom: state.custom,
      severity: state.severity,
      sensors: state.sensors,
      storey: storeyName ? table.storeys.indexOf(storeyName) : -1,
      storeyMode: model.storey_mode,
      storeyIndex: table.storeyIndex,
      selected: state.selected,
      selectedCount: state.selectedCount,
      xray: model.xray,
    });
    scene.paint(state.texels, { ghosts: counts.ghost });
    if (metrics.recolourMs.length < 1000) metrics.recolourMs.push(performance.now() - t0);
    legend.show(mode, {
      labels: labels(),
      table,
      byStatus: counts.byStatus,
      bySeverity: counts.bySeverity,
      bySensor: counts.bySensor,
      note: mode === 'sensors' ? model.legend_note || '' : '',
    });
  }

  // ---- selection ------------------------------------------------------------------
  function select(rows, { frame = false } = {}) {
    if (!scene.table) return;
    state.selected.fill(0);
    for (const r of rows) state.selected[r] = 1;
    state.selectedCount = rows.length;
    repaint();
    if (frame && rows.length) frameSelection();
  }

  function frameSelection() {
    if (!state.selected || !state.selectedCount) return scene.fitModel();
    scene.frame(scene.boxOf(state.selected));
  }

  function selectGlobalId(globalId, { frame }) {
    const row = globalId ? scene.table.globalIds.indexOf(globalId) : -1;
    select(row >= 0 ? [row] : [], { frame });
  }

  function selectRows(rows) {
    if (!scene.table) return;
    select(rows.filter((r) => r >= 0 && r < scene.table.count), { frame: true });
  }

  viewport.addEventListener('pointerdown', (e) => {
    state.down = { x: e.clientX, y: e.clientY };
  });
  viewport.addEventListener('pointerup', (e) => {
    // A click, not the end of an orbit drag.
    if (!state.down || Math.hypot(e.clientX - state.down.x, e.clientY - state.down.y) > 4) return;
    const rect = scene.renderer.domElement.getBoundingClientRect();
    const hit = scene.pickPoint(e.clientX - rect.left, e.clientY - rect.top);
    select(hit ? [hit.row] : []);
    // Point and camera first, the element last: a watcher on either sees all three fresh.
    model.picked_point_m = hit ? roundPoint(glbToIfcPoint(hit.point.toArray(), scene.table.originM)) : [];
    syncCamera();
    model.selected_global_id = hit ? scene.table.globalIds[hit.row] : '';
  });

  // ---- camera ---------------------------------------------------------------------
  /** The current view as a BCF PerspectiveCamera dict (IFC world frame), or null. */
  function cameraDict() {
    return scene.table ? bcfCamera(scene.cameraView(), scene.table.originM) : null;
  }

  /** Send the camera now (if it changed); cancels a pending debounced send. */
  function syncCamera() {
    clearTimeout(state.cameraTimer);
    state.cameraTimer = null;
    if (state.modelLoading) return; // the load sends it when the model is in
    const camera = cameraDict();
    if (!camera || JSON.stringify(camera) === JSON.stringify(plain(model.camera))) return;
    model.camera = camera;
  }

  scene.onViewEnd = () => {
    clearTimeout(state.cameraTimer);
    state.cameraTimer = setTimeout(syncCamera, CAMERA_SETTLE_MS);
  };

  /** Move to `goto_camera` (once per change; malformed dicts are ignored silently). */
  function applyGoto() {
    state.gotoPending = false;
    const view = scene.table ? parseBcfCamera(plain(model.goto_camera), scene.table.originM) : null;
    if (!view) return;
    scene.setView(view);
    syncCamera();
  }

  // ---- timeline -------------------------------------------------------------------
  function setDay(day, { final }) {
    state.day = day;
    repaint();
    const now = performance.now();
    clearTimeout(state.syncTimer);
    const push = () => {
      state.lastSynced = performance.now();
      if (model.day !== state.day) model.day = state.day;
    };
    if (final || now - state.lastSynced >= DAY_SYNC_MS) push();
    else state.syncTimer = setTimeout(push, DAY_SYNC_MS);
  }

  // ---- loading --------------------------------------------------------------------
  // A newer load (another revision or schedule chosen meanwhile) aborts the older one, and
  // an older answer that still arrives is dropped: the view always shows the latest choice.
  let modelLoad = null;
  let fourdLoad = null;

  async function loadModel() {
    modelLoad?.abort();
    fourdLoad?.abort();
    state.modelLoading = false;
    if (!model.glb_url) return;
    const controller = (modelLoad = new AbortController());
    // The 4D payload downloads while the GLB does (it needs the model only to be applied).
    const fourdBytes = fetchFourD();
    fourdBytes.catch(() => {}); // awaited below; a failure is reported there
    el.dataset.state = 'loading';
    state.modelLoading = true; // defects, goto and camera wait for the model
    delete el.dataset.firstFrame;
    state.frameSeen = false;
    toolbar.status(labels().loading || '…');
    try {
      const { table, bytes } = await scene.load(model.glb_url, { signal: controller.signal });
      if (controller !== modelLoad) return;
      metrics.glbBytes = bytes;
      state.texels = new Uint8Array(4 * table.count);
      state.status = new Uint8Array(table.count);
      state.selected = new Uint8Array(table.count);
      state.selectedCount = 0;
      state.severity = null;
      state.sensorTops = new Map();
      pins.setOrigin(table.originM);
      sensorPins.setOrigin(table.originM);
      readCustomColors();
      readSensorConditions();
      model.storey_names = table.storeys.slice();
      model.element_count = table.count;
      model.load_error = '';
      toolbar.status('');
      el.dataset.state = 'loaded';
      scene.setSection(model.section_axis || null, model.section_position);
      await loadFourD(fourdBytes);
      if (controller !== modelLoad) return;
      if (model.selected_global_id) selectGlobalId(model.selected_global_id, { frame: true });
      else if (model.focus_rows.length) selectRows(model.focus_rows);
      state.modelLoading = false;
      placeSensorPins();
      applyDefects(); // repaints
      if (state.gotoPending) applyGoto();
      syncCamera(); // the first camera Python gets, once the model is in view
    } catch (err) {
      if (controller !== modelLoad) return; // superseded: not an error
      state.modelLoading = false;
      el.dataset.state = 'error';
      toolbar.status(`${labels().load_failed || 'error'}: ${err.message}`);
      model.load_error = String(err.message);
    }
  }

  /** Start downloading the 4D payload of `model.fourd_url`; resolves to its bytes or null. */
  function fetchFourD() {
    fourdLoad?.abort();
    if (!model.fourd_url) return Promise.resolve(null);
    const controller = (fourdLoad = new AbortController());
    const url = model.fourd_url;
    const bytes = fetch(url, { credentials: 'same-origin', signal: controller.signal }).then((response) => {
      if (!response.ok) throw new Error(`4D ${url}: HTTP ${response.status}`);
      return response.arrayBuffer();
    });
    bytes.controller = controller;
    return bytes;
  }

  async function loadFourD(pending = fetchFourD()) {
    state.fourd = null;
    timeline.hide();
    const table = scene.table;
    const buffer = await pending;
    if (!buffer || !table || pending.controller !== fourdLoad || table !== scene.table) return;
    const columns = decodeFourD(buffer);
    if (columns.elementCount !== scene.table.count) {
      throw new Error(`4D payload has ${columns.elementCount} elements, the model ${scene.table.count}`);
    }
    state.fourd = columns;
    const span = scheduleSpan(columns);
    if (span) {
      if (state.day === null || state.day === undefined) state.day = span.first;
      // A week either side, so the user sees the site before the first task and after the
      // last; and always the day being shown (a shared link may name any date).
      const first = Math.min(span.first - MARGIN_DAYS, state.day);
      const last = Math.max(span.last + MARGIN_DAYS, state.day);
      timeline.show({ first, last, day: state.day });
    }
  }

  // ---- defects ---------------------------------------------------------------------
  // Fetched by URL like the 4D payload; Python changes the URL (a version query) to make
  // us fetch again. A newer fetch aborts an older one and a stale answer is dropped.
  let defectsLoad = null;

  async function loadDefects() {
    defectsLoad?.abort();
    defectsLoad = null;
    const url = model.defects_url;
    if (!url) {
      state.defects = null;
      applyDefects();
      return;
    }
    const controller = (defectsLoad = new AbortController());
    try {
      const response = await fetch(url, { credentials: 'same-origin', signal: controller.signal });
      if (!response.ok) throw new Error(`defects ${url}: HTTP ${response.status}`);
      const buffer = await response.arrayBuffer();
      if (controller !== defectsLoad) return;
      state.defects = new Uint8Array(buffer);
    } catch (err) {
      if (controller !== defectsLoad) return; // aborted by a newer one: not an error
      state.defects = null;
      defectsFailed(String(err.message));
    }
    defectsLoad = null;
    applyDefects();
  }

  function defectsFailed(message) {
    state.defectsError = message;
    model.load_error = message;
  }

  /** Use the defects bytes if they fit the model shown (one byte per element row). */
  function applyDefects() {
    if (!scene.table || state.modelLoading) return; // the model load calls this when done
    const bytes = state.defects;
    const fits = bytes !== null && bytes.length === scene.table.count;
    state.severity = fits ? bytes : null;
    if (bytes !== null && !fits && !defectsLoad) {
      // Bytes made for another revision: wrong element order, never painted.
      defectsFailed(`defects payload has ${bytes.length} elements, the model ${scene.table.count}`);
    } else if (fits && state.defectsError && model.load_error === state.defectsError) {
      model.load_error = '';
      state.defectsError = '';
    }
    repaint();
  }

  // ---- params -> view -------------------------------------------------------------
  model.on('glb_url', () => loadModel());
  model.on('fourd_url', async () => {
    try {
      await loadFourD();
    } catch (err) {
      if (err.name !== 'AbortError') model.load_error = String(err.message);
    }
    repaint();
  });
  model.on('day', () => {
    if (model.day === state.day || model.day === null) return;
    state.day = model.day;
    timeline.setDay(state.day);
    repaint();
  });
  model.on(['color_mode', 'storey', 'storey_mode', 'xray', 'not_started'], () => repaint());
  // Custom colours count only if they fit this model exactly (an array made for another
  // revision has another element order); read again whenever a model loads.
  function readCustomColors() {
    const bytes = model.element_colors;
    const fits = bytes && scene.table && bytes.byteLength === 4 * scene.table.count;
    state.custom = fits ? new Uint8Array(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength) : null;
  }
  model.on('element_colors', () => {
    readCustomColors();
    repaint();
  });
  // Sensor conditions likewise: one byte per element row, used only if they fit this model.
  function readSensorConditions() {
    const bytes = model.sensor_conditions;
    const fits = bytes && scene.table && bytes.byteLength === scene.table.count;
    state.sensors = fits ? new Uint8Array(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength) : null;
  }
  model.on('sensor_conditions', () => {
    readSensorConditions();
    repaint();
  });
  model.on('legend_note', () => repaint());

  /** Sensor pins at the top centre of their elements (malformed or unknown rows skipped). */
  function placeSensorPins() {
    const table = scene.table;
    const wanted = Array.isArray(model.sensor_pins) ? model.sensor_pins.map(plain) : [];
    if (!table || state.modelLoading) {
      sensorPins.setPins([]);
      return;
    }
    const valid = (p) => p && Number.isInteger(p.row) && p.row >= 0 && p.row < table.count;
    const rows = [...new Set(wanted.filter(valid).map((p) => p.row))].filter((r) => !state.sensorTops.has(r));
    if (rows.length) {
      const tops = scene.topCentres(rows);
      for (const r of rows) state.sensorTops.set(r, tops.get(r) ?? null);
    }
    const placed = [];
    for (const p of wanted) {
      const top = valid(p) ? state.sensorTops.get(p.row) : null;
      if (!top) continue;
      placed.push({ ...p, point_m: glbToIfcPoint(top, table.originM) });
    }
    sensorPins.setPins(placed);
    updatePins();
  }
  model.on('sensor_pins', () => placeSensorPins());
  model.on('selected_point', () => sensorPins.setSelected(model.selected_point || 0));
  model.on('selected_global_id', () => {
    const current = state.selected ? state.selected.indexOf(1) : -1;
    const currentId = current >= 0 ? scene.table.globalIds[current] : '';
    if (scene.table && model.selected_global_id !== currentId) {
      selectGlobalId(model.selected_global_id, { frame: true });
    }
  });
  model.on('focus_rows', () => selectRows(model.focus_rows));
  model.on('defects_url', () => loadDefects());
  model.on('goto_camera', () => {
    if (isEmptyDict(model.goto_camera)) return;
    if (!scene.table || state.modelLoading) state.gotoPending = true;
    else applyGoto();
  });
  const pinsParam = () => (Array.isArray(model.pins) ? model.pins.map(plain) : []);
  model.on('pins', () => {
    pins.setPins(pinsParam());
    updatePins();
  });
  model.on('selected_issue', () => pins.setSelected(model.selected_issue || 0));
  model.on('url_query', () => showQuery());
  model.on(['section_axis', 'section_position'], () =>
    scene.setSection(model.section_axis || null, model.section_position),
  );
  model.on('labels', () => {
    toolbar.setLabels(labels());
    timeline.setLabels(labels());
    repaint();
  });
  // The address bar mirrors the page state in place: no history entry per change.
  function showQuery() {
    if (!model.url_query) return;
    window.history.replaceState(window.history.state, '', window.location.pathname + model.url_query);
  }

  model.on('remove', () => {
    modelLoad?.abort();
    fourdLoad?.abort();
    defectsLoad?.abort();
    clearTimeout(state.cameraTimer);
    pins.dispose();
    sensorPins.dispose();
    timeline.stop();
    scene.dispose();
  });

  // A handle for the page tests and the benchmark (read-only use; the UI never needs it).
  window.erjiViewer = {
    scene,
    metrics,
    state,
    repaint,
    isoDate,
    pins,
    sensorPins,
    /**
     * What a click at this canvas point (CSS px) would pick, without selecting it:
     * {row, globalId, point_m (IFC world frame), onSurface} or null over nothing.
     */
    pickPoint(x, y) {
      const hit = scene.pickPoint(x, y);
      if (!hit) return null;
      const point_m = roundPoint(glbToIfcPoint(hit.point.toArray(), scene.table.originM));
      return { row: hit.row, globalId: scene.table.globalIds[hit.row], point_m, onSurface: hit.onSurface };
    },
    /** The current camera as the `camera` param would carry it (IFC world frame), or null. */
    camera: () => cameraDict(),
    /** Canvas point (CSS px) of an issue's pin for the current camera, or null if not shown. */
    pinScreenPosition(id) {
      updatePins();
      return pins.screenPosition(id);
    },
    /** Canvas point (CSS px) of a monitor point's sensor pin, or null if not shown. */
    sensorPinScreenPosition(id) {
      updatePins();
      return sensorPins.screenPosition(id);
    },
    /** Canvas point (CSS px) of an IFC world point, or null when behind the camera. */
    screenPoint(pointM) {
      const p = vector3(pointM);
      if (!p || !scene.table) return null;
      return scene.toScreen(new Vector3(...ifcToGlbPoint(p, scene.table.originM)));
    },
    /** A canvas point (CSS px) where the element is visible (the pick agrees), or null. */
    visiblePoint(globalId) {
      const row = scene.table.globalIds.indexOf(globalId);
      if (row < 0) return null;
      const mask = new Uint8Array(scene.table.count);
      mask[row] = 1;
      return findVisible(scene, row, scene.boxOf(mask));
    },
  };

  toolbar.setLabels(labels());
  timeline.setLabels(labels());
  scene.setSection(model.section_axis || null, model.section_position);
  pins.setSelected(model.selected_issue || 0);
  pins.setPins(pinsParam());
  sensorPins.setSelected(model.selected_point || 0);
  showQuery();
  loadModel();
  loadDefects();
}

/** Try a 7×7×7 grid inside the element's box until the pick returns that element. */
function findVisible(scene, row, box) {
  const p = new Vector3();
  for (let i = 1; i < 8; i++) {
    for (let j = 1; j < 8; j++) {
      for (let k = 1; k < 8; k++) {
        p.set(
          box.min.x + ((box.max.x - box.min.x) * i) / 8,
          box.min.y + ((box.max.y - box.min.y) * j) / 8,
          box.min.z + ((box.max.z - box.min.z) * k) / 8,
        );
        const s = scene.toScreen(p);
        if (s && scene.pick(s.x, s.y) === row) return s;
      }
    }
  }
  return null;
}
