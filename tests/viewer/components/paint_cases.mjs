// Cases for test_paint_js.py: run composeColors and friends, print the results as JSON.
import {
  composeColors, CODE, STATUS_RGB, SELECTED_RGB, SEVERITY_RGB, SENSOR_KEYS, SENSOR_RGB, categoryColor, scheduleSpan,
} from '../../../viewer/js/src/paint.js';
const n = 6, out = new Uint8Array(4 * n), result = {};
const status = Uint8Array.from([0, 1, 2, 3, 4, 5]);
const storeyIndex = Int32Array.from([0, 0, 1, 1, 2, -1]);
const texel = (i) => Array.from(out.subarray(4 * i, 4 * i + 4));
const all = () => Array.from({ length: n }, (_, i) => texel(i));
result.status = { counts: composeColors(out, { count: n, mode: 'status', status }), texels: all() };
result.hidden = { counts: composeColors(out, { count: n, mode: 'status', status, hideNotStarted: true }), texels: all() };
result.only = { counts: composeColors(out, { count: n, mode: 'status', status, storey: 1, storeyIndex }), texels: all() };
result.isolate = { counts: composeColors(out, { count: n, mode: 'status', status, storey: 1, storeyMode: 'isolate', storeyIndex }), texels: all() };
const selected = Uint8Array.from([0, 0, 0, 1, 0, 0]);
result.xray = { counts: composeColors(out, { count: n, mode: 'class', categories: storeyIndex, selected, xray: true }), texels: all() };
result.unselected = {
  counts: composeColors(out, { count: n, mode: 'class', categories: storeyIndex, selected, selectedCount: 0, xray: true }),
};
result.original = { counts: composeColors(out, { count: n, mode: 'original' }), texels: all() };
const custom = new Uint8Array(4 * n).fill(9); custom[3] = CODE.HIDDEN;
result.custom = { counts: composeColors(out, { count: n, mode: 'custom', custom }), texels: all() };
try { composeColors(out, { count: n, mode: 'status' }); result.missing = 'no error'; } catch (e) { result.missing = e.message; }
try { composeColors(out, { count: n, mode: 'sparkle', status }); result.unknown = 'no error'; } catch (e) { result.unknown = e.message; }
result.categoryColors = [0, 1, 2].map(categoryColor);
result.span = scheduleSpan({ plannedStart: Float64Array.from([NaN, 10]), plannedFinish: Float64Array.from([20, NaN]),
  baselineFinish: Float64Array.from([25, NaN]), actualStart: Float64Array.from([8, NaN]), actualFinish: Float64Array.from([NaN, NaN]) });
// Defects: one severity byte per element (0 none … 3 critical; above 3 counts as critical).
const severity = Uint8Array.from([0, 1, 2, 3, 3, 9]);
result.defects = { counts: composeColors(out, { count: n, mode: 'defects', severity }), texels: all() };
result.defectsOnly = {
  counts: composeColors(out, { count: n, mode: 'defects', severity, storey: 1, storeyIndex }), texels: all(),
};
result.defectsIsolateSelected = {
  counts: composeColors(out, {
    count: n, mode: 'defects', severity, storey: 1, storeyMode: 'isolate', storeyIndex, selected, selectedCount: 1,
  }),
  texels: all(),
};
result.defectsXray = {
  counts: composeColors(out, { count: n, mode: 'defects', severity, selected, selectedCount: 1, xray: true }),
  texels: all(),
};
try { composeColors(out, { count: n, mode: 'defects' }); result.defectsMissing = 'no error'; } catch (e) { result.defectsMissing = e.message; }
result.severityRgb = SEVERITY_RGB;
// Sensors: one condition code per element (0 none … 6 control; above 6 counts as control).
const sensors = Uint8Array.from([0, 2, 4, 5, 6, 9]);
result.sensors = { counts: composeColors(out, { count: n, mode: 'sensors', sensors }), texels: all() };
result.sensorsIsolateSelected = {
  counts: composeColors(out, {
    count: n, mode: 'sensors', sensors, storey: 1, storeyMode: 'isolate', storeyIndex, selected, selectedCount: 1,
  }),
  texels: all(),
};
try { composeColors(out, { count: n, mode: 'sensors' }); result.sensorsMissing = 'no error'; } catch (e) { result.sensorsMissing = e.message; }
result.sensorRgb = SENSOR_RGB; result.sensorKeys = SENSOR_KEYS;
result.codes = CODE; result.statusRgb = STATUS_RGB; result.selectedRgb = SELECTED_RGB;
console.log(JSON.stringify(result));
