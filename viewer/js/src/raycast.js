// Ray tests for the point a click picked: the GPU pick (scene.js) says *which* element is
// under the cursor; these say *where* on it, by intersecting the view ray with only that
// element's triangles.
//
// Pure functions over typed arrays (no three.js), so Node tests them as the browser runs
// them. They read the GLB's buffers as stored — quantised int16, interleaved — through an
// accessor {array, stride, offset} (stride and offset in elements of `array`); the caller
// maps the ray into that raw frame (node transform, instance matrix and normalisation folded
// into one affine matrix), which keeps the ray parameter t equal to the world distance.
// One click scans one attribute linearly: ~2.5 M triangles take a few milliseconds, with no
// allocation per triangle.

/**
 * A plain accessor over a three.js BufferAttribute or InterleavedBufferAttribute.
 * @returns {{array: ArrayLike<number>, stride: number, offset: number}}
 */
export function accessorOf(attribute) {
  if (attribute.isInterleavedBufferAttribute) {
    return { array: attribute.data.array, stride: attribute.data.stride, offset: attribute.offset };
  }
  return { array: attribute.array, stride: attribute.itemSize, offset: 0 };
}

/**
 * The smallest and largest value of a per-vertex (or per-instance) element accessor.
 * @returns {[number, number]} [min, max]; [Infinity, -Infinity] when empty
 */
export function valueRange({ array, stride, offset }, count) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0, p = offset; i < count; i++, p += stride) {
    const v = array[p];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Nearest intersection of a ray with the triangles of one element (both faces count: IFC
 * faces are not reliably wound).
 * @param {object} mesh
 * @param {{array, stride, offset}} mesh.positions vertex positions (3 components)
 * @param {ArrayLike<number>|null} mesh.index triangle list, or null for non-indexed
 * @param {number} mesh.vertexCount vertices (used when non-indexed)
 * @param {{array, stride, offset}|null} mesh.elements element value per vertex, or null
 *   when every triangle belongs to the element (an instance of an instanced shape)
 * @param {number} element the element value to keep (a triangle's first vertex decides)
 * @param {ArrayLike<number>} origin ray origin [x, y, z] in the positions' frame
 * @param {ArrayLike<number>} direction ray direction in the same frame (need not be unit)
 * @param {number} tMin smallest accepted ray parameter (e.g. the near plane)
 * @param {number} tMax largest accepted ray parameter (e.g. a section plane)
 * @returns {number} the ray parameter of the nearest hit in [tMin, tMax], or Infinity
 */
export function nearestElementHit(mesh, element, origin, direction, tMin = 0, tMax = Infinity) {
  const { positions, index, elements } = mesh;
  const P = positions.array;
  const ps = positions.stride;
  const po = positions.offset;
  const E = elements ? elements.array : null;
  const es = elements ? elements.stride : 0;
  const eo = elements ? elements.offset : 0;
  const triangles = index ? Math.floor(index.length / 3) : Math.floor(mesh.vertexCount / 3);
  const ox = origin[0];
  const oy = origin[1];
  const oz = origin[2];
  const dx = direction[0];
  const dy = direction[1];
  const dz = direction[2];
  let best = Infinity;
  for (let t = 0, k = 0; t < triangles; t++, k += 3) {
    const a = index ? index[k] : k;
    if (E !== null && E[a * es + eo] !== element) continue;
    const b = index ? index[k + 1] : k + 1;
    const c = index ? index[k + 2] : k + 2;
    // Möller–Trumbore, in scalars (no Vector3 per triangle).
    const pa = a * ps + po;
    const pb = b * ps + po;
    const pc = c * ps + po;
    const ax = P[pa];
    const ay = P[pa + 1];
    const az = P[pa + 2];
    const e1x = P[pb] - ax;
    const e1y = P[pb + 1] - ay;
    const e1z = P[pb + 2] - az;
    const e2x = P[pc] - ax;
    const e2y = P[pc + 1] - ay;
    const e2z = P[pc + 2] - az;
    const hx = dy * e2z - dz * e2y;
    const hy = dz * e2x - dx * e2z;
    const hz = dx * e2y - dy * e2x;
    const det = e1x * hx + e1y * hy + e1z * hz;
    if (det === 0) continue; // the ray runs in the triangle's plane
    const inv = 1 / det;
    const sx = ox - ax;
    const sy = oy - ay;
    const sz = oz - az;
    const u = (sx * hx + sy * hy + sz * hz) * inv;
    if (u < 0 || u > 1) continue;
    const qx = sy * e1z - sz * e1y;
    const qy = sz * e1x - sx * e1z;
    const qz = sx * e1y - sy * e1x;
    const v = (dx * qx + dy * qy + dz * qz) * inv;
    if (v < 0 || u + v > 1) continue;
    const hit = (e2x * qx + e2y * qy + e2z * qz) * inv;
    if (hit >= tMin && hit <= tMax && hit < best) best = hit;
  }
  return best;
}

/**
 * The ray parameters inside an axis-aligned box (slab test).
 * @returns {[number, number] | null} [tEnter, tExit] (tEnter < 0 when the origin is
 *   inside), or null when the line misses the box or the box is behind the origin
 */
export function rayBoxInterval(origin, direction, min, max) {
  let lo = -Infinity;
  let hi = Infinity;
  for (let k = 0; k < 3; k++) {
    if (direction[k] === 0) {
      if (origin[k] < min[k] || origin[k] > max[k]) return null;
      continue;
    }
    let t0 = (min[k] - origin[k]) / direction[k];
    let t1 = (max[k] - origin[k]) / direction[k];
    if (t0 > t1) [t0, t1] = [t1, t0];
    if (t0 > lo) lo = t0;
    if (t1 < hi) hi = t1;
    if (lo > hi) return null;
  }
  return hi < 0 ? null : [lo, hi];
}

/**
 * Narrow [tMin, tMax] to the part of the ray a clipping plane keeps. Planes follow
 * three.js: the kept side is where normal · p + constant ≥ 0.
 * @returns {[number, number]} the narrowed interval (empty when tMin > tMax)
 */
export function clipInterval(origin, direction, normal, constant, tMin, tMax) {
  const at = normal[0] * origin[0] + normal[1] * origin[1] + normal[2] * origin[2] + constant;
  const rate = normal[0] * direction[0] + normal[1] * direction[1] + normal[2] * direction[2];
  if (rate === 0) return at >= 0 ? [tMin, tMax] : [1, 0];
  const t = -at / rate;
  return rate > 0 ? [Math.max(tMin, t), tMax] : [tMin, Math.min(tMax, t)];
}
