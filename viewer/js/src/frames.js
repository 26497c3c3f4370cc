// Coordinate frames: the GLB's (three.js world) and the IFC project's.
//
// The GLB is Y up, metres, relative to its `origin_m` (docs/architecture.md, "GLB layout"):
//   x_ifc = x + o0,  y_ifc = -z + o1,  z_ifc = y + o2.
// Everything that leaves the browser (picked points, cameras, pins) is in the IFC project
// world frame (Z up, metres), which is also BCF's frame: it stays valid across model
// revisions (each revision may have another origin) and maps 1:1 to BCF viewpoints.
// Directions convert without the origin: (dx, dy, dz) -> (dx, -dz, dy).
//
// Pure functions over plain arrays (no three.js, no DOM), so Node tests them as they run.

/** Decimal places kept in what is sent to Python: 0.1 mm for points, 1e-6 for unit vectors. */
const POINT_DIGITS = 4;
const UNIT_DIGITS = 6;

function round(value, digits) {
  const k = 10 ** digits;
  const r = Math.round(value * k) / k;
  return r === 0 ? 0 : r; // no "-0" in JSON
}

/** GLB point [x, y, z] -> IFC world point (metres), given the GLB's `origin_m`. */
export function glbToIfcPoint([x, y, z], originM) {
  return [x + originM[0], -z + originM[1], y + originM[2]];
}

/** IFC world point (metres) -> GLB point, given the GLB's `origin_m`. */
export function ifcToGlbPoint([x, y, z], originM) {
  return [x - originM[0], z - originM[2], -(y - originM[1])];
}

/** GLB direction -> IFC direction (no origin: directions do not move). */
export function glbToIfcDirection([dx, dy, dz]) {
  return [dx, -dz, dy];
}

/** IFC direction -> GLB direction. */
export function ifcToGlbDirection([dx, dy, dz]) {
  return [dx, dz, -dy];
}

/** [x, y, z] if `value` is an array of three finite numbers, else null. */
export function vector3(value) {
  if (!Array.isArray(value) || value.length !== 3) return null;
  if (!value.every((v) => typeof v === 'number' && Number.isFinite(v))) return null;
  return [value[0], value[1], value[2]];
}

function unit(v) {
  const length = Math.hypot(v[0], v[1], v[2]);
  return length > 1e-12 ? [v[0] / length, v[1] / length, v[2] / length] : null;
}

/** `up` made perpendicular to the unit `direction` and unit length, or null if (nearly) parallel. */
function perpendicularUp(up, direction) {
  const u = unit(up);
  if (!u) return null;
  const along = u[0] * direction[0] + u[1] * direction[1] + u[2] * direction[2];
  if (Math.abs(along) > 0.9999) return null;
  return unit([u[0] - along * direction[0], u[1] - along * direction[1], u[2] - along * direction[2]]);
}

/** Round an IFC point for sending (0.1 mm). */
export function roundPoint(p) {
  return p.map((v) => round(v, POINT_DIGITS));
}

/**
 * The BCF PerspectiveCamera of a view given in the GLB frame.
 * @param {{position: number[], direction: number[], up: number[], fovDeg: number, aspect: number}} view
 *   three.js camera: position (GLB), unit view direction and unit screen-up (GLB), vertical
 *   field of view in degrees, width / height
 * @param {number[]} originM the GLB's origin_m
 * @returns {{kind: 'perspective', position_m: number[], direction: number[], up: number[],
 *   field_of_view_deg: number, aspect_ratio: number}} IFC world frame, rounded for the wire
 */
export function bcfCamera({ position, direction, up, fovDeg, aspect }, originM) {
  return {
    kind: 'perspective',
    position_m: roundPoint(glbToIfcPoint(position, originM)),
    direction: glbToIfcDirection(unit(direction) ?? [0, 0, -1]).map((v) => round(v, UNIT_DIGITS)),
    up: glbToIfcDirection(unit(up) ?? [0, 1, 0]).map((v) => round(v, UNIT_DIGITS)),
    field_of_view_deg: round(fovDeg, 3),
    aspect_ratio: round(aspect, 4),
  };
}

/**
 * Read a camera dict (the shape `bcfCamera` writes, or a BCF orthogonal camera with
 * `view_to_world_scale`) into the GLB frame. Lenient about extra keys and a missing
 * `kind` (inferred from the keys); anything malformed gives null, never an exception.
 * @returns {null | {kind: 'perspective'|'orthogonal', position: number[], direction: number[],
 *   up: number[], fovDeg: number|null, viewHeightM: number|null}} position, unit direction
 *   and unit up (perpendicular to the direction) in the GLB frame; `fovDeg` null = keep the
 *   viewer's; `viewHeightM` (orthogonal only) = height of the view in metres
 */
export function parseBcfCamera(dict, originM) {
  if (!dict || typeof dict !== 'object' || Array.isArray(dict)) return null;
  let kind = dict.kind;
  if (kind === undefined) kind = 'view_to_world_scale' in dict ? 'orthogonal' : 'perspective';
  if (kind !== 'perspective' && kind !== 'orthogonal') return null;
  const position = vector3(dict.position_m);
  const directionIfc = vector3(dict.direction);
  const direction = directionIfc && unit(directionIfc);
  if (!position || !direction) return null;
  let fovDeg = null;
  let viewHeightM = null;
  if (kind === 'perspective') {
    const fov = dict.field_of_view_deg;
    if (fov !== undefined && fov !== null) {
      if (typeof fov !== 'number' || !Number.isFinite(fov) || fov <= 0 || fov >= 180) return null;
      fovDeg = Math.min(Math.max(fov, 1), 170);
    }
  } else {
    const scale = dict.view_to_world_scale;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) return null;
    viewHeightM = scale;
  }
  // Up: as given if usable; else the vertical (Z) seen from this direction; looking
  // straight up or down, north (IFC +Y).
  const given = vector3(dict.up);
  const up = (given && perpendicularUp(given, direction)) ??
    perpendicularUp([0, 0, 1], direction) ??
    perpendicularUp([0, 1, 0], direction);
  return {
    kind,
    position: ifcToGlbPoint(position, originM),
    direction: ifcToGlbDirection(direction),
    up: ifcToGlbDirection(up),
    fovDeg,
    viewHeightM,
  };
}
