// Per-element colours: what the GPU reads to paint every element in one draw call.
//
// The scene keeps one RGBA8 texel per element (row = the element's index in the GLB's
// element table). RGB is an sRGB colour; the alpha byte is a *code*, not an opacity:
//   SOLID (255)    drawn opaque in the texel's colour;
//   ORIGINAL (254) drawn opaque in the element's own IFC colour (the GLB's COLOR_0);
//   GHOST (64)     drawn as a faint transparent shell (x-ray, "not started yet", isolate);
//   HIDDEN (0)     not drawn, not pickable.
// Everything here is pure array work (no three.js, no DOM), so Node runs it in the
// benchmarks and tests exactly as the browser does.

import { STATUS } from './status.js';

export const CODE = Object.freeze({ SOLID: 255, ORIGINAL: 254, GHOST: 64, HIDDEN: 0 });

/** Status colours (sRGB bytes), indexed by STATUS code. NOT_STARTED is drawn as a ghost or hidden. */
export const STATUS_RGB = Object.freeze([
  [190, 190, 190], // NO_TASK: in no task of this schedule
  [170, 170, 170], // NOT_STARTED (ghosted or hidden)
  [245, 166, 35], //  IN_PROGRESS: amber
  [46, 160, 67], //   DONE: green
  [214, 39, 40], //   LATE: red
  [31, 119, 180], //  AHEAD: blue
]);

export const SELECTED_RGB = Object.freeze([0, 210, 255]);

/**
 * Defect colours (sRGB bytes), indexed by severity byte: the worst live issue on the
 * element (0 none, 1 minor, 2 major, 3 critical; the server's `defects` payload).
 * Elements without an issue stay a neutral light grey so the coloured ones stand out.
 */
export const SEVERITY_RGB = Object.freeze([
  [200, 203, 207], // NONE: neutral light grey
  [251, 192, 45], //  MINOR: yellow
  [245, 124, 0], //   MAJOR: orange
  [211, 47, 47], //   CRITICAL: red
]);
export const SEVERITY_KEYS = Object.freeze(['none', 'minor', 'major', 'critical']);

/**
 * Sensor colours (sRGB bytes), indexed by the sensors byte of an element: 0 = no monitor
 * point on it, then the server's conditions in rank order (viewer/pages/sensors.py
 * SENSOR_CODES): no data, OK green, offline grey, warning yellow, alarm orange, control
 * dark red. Unwatched elements are the neutral grey of the defects mode.
 */
export const SENSOR_RGB = Object.freeze([
  [200, 203, 207], // NONE: no monitor point
  [144, 164, 174], // NO_DATA: blue-grey
  [46, 160, 67], //   OK: green
  [97, 97, 97], //    OFFLINE: dark grey
  [251, 192, 45], //  WARN (预警): yellow
  [239, 108, 0], //   ALARM (报警): orange
  [183, 28, 28], //   CONTROL (控制): dark red
]);
export const SENSOR_KEYS = Object.freeze(['none', 'no_data', 'ok', 'offline', 'warn', 'alarm', 'control']);

/** Colour modes the viewer knows; "custom" paints a caller's per-element RGBA array. */
export const MODES = Object.freeze(['status', 'class', 'storey', 'original', 'custom', 'defects', 'sensors']);

/**
 * A categorical colour for category i (IFC classes, storeys): hues spread by the golden
 * angle so neighbouring categories differ, fixed saturation and lightness so all read well
 * on the light background. Deterministic: the same category gets the same colour on every
 * machine and in every session.
 * @returns {number[]} [r, g, b] bytes
 */
export function categoryColor(i) {
  const h = (i * 137.508) % 360;
  const s = 0.62;
  const l = 0.55;
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(255 * f(0)), Math.round(255 * f(8)), Math.round(255 * f(4))];
}

// Texel tables built once (composeColors runs on every animation frame while playing).
const CATEGORY_TEXELS = new Uint8Array(4 * 256);
for (let c = 0; c < 256; c++) CATEGORY_TEXELS.set([...categoryColor(c), CODE.SOLID], 4 * c);
const STATUS_TEXELS = new Uint8Array(4 * STATUS_RGB.length);
STATUS_RGB.forEach((rgb, s) => STATUS_TEXELS.set([...rgb, CODE.SOLID], 4 * s));
const SEVERITY_TEXELS = new Uint8Array(4 * SEVERITY_RGB.length);
SEVERITY_RGB.forEach((rgb, s) => SEVERITY_TEXELS.set([...rgb, CODE.SOLID], 4 * s));
const WORST = SEVERITY_RGB.length - 1;
const SENSOR_TEXELS = new Uint8Array(4 * SENSOR_RGB.length);
SENSOR_RGB.forEach((rgb, s) => SENSOR_TEXELS.set([...rgb, CODE.SOLID], 4 * s));
const SENSOR_WORST = SENSOR_RGB.length - 1;

/**
 * Write every element's texel into `out` (Uint8Array of 4 × count bytes).
 *
 * Layers, each overriding the one before:
 *   1. the mode's colour: status (needs `status`, one STATUS code per element; NOT_STARTED
 *      becomes GHOST, or HIDDEN when `hideNotStarted`), class / storey (need `categories`,
 *      one category index per element, -1 = none), original (the IFC colour), custom
 *      (`custom`, RGBA bytes per element: its alpha byte is the code), defects (`severity`,
 *      one byte per element), sensors (`sensors`, one SENSOR_KEYS code per element);
 *   2. the storey filter (`storey` ≥ 0): elements of other storeys (by `storeyIndex`) are
 *      HIDDEN in "only" mode, GHOST in "isolate" mode;
 *   3. the selection (`selected`, a Uint8Array mask, 1 = selected): drawn SOLID in the
 *      selection colour, even when a filter hid it; with `xray`, every other visible
 *      element becomes GHOST.
 *      `selectedCount` (optional) = how many are selected: 0 skips the selection layer.
 * @returns {{solid: number, ghost: number, hidden: number, byStatus: number[] | null,
 *   bySeverity: number[] | null, bySensor: number[] | null}} how many elements of each kind;
 *   in status mode how many per STATUS code, in defects mode how many per severity 0..3, in
 *   sensors mode how many per sensors code 0..6 (the legend's counts)
 */
export function composeColors(out, opts) {
  const {
    count,
    mode = 'original',
    status = null,
    hideNotStarted = false,
    categories = null,
    custom = null,
    severity = null,
    sensors = null,
    storey = -1,
    storeyMode = 'only',
    storeyIndex = null,
    selected = null,
    xray = false,
  } = opts;
  if (out.length < 4 * count) throw new Error(`composeColors: out holds ${out.length / 4} of ${count} elements`);
  const needs = { status, class: categories, storey: categories, custom, defects: severity, sensors };
  if (mode in needs && needs[mode] === null) throw new Error(`composeColors: mode "${mode}" needs its array`);
  if (!MODES.includes(mode)) throw new Error(`composeColors: unknown mode "${mode}"`);
  const palette = CATEGORY_TEXELS;
  const statusTexels = STATUS_TEXELS;
  statusTexels[4 * STATUS.NOT_STARTED + 3] = hideNotStarted ? CODE.HIDDEN : CODE.GHOST;
  const filterCode = storeyMode === 'isolate' ? CODE.GHOST : CODE.HIDDEN;
  const filtering = storey >= 0 && storeyIndex !== null;
  // The caller says whether anything is selected (a scan of 100k bytes per repaint is ~1 ms).
  const anySelected = selected !== null && opts.selectedCount !== 0;
  const byStatus = mode === 'status' ? new Array(STATUS_RGB.length).fill(0) : null;
  const bySeverity = mode === 'defects' ? new Array(SEVERITY_RGB.length).fill(0) : null;
  const bySensor = mode === 'sensors' ? new Array(SENSOR_RGB.length).fill(0) : null;
  let solid = 0;
  let ghost = 0;
  let hidden = 0;
  for (let i = 0, o = 0; i < count; i++, o += 4) {
    let r = 0;
    let g = 0;
    let b = 0;
    let a = CODE.ORIGINAL;
    if (mode === 'status') {
      byStatus[status[i]]++;
      const p = 4 * status[i];
      r = statusTexels[p];
      g = statusTexels[p + 1];
      b = statusTexels[p + 2];
      a = statusTexels[p + 3];
    } else if (mode === 'class' || mode === 'storey') {
      const c = categories[i];
      if (c >= 0) {
        const p = 4 * (c & 255);
        r = palette[p];
        g = palette[p + 1];
        b = palette[p + 2];
        a = CODE.SOLID;
      } else {
        r = g = b = 200;
        a = CODE.SOLID;
      }
    } else if (mode === 'custom') {
      r = custom[o];
      g = custom[o + 1];
      b = custom[o + 2];
      a = custom[o + 3];
    } else if (mode === 'defects') {
      const s = severity[i] > WORST ? WORST : severity[i];
      bySeverity[s]++;
      const p = 4 * s;
      r = SEVERITY_TEXELS[p];
      g = SEVERITY_TEXELS[p + 1];
      b = SEVERITY_TEXELS[p + 2];
      a = CODE.SOLID;
    } else if (mode === 'sensors') {
      const s = sensors[i] > SENSOR_WORST ? SENSOR_WORST : sensors[i];
      bySensor[s]++;
      const p = 4 * s;
      r = SENSOR_TEXELS[p];
      g = SENSOR_TEXELS[p + 1];
      b = SENSOR_TEXELS[p + 2];
      a = CODE.SOLID;
    }
    if (filtering && storeyIndex[i] !== storey && a !== CODE.HIDDEN) a = filterCode;
    if (anySelected) {
      if (selected[i]) {
        [r, g, b] = SELECTED_RGB;
        a = CODE.SOLID;
      } else if (xray && a !== CODE.HIDDEN) {
        a = CODE.GHOST;
      }
    }
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
    out[o + 3] = a;
    if (a === CODE.HIDDEN) hidden++;
    else if (a === CODE.GHOST) ghost++;
    else solid++;
  }
  return { solid, ghost, hidden, byStatus, bySeverity, bySensor };
}

/** The first and last day any element's dates mention (planned, baseline, actual), or null. */
export function scheduleSpan(columns) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const name of ['plannedStart', 'plannedFinish', 'baselineFinish', 'actualStart', 'actualFinish']) {
    const col = columns[name];
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (v < lo) lo = v; // NaN compares false: no date, no effect
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? { first: lo, last: hi } : null;
}
