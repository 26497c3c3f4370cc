// Cases for test_geometry_js.py: frames, the ray–triangle scan and the pin projection under
// Node, checked against three.js itself where three has an answer; prints JSON.
// (three by path: a bare 'three' resolves from viewer/js only, not from this folder.)
import * as THREE from '../../../viewer/js/node_modules/three/build/three.module.js';
import {
  bcfCamera, glbToIfcDirection, glbToIfcPoint, ifcToGlbDirection, ifcToGlbPoint, parseBcfCamera,
} from '../../../viewer/js/src/frames.js';
import {
  accessorOf, clipInterval, nearestElementHit, rayBoxInterval, valueRange,
} from '../../../viewer/js/src/raycast.js';
import { projectPoints, readPins } from '../../../viewer/js/src/pins.js';

const result = {};
const origin = [500123.25, 3456789.5, 12.75]; // map-scale, as a georeferenced model has
const maxDiff = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

// ---- frames ------------------------------------------------------------------------
result.frames = {
  point: glbToIfcPoint([1, 2, 3], origin),
  pointBack: ifcToGlbPoint(glbToIfcPoint([1, 2, 3], origin), origin),
  up: glbToIfcDirection([0, 1, 0]), // GLB Y up is IFC Z up
  north: ifcToGlbDirection([0, 1, 0]), // IFC +Y is GLB -Z
  east: glbToIfcDirection([1, 0, 0]),
  directionBack: ifcToGlbDirection(glbToIfcDirection([0.3, -0.4, 0.5])),
};

// ---- camera: three.js camera -> BCF dict -> parsed -> three.js camera ------------------
const camera = new THREE.PerspectiveCamera(50, 1.6, 0.1, 1000);
camera.position.set(-30, 25, 40);
camera.lookAt(5, 2, -3);
camera.updateMatrixWorld();
const view = {
  position: camera.position.toArray(),
  direction: camera.getWorldDirection(new THREE.Vector3()).toArray(),
  up: new THREE.Vector3(0, 1, 0).applyQuaternion(camera.quaternion).toArray(),
  fovDeg: camera.fov,
  aspect: camera.aspect,
};
const dict = bcfCamera(view, origin);
const parsed = parseBcfCamera(JSON.parse(JSON.stringify(dict)), origin);
const again = new THREE.PerspectiveCamera(parsed.fovDeg, 1.6, 0.1, 1000);
again.position.set(...parsed.position);
again.up.set(...parsed.up);
again.lookAt(new THREE.Vector3(...parsed.position).add(new THREE.Vector3(...parsed.direction)));
again.updateMatrixWorld();
const expectedDirection = new THREE.Vector3(5, 2, -3).sub(camera.position).normalize().toArray();
result.camera = {
  dict,
  // In IFC: position is the GLB point moved by the origin; the direction is (dx, -dz, dy).
  positionError: maxDiff(dict.position_m, [-30 + origin[0], -40 + origin[1], 25 + origin[2]]),
  directionError: maxDiff(dict.direction, [expectedDirection[0], -expectedDirection[2], expectedDirection[1]]),
  upLength: Math.hypot(...dict.up),
  upDotDirection: dict.up.reduce((s, v, i) => s + v * dict.direction[i], 0),
  roundTrip: {
    position: maxDiff(parsed.position, view.position),
    direction: maxDiff(parsed.direction, view.direction),
    up: maxDiff(parsed.up, view.up),
    matrix: maxDiff(again.matrixWorld.elements, camera.matrixWorld.elements),
    fov: parsed.fovDeg,
  },
};
// Orthogonal, up left out (a plan view looking down: up becomes north), extra keys ignored.
result.orthogonal = parseBcfCamera(
  { kind: 'orthogonal', position_m: [origin[0], origin[1], origin[2] + 50], direction: [0, 0, -2],
    view_to_world_scale: 30, aspect_ratio: 1.5, seq: 7 },
  origin,
);
result.inferredKind = parseBcfCamera({ position_m: [0, 0, 0], direction: [1, 0, 0], view_to_world_scale: 2 }, origin)?.kind;
result.parallelUp = parseBcfCamera({ kind: 'perspective', position_m: [0, 0, 0], direction: [1, 0, 0], up: [3, 0, 0] }, origin);
// A long, tilted up (not unit, not perpendicular): made unit and perpendicular, not dropped.
result.longUp = parseBcfCamera({ position_m: [0, 0, 0], direction: [1, 0, -1], up: [0, 0, 5] }, origin);
result.malformed = [
  null, [], 'camera', {}, { kind: 'fisheye', position_m: [0, 0, 0], direction: [1, 0, 0] },
  { position_m: [0, 0], direction: [1, 0, 0] }, { position_m: [0, 0, 'x'], direction: [1, 0, 0] },
  { position_m: [0, 0, 0], direction: [0, 0, 0] }, { position_m: [0, 0, NaN], direction: [1, 0, 0] },
  { kind: 'perspective', position_m: [0, 0, 0], direction: [1, 0, 0], field_of_view_deg: 0 },
  { kind: 'perspective', position_m: [0, 0, 0], direction: [1, 0, 0], field_of_view_deg: '60' },
  { kind: 'orthogonal', position_m: [0, 0, 0], direction: [1, 0, 0] },
  { kind: 'orthogonal', position_m: [0, 0, 0], direction: [1, 0, 0], view_to_world_scale: -1 },
].map((d) => parseBcfCamera(d, origin));

// ---- ray–triangle scan ---------------------------------------------------------------
// A random soup of triangles in ten elements; for each ray and element, the scan must find
// what three's own raycaster finds on a mesh of only that element's triangles.
let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const triangleCount = 3000;
const positions = new Float32Array(9 * triangleCount);
const elementOf = new Uint16Array(3 * triangleCount);
for (let t = 0; t < triangleCount; t++) {
  const c = [random() * 20 - 10, random() * 20 - 10, random() * 20 - 10];
  for (let v = 0; v < 3; v++) for (let k = 0; k < 3; k++) positions[9 * t + 3 * v + k] = c[k] + random() * 3 - 1.5;
  elementOf.fill(t % 10, 3 * t, 3 * t + 3);
}
const index = new Uint32Array(3 * triangleCount).map((_, i) => i);
const soup = { positions: { array: positions, stride: 3, offset: 0 }, index, vertexCount: 3 * triangleCount,
  elements: { array: elementOf, stride: 1, offset: 0 } };
const perElement = Array.from({ length: 10 }, (_, e) => {
  const g = new THREE.BufferGeometry();
  const keep = [];
  for (let t = 0; t < triangleCount; t++) if (t % 10 === e) keep.push(...positions.subarray(9 * t, 9 * t + 9));
  g.setAttribute('position', new THREE.Float32BufferAttribute(keep, 3));
  return new THREE.Mesh(g, new THREE.MeshBasicMaterial({ side: THREE.DoubleSide }));
});
const raycaster = new THREE.Raycaster();
let compared = 0;
let hits = 0;
let worst = 0;
let disagreements = 0;
for (let r = 0; r < 60; r++) {
  const o = new THREE.Vector3(random() * 60 - 30, random() * 60 - 30, random() * 60 - 30);
  const aim = new THREE.Vector3(random() * 16 - 8, random() * 16 - 8, random() * 16 - 8); // into the soup
  const d = aim.sub(o).normalize();
  raycaster.set(o, d);
  for (let e = 0; e < 10; e++) {
    const three = raycaster.intersectObject(perElement[e])[0]?.distance ?? Infinity;
    const ours = nearestElementHit(soup, e, o.toArray(), d.toArray());
    compared++;
    if (Number.isFinite(three) !== Number.isFinite(ours)) disagreements++;
    else if (Number.isFinite(ours)) {
      hits++;
      worst = Math.max(worst, Math.abs(three - ours));
    }
  }
}
result.scan = { compared, hits, worst, disagreements };

// Interleaved int16 positions with the element in the 4th slot (the GLB's meshopt layout),
// scaled by a node matrix: the caller maps the ray into the raw frame, t stays in metres.
const buffer = new ArrayBuffer(8 * 8);
const raw = new Int16Array(buffer);
const rawElement = new Uint16Array(buffer);
// Two unit squares (×1000 raw units = 1 m): element 4 at z = 2 m, element 7 at z = 1 m (nearer).
const quad = [[0, 0], [1000, 0], [1000, 1000], [0, 1000]];
quad.forEach(([x, y], i) => raw.set([x, y, 2000], 4 * i));
quad.forEach(([x, y], i) => raw.set([x, y, 1000], 4 * (i + 4)));
for (let i = 0; i < 8; i++) rawElement[4 * i + 3] = i < 4 ? 4 : 7;
const interleaved = {
  positions: accessorOf(new THREE.InterleavedBufferAttribute(new THREE.InterleavedBuffer(raw, 4), 3, 0)),
  index: Uint16Array.from([0, 1, 2, 0, 2, 3, 4, 5, 6, 4, 6, 7]),
  vertexCount: 8,
  elements: accessorOf(new THREE.InterleavedBufferAttribute(new THREE.InterleavedBuffer(rawElement, 4), 1, 3)),
};
const toRaw = 1000; // raw = metres × 1000: the ray's origin and direction scale alike
const rayO = [0.5 * toRaw, 0.5 * toRaw, 10 * toRaw];
const rayD = [0, 0, -1 * toRaw];
result.interleaved = {
  far: nearestElementHit(interleaved, 4, rayO, rayD), // behind element 7, still found: 8 m
  near: nearestElementHit(interleaved, 7, rayO, rayD), // 9 m
  clipped: nearestElementHit(interleaved, 4, rayO, rayD, 0, 7.5), // beyond tMax: none
  fromBelow: nearestElementHit(interleaved, 4, [500, 500, -1000], [0, 0, 1000]), // back face counts
  miss: nearestElementHit(interleaved, 4, [1500, 500, 10000], [0, 0, -1000]),
  other: nearestElementHit(interleaved, 5, rayO, rayD),
  ranges: valueRange(interleaved.elements, 8),
  nonIndexed: nearestElementHit(
    { positions: { array: Float32Array.from([0, 0, 3, 1, 0, 3, 0, 1, 3]), stride: 3, offset: 0 }, index: null,
      vertexCount: 3, elements: null }, 0, [0.2, 0.2, 0], [0, 0, 1]),
};
result.box = {
  outside: rayBoxInterval([-5, 0.5, 0.5], [1, 0, 0], [0, 0, 0], [1, 1, 1]),
  inside: rayBoxInterval([0.5, 0.5, 0.5], [1, 0, 0], [0, 0, 0], [1, 1, 1]),
  behind: rayBoxInterval([5, 0.5, 0.5], [1, 0, 0], [0, 0, 0], [1, 1, 1]),
  miss: rayBoxInterval([-5, 2, 0.5], [1, 0, 0], [0, 0, 0], [1, 1, 1]),
};
// A section keeping y ≤ 3 (normal -Y, constant 3, as scene.setSection builds it).
result.clip = {
  down: clipInterval([0, 10, 0], [0, -1, 0], [0, -1, 0], 3, 0, Infinity), // kept from t = 7 on
  up: clipInterval([0, 0, 0], [0, 1, 0], [0, -1, 0], 3, 0, Infinity), // kept until t = 3
  parallelOut: clipInterval([0, 5, 0], [1, 0, 0], [0, -1, 0], 3, 0, Infinity),
  parallelIn: clipInterval([0, 1, 0], [1, 0, 0], [0, -1, 0], 3, 0, Infinity),
};

// The linear scan at the size of a big model: 2.5 M triangles, one click, the element's
// triangles at the end (the worst case for an early exit we do not have anyway).
{
  const n = 2_500_000;
  const big = new Float32Array(9 * 1000);
  big.set(positions.subarray(0, 9 * 1000));
  const bigIndex = new Uint32Array(3 * n);
  for (let i = 0; i < 3 * n; i++) bigIndex[i] = i % 3000;
  const bigElements = new Uint16Array(3000).fill(1);
  const mesh = { positions: { array: big, stride: 3, offset: 0 }, index: bigIndex, vertexCount: 3000,
    elements: { array: bigElements, stride: 1, offset: 0 } };
  nearestElementHit(mesh, 2, [0, 0, 0], [0, 0, 1]); // warm-up
  const t0 = performance.now();
  nearestElementHit(mesh, 2, [0, 0, 0], [0, 0, 1]);
  result.bigScanMs = performance.now() - t0;
}

// ---- pins ----------------------------------------------------------------------------
{
  const cam = new THREE.PerspectiveCamera(45, 390 / 600, 0.1, 500);
  cam.position.set(10, 8, 12);
  cam.lookAt(0, 0, 0);
  cam.updateMatrixWorld();
  const vp = new THREE.Matrix4().multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse);
  const pts = [[0, 0, 0], [2, 1, -3], [20, 16, 24], [300, 0, 0]]; // 20,16,24: behind the camera
  const out = new Float64Array(2 * pts.length);
  const visible = projectPoints(vp.elements, Float64Array.from(pts.flat()), 390, 600, out, new Uint8Array(pts.length));
  const three = pts.map(([x, y, z]) => {
    const p = new THREE.Vector3(x, y, z).project(cam);
    return [((p.x + 1) / 2) * 390, ((1 - p.y) / 2) * 600];
  });
  result.pins = {
    visible: Array.from(visible),
    error: Math.max(...[0, 1].map((i) => maxDiff(three[i], [out[2 * i], out[2 * i + 1]]))),
    centre: [out[0], out[1]],
  };
}
result.readPins = readPins([
  { id: 1, number: 3, point_m: [1, 2, 3], severity: 'critical', status: 'open', title: 'crack' },
  { id: 2, point_m: [1, 2, 3], severity: 'sparkly' },
  { id: 'x', number: 1, point_m: [0, 0, 0] },
  { id: 3, number: 1, point_m: [0, 0] },
  null,
  { id: 4, number: 5, point_m: [0, 0, 0], severity: 'none', status: 7, title: null },
]);
result.readPinsNotAList = readPins({ id: 1 });

console.log(JSON.stringify(result));
