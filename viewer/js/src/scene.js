// The three.js side of the viewer: load a GLB of ours, paint elements from a per-element
// texture, pick elements on the GPU, section, frame. No Panel here (viewer.js wires this to
// the component's params), so the benchmark page drives the same class.
//
// GLB contract (docs/architecture.md, "GLB layout"): Y up, metres; element table in
// scene extras `erji_twin`; merged meshes carry `_ELEMENT` per vertex (index within the
// node, plus the node's `extras.element_offset`), instanced meshes carry it per instance.
//
// Painting: each mesh gets a Lambert material whose vertex shader fetches its element's
// texel (paint.js explains the codes) — one texture upload recolours every element, one
// draw call per mesh. Ghosts need blending and no depth writes, so they are drawn by a
// second mesh over the same geometry with a transparent material that keeps only GHOST
// elements; it is only in the scene while there are ghosts.
//
// Points and cameras here are in the GLB frame (three.js world); viewer.js converts what
// crosses to Python into the IFC world frame (frames.js).

import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/examples/jsm/libs/meshopt_decoder.module.js';

import { accessorOf, clipInterval, nearestElementHit, rayBoxInterval, valueRange } from './raycast.js';

const TEXTURE_WIDTH = 2048; // texels per row: 100k elements fit in 49 rows
const BACKGROUND = 0xeef1f5;
const GHOST_RGB = 0x8a9099;
const GHOST_OPACITY = 0.12;
const DEFAULT_FOV_DEG = 45;

/** Scale that turns a normalised integer attribute's stored value into its value. */
function normalisation(attribute) {
  if (!attribute.normalized) return 1;
  const array = attribute.isInterleavedBufferAttribute ? attribute.data.array : attribute.array;
  if (array instanceof Int8Array) return 1 / 127;
  if (array instanceof Uint8Array) return 1 / 255;
  if (array instanceof Int16Array) return 1 / 32767;
  if (array instanceof Uint16Array) return 1 / 65535;
  return 1;
}

// Shader pieces shared by the solid and ghost materials. `_element` is a float attribute
// (uint16 per vertex, float32 per instance in the file); rows are exact up to 2^24.
const VERTEX_PARS = /* glsl */ `
attribute float _element;
uniform highp sampler2D uElementTexels;
uniform int uElementOffset;
flat varying vec4 vElementTexel;
flat varying float vElementRow;
`;
const VERTEX_MAIN = /* glsl */ `
{
  int row = int(_element + 0.5) + uElementOffset;
  vElementRow = float(row);
  vElementTexel = texelFetch(uElementTexels, ivec2(row % ${TEXTURE_WIDTH}, row / ${TEXTURE_WIDTH}), 0);
}
`;
const FRAGMENT_PARS = /* glsl */ `
flat varying vec4 vElementTexel;
flat varying float vElementRow;
uniform float uPick;
int elementCode() { return int(vElementTexel.a * 255.0 + 0.5); }
`;

/** Bind the shared element texture and this mesh's row offset, and add the lookup. */
function patchShader(shader, shared, offset) {
  shader.uniforms.uElementTexels = shared.uniforms.uElementTexels;
  shader.uniforms.uPick = shared.uniforms.uPick;
  shader.uniforms.uElementOffset = { value: offset };
  shader.vertexShader = shader.vertexShader
    .replace('#include <common>', `#include <common>\n${VERTEX_PARS}`)
    .replace('#include <begin_vertex>', `#include <begin_vertex>\n${VERTEX_MAIN}`);
  shader.fragmentShader = shader.fragmentShader.replace('#include <common>', `#include <common>\n${FRAGMENT_PARS}`);
}

/** Opaque material: SOLID and ORIGINAL elements; in the pick pass, writes row + 1 as RGB. */
function solidMaterial(shared, offset, { vertexColors, translucent }) {
  const material = new THREE.MeshLambertMaterial({
    color: 0xffffff,
    vertexColors,
    flatShading: true, // the GLB stores no normals (docs/architecture.md)
    side: THREE.DoubleSide, // IFC faces are not reliably wound
    transparent: translucent,
    depthWrite: !translucent,
    clippingPlanes: shared.clippingPlanes,
  });
  material.userData.offset = offset;
  material.onBeforeCompile = (shader) => {
    patchShader(shader, shared, offset);
    shader.fragmentShader = shader.fragmentShader
      .replace(
        '#include <clipping_planes_fragment>',
        `#include <clipping_planes_fragment>
        int code = elementCode();
        if (code < 250) discard; // hidden or ghost: not this pass`,
      )
      .replace(
        '#include <color_fragment>',
        `#include <color_fragment>
        if (code == 255) diffuseColor.rgb = vElementTexel.rgb;`,
      )
      .replace(
        '#include <dithering_fragment>',
        `#include <dithering_fragment>
        if (uPick > 0.5) {
          float id = vElementRow + 1.0;
          gl_FragColor = vec4(mod(id, 256.0), mod(floor(id / 256.0), 256.0), floor(id / 65536.0), 255.0) / 255.0;
        }`,
      );
  };
  // Every solid material compiles to the same program (the offset is a uniform).
  material.customProgramCacheKey = () => `erji-solid-${vertexColors}`;
  return material;
}

/** Transparent shell for GHOST elements only. */
function ghostMaterial(shared, offset) {
  const material = new THREE.MeshBasicMaterial({
    color: GHOST_RGB,
    transparent: true,
    opacity: GHOST_OPACITY,
    depthWrite: false,
    side: THREE.DoubleSide,
    clippingPlanes: shared.clippingPlanes,
  });
  material.onBeforeCompile = (shader) => {
    patchShader(shader, shared, offset);
    shader.fragmentShader = shader.fragmentShader
      .replace(
        '#include <clipping_planes_fragment>',
        `#include <clipping_planes_fragment>
        if (elementCode() != 64 || uPick > 0.5) discard;`,
      );
  };
  material.customProgramCacheKey = () => 'erji-ghost';
  return material;
}

/** The element table of a loaded GLB, validated. */
function readTable(gltf) {
  const table = gltf.scene.userData.erji_twin;
  if (!table || !Array.isArray(table.global_ids)) {
    throw new Error('this GLB has no Erji Twin element table (scene extras "erji_twin")');
  }
  const n = table.global_ids.length;
  const toInt32 = (values) => Int32Array.from(values ?? new Array(n).fill(-1));
  return {
    count: n,
    globalIds: table.global_ids,
    classes: table.classes ?? [],
    classIndex: toInt32(table.class_index),
    // Storeys are {global_id, name}; the UI filters by name (what users see and share).
    storeys: (table.storeys ?? []).map((s) => (typeof s === 'string' ? s : s.name || s.global_id)),
    storeyIndex: toInt32(table.storey_index),
    originM: table.origin_m ?? [0, 0, 0],
  };
}

export class ModelScene {
  /** @param {HTMLElement} container the element the canvas fills */
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: false, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.localClippingEnabled = true;
    this.renderer.setClearColor(BACKGROUND, 1);
    this.renderer.domElement.style.display = 'block';
    container.appendChild(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(BACKGROUND);
    this.camera = new THREE.PerspectiveCamera(DEFAULT_FOV_DEG, 1, 0.05, 5000);
    this.camera.position.set(30, 25, 30);
    this.scene.add(this.camera);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8d8d8d, 2.0));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(0.5, 1, 0.8); // follows the camera, so every face the user sees is lit
    this.camera.add(sun);

    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = false; // renders only on change: no animation loop to keep alive
    this.controls.screenSpacePanning = true;
    this.controls.addEventListener('change', () => this.requestRender());
    this.controls.addEventListener('end', () => this._viewEnded());

    this.model = new THREE.Group();
    this.ghosts = new THREE.Group();
    this.scene.add(this.model);
    this.shared = {
      uniforms: { uElementTexels: { value: null }, uPick: { value: 0 } },
      clippingPlanes: [],
    };
    this.sectionPlane = new THREE.Plane();
    this.table = null;
    this.texels = null;
    this.texture = null;
    this.bounds = new THREE.Box3();
    this.pickTarget = new THREE.WebGLRenderTarget(1, 1);
    this.pickBuffer = new Uint8Array(4);
    this.onFrame = null; // (frameMs) => void, after every render
    this.onViewEnd = null; // () => void, after the user or the code moved the view
    this._renderQueued = false;
    this._resizeObserver = new ResizeObserver(() => this.resize());
    this._resizeObserver.observe(container);
    this.resize();
  }

  /**
   * Fetch and show a GLB. Resolves with the element table and the bytes read.
   * @param {string} url same-origin URL (the session cookie goes along)
   */
  async load(url, { signal } = {}) {
    const response = await fetch(url, { credentials: 'same-origin', signal });
    if (!response.ok) throw new Error(`GLB ${url}: HTTP ${response.status}`);
    const buffer = await response.arrayBuffer();
    const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
    const gltf = await loader.parseAsync(buffer, '');
    this.table = readTable(gltf);
    this._build(gltf.scene);
    return { table: this.table, bytes: buffer.byteLength };
  }

  /** Free the GPU side of the current model (solid and ghost meshes share geometry). */
  _disposeModel() {
    const geometries = new Set();
    for (const mesh of [...this.model.children, ...this.ghosts.children]) {
      geometries.add(mesh.geometry);
      mesh.material.dispose();
    }
    geometries.forEach((g) => g.dispose());
    this.model.clear();
    this.ghosts.clear();
  }

  _build(root) {
    this._disposeModel();
    const n = this.table.count;
    const rows = Math.max(1, Math.ceil(n / TEXTURE_WIDTH));
    this.texels = new Uint8Array(4 * TEXTURE_WIDTH * rows).fill(255);
    for (let i = 3; i < this.texels.length; i += 4) this.texels[i] = 254; // ORIGINAL until painted
    this.texture?.dispose();
    this.texture = new THREE.DataTexture(this.texels, TEXTURE_WIDTH, rows, THREE.RGBAFormat);
    this.texture.colorSpace = THREE.SRGBColorSpace; // sRGB bytes, sampled as linear
    this.texture.needsUpdate = true;
    this.shared.uniforms.uElementTexels.value = this.texture;

    root.updateMatrixWorld(true);
    const meshes = [];
    root.traverse((obj) => {
      if (obj.isMesh) meshes.push(obj);
    });
    for (const source of meshes) {
      const geometry = source.geometry;
      if (!geometry.attributes._element && geometry.attributes._ELEMENT) {
        geometry.setAttribute('_element', geometry.attributes._ELEMENT); // per instance
        geometry.deleteAttribute('_ELEMENT');
      }
      if (!geometry.attributes._element) continue; // not one of our element meshes
      let offset = source.userData.element_offset;
      for (let p = source.parent; offset === undefined && p; p = p.parent) offset = p.userData.element_offset;
      offset = offset ?? 0;
      const vertexColors = Boolean(geometry.attributes.color);
      const translucent = Boolean(source.material?.transparent);
      const make = (material) => {
        const mesh = source.isInstancedMesh
          ? new THREE.InstancedMesh(geometry, material, source.count)
          : new THREE.Mesh(geometry, material);
        if (source.isInstancedMesh) mesh.instanceMatrix = source.instanceMatrix;
        source.matrixWorld.decompose(mesh.position, mesh.quaternion, mesh.scale);
        mesh.matrixAutoUpdate = false;
        mesh.updateMatrix();
        mesh.frustumCulled = !source.isInstancedMesh;
        return mesh;
      };
      this.model.add(make(solidMaterial(this.shared, offset, { vertexColors, translucent })));
      const ghost = make(ghostMaterial(this.shared, offset));
      ghost.renderOrder = 1;
      this.ghosts.add(ghost);
    }
    this.model.updateMatrixWorld(true);
    this.bounds.setFromObject(this.model);
    this.camera.fov = DEFAULT_FOV_DEG; // a viewpoint may have changed it; each model starts afresh
    this.homeView();
  }

  /** Upload texels (4 bytes per element, paint.js) and redraw; ghosts shown only if any. */
  paint(texels, { ghosts }) {
    if (!this.table) return;
    this.texels.set(texels.subarray(0, 4 * this.table.count));
    this.texture.needsUpdate = true;
    if (ghosts > 0 && !this.ghosts.parent) this.scene.add(this.ghosts);
    if (ghosts === 0 && this.ghosts.parent) this.scene.remove(this.ghosts);
    this.requestRender();
  }

  resize() {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, true);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
    this._viewEnded();
  }

  _viewEnded() {
    if (this.table) this.onViewEnd?.();
  }

  requestRender() {
    if (this._renderQueued) return;
    this._renderQueued = true;
    requestAnimationFrame(() => {
      this._renderQueued = false;
      this.renderNow();
    });
  }

  renderNow() {
    const t0 = performance.now();
    this.renderer.render(this.scene, this.camera);
    this.onFrame?.(performance.now() - t0);
  }

  /** Fit the camera to a box (world frame), looking from the current direction. */
  frame(box) {
    if (box.isEmpty()) return;
    const center = box.getCenter(new THREE.Vector3());
    const radius = Math.max(box.getSize(new THREE.Vector3()).length() / 2, 0.5);
    const fov = THREE.MathUtils.degToRad(this.camera.fov);
    const distance = radius / Math.sin(Math.min(fov, fov * this.camera.aspect) / 2);
    const direction = this.camera.position.clone().sub(this.controls.target).normalize();
    if (direction.lengthSq() === 0) direction.set(1, 0.8, 1).normalize();
    this.controls.target.copy(center);
    this.camera.position.copy(center).addScaledVector(direction, distance);
    this.camera.near = Math.max(distance / 1000, 0.01);
    this.camera.far = distance * 20 + radius * 4;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.requestRender();
    this._viewEnded();
  }

  fitModel() {
    this.frame(this.bounds);
  }

  /** The start view: from the south-east, above, the whole model in view. */
  homeView() {
    this.controls.target.copy(this.bounds.getCenter(new THREE.Vector3()));
    this.camera.position.copy(this.controls.target).add(new THREE.Vector3(1, 0.75, 1));
    this.frame(this.bounds);
  }

  /**
   * Cut the model with a plane across `axis` ("x", "y" = height, "z") at `fraction` of
   * the model's extent (0..1); axis null removes the cut. Keeps what is below / behind.
   */
  setSection(axis, fraction) {
    const before = this.shared.clippingPlanes.length;
    this.shared.clippingPlanes.length = 0;
    if (axis && !this.bounds.isEmpty()) {
      const k = { x: 0, y: 1, z: 2 }[axis];
      const normal = new THREE.Vector3().setComponent(k, -1);
      const at = THREE.MathUtils.lerp(this.bounds.min.getComponent(k), this.bounds.max.getComponent(k), fraction);
      this.sectionPlane.set(normal, at);
      this.shared.clippingPlanes.push(this.sectionPlane);
    }
    // The planes array is shared by every material; its length is part of the program, so
    // only switching the cut on or off needs new programs (moving it is a uniform).
    if (before !== this.shared.clippingPlanes.length) {
      this.model.children.concat(this.ghosts.children).forEach((m) => (m.material.needsUpdate = true));
    }
    this.requestRender();
  }

  /** Element row under a canvas point (CSS pixels), or -1: renders that one pixel's ids. */
  pick(x, y) {
    if (!this.table) return -1;
    const w = this.renderer.domElement.clientWidth;
    const h = this.renderer.domElement.clientHeight;
    if (x < 0 || y < 0 || x >= w || y >= h) return -1;
    const background = this.scene.background;
    const hadGhosts = Boolean(this.ghosts.parent);
    this.scene.background = null;
    if (hadGhosts) this.scene.remove(this.ghosts);
    this.camera.setViewOffset(w, h, Math.floor(x), Math.floor(y), 1, 1);
    this.shared.uniforms.uPick.value = 1;
    this.renderer.setRenderTarget(this.pickTarget);
    this.renderer.setClearColor(0x000000, 0);
    this.renderer.clear();
    this.renderer.render(this.scene, this.camera);
    this.renderer.readRenderTargetPixels(this.pickTarget, 0, 0, 1, 1, this.pickBuffer);
    this.renderer.setRenderTarget(null);
    this.renderer.setClearColor(BACKGROUND, 1);
    this.shared.uniforms.uPick.value = 0;
    this.camera.clearViewOffset();
    this.scene.background = background;
    if (hadGhosts) this.scene.add(this.ghosts);
    const [r, g, b] = this.pickBuffer;
    const id = r + 256 * g + 65536 * b;
    return id > 0 && id <= this.table.count ? id - 1 : -1;
  }

  /**
   * The view ray through a canvas point (CSS px), at the centre of the pixel the GPU pick
   * reads, so the ray and the pick see the same element.
   * @returns {THREE.Ray} origin at the camera, unit direction (GLB frame)
   */
  rayAt(x, y) {
    const w = this.renderer.domElement.clientWidth;
    const h = this.renderer.domElement.clientHeight;
    const ndc = new THREE.Vector2(((Math.floor(x) + 0.5) / w) * 2 - 1, 1 - ((Math.floor(y) + 0.5) / h) * 2);
    this.camera.updateMatrixWorld();
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(ndc, this.camera);
    return raycaster.ray;
  }

  /**
   * The nearest point of element `row` on a ray, honouring the section cut and the near
   * plane (what the pick could see). Scans only the meshes whose rows include `row`.
   * @returns {number} the ray parameter (metres from the origin), or Infinity
   */
  elementHit(row, ray) {
    const origin = ray.origin.toArray();
    const direction = ray.direction.toArray();
    const forward = this.camera.getWorldDirection(new THREE.Vector3());
    let [tMin, tMax] = [this.camera.near / Math.max(ray.direction.dot(forward), 1e-6), Infinity];
    for (const plane of this.shared.clippingPlanes) {
      [tMin, tMax] = clipInterval(origin, direction, plane.normal.toArray(), plane.constant, tMin, tMax);
    }
    if (tMin > tMax) return Infinity;
    let best = Infinity;
    const matrix = new THREE.Matrix4();
    const instance = new THREE.Matrix4();
    const localOrigin = new THREE.Vector3();
    const localDirection = new THREE.Vector3();
    for (const mesh of this.model.children) {
      const geometry = mesh.geometry;
      const local = row - (mesh.material.userData.offset ?? 0);
      const elementAttr = geometry.attributes._element;
      const elements = accessorOf(elementAttr);
      // Which rows a mesh holds is read once per mesh (a linear scan), then reused per click.
      mesh.userData.elementRange ??= valueRange(elements, elementAttr.count);
      const [lo, hi] = mesh.userData.elementRange;
      if (local < lo || local > hi) continue;
      const position = geometry.attributes.position;
      const scale = normalisation(position);
      const triangles = {
        positions: accessorOf(position),
        index: geometry.index ? geometry.index.array : null,
        vertexCount: position.count,
        elements: mesh.isInstancedMesh ? null : elements,
      };
      const copies = mesh.isInstancedMesh ? mesh.count : 1;
      for (let c = 0; c < copies; c++) {
        if (mesh.isInstancedMesh && elements.array[c * elements.stride + elements.offset] !== local) continue;
        // Raw stored values -> world: node matrix × instance matrix × normalisation. The
        // ray goes the other way, its direction unnormalised, so t stays in world metres.
        matrix.copy(mesh.matrixWorld);
        if (mesh.isInstancedMesh) matrix.multiply(mesh.getMatrixAt(c, instance));
        if (scale !== 1) matrix.scale(new THREE.Vector3(scale, scale, scale));
        matrix.invert();
        localOrigin.copy(ray.origin).applyMatrix4(matrix);
        localDirection.copy(ray.origin).add(ray.direction).applyMatrix4(matrix).sub(localOrigin);
        const t = nearestElementHit(
          triangles,
          mesh.isInstancedMesh ? 0 : local,
          localOrigin.toArray(),
          localDirection.toArray(),
          tMin,
          Math.min(tMax, best),
        );
        if (t < best) best = t;
      }
    }
    return best;
  }

  /**
   * The element under a canvas point (CSS px) and the point on its surface there.
   * @returns {null | {row: number, point: THREE.Vector3, onSurface: boolean}} null when
   *   nothing is under the point; `point` (GLB frame) is the nearest hit of the view ray
   *   with that element's triangles, or the centre of its box (`onSurface` false) when the
   *   ray misses them (the pick and the ray can disagree at an edge)
   */
  pickPoint(x, y) {
    const row = this.pick(x, y);
    if (row < 0) return null;
    const ray = this.rayAt(x, y);
    const t = this.elementHit(row, ray);
    if (Number.isFinite(t)) return { row, point: ray.at(t, new THREE.Vector3()), onSurface: true };
    const mask = new Uint8Array(this.table.count);
    mask[row] = 1;
    return { row, point: this.boxOf(mask).getCenter(new THREE.Vector3()), onSurface: false };
  }

  /**
   * The current view (GLB frame): camera position, unit view direction, unit screen-up,
   * vertical field of view and aspect (width / height).
   */
  cameraView() {
    this.camera.updateMatrixWorld();
    return {
      position: this.camera.position.toArray(),
      direction: this.camera.getWorldDirection(new THREE.Vector3()).toArray(),
      up: new THREE.Vector3(0, 1, 0).applyQuaternion(this.camera.quaternion).toArray(),
      fovDeg: this.camera.fov,
      aspect: this.camera.aspect,
    };
  }

  /**
   * Move the view to a saved camera (frames.js `parseBcfCamera`, GLB frame). The orbit
   * target goes along the direction to what the view centre shows: the element under the
   * canvas centre, else the model's box (its centre's depth, or where the ray enters it),
   * else a few metres ahead. With `viewHeightM` (a BCF orthogonal camera) a perspective
   * camera is backed off from that target until the view shows that height.
   * The orbit keeps the vertical up, so a rolled camera comes back without its roll.
   */
  setView({ position, direction, up, fovDeg = null, viewHeightM = null }) {
    if (!this.table) return;
    const eye = new THREE.Vector3(...position);
    const forward = new THREE.Vector3(...direction).normalize();
    if (fovDeg) this.camera.fov = fovDeg;
    // Look along the direction from the given position to find what the centre shows.
    this.camera.position.copy(eye);
    this.camera.lookAt(eye.clone().add(forward));
    this._fitClipping(eye);
    const distance = this._targetDistance(eye, forward);
    const target = eye.clone().addScaledVector(forward, distance);
    if (viewHeightM) {
      const back = viewHeightM / 2 / Math.tan(THREE.MathUtils.degToRad(this.camera.fov) / 2);
      eye.copy(target).addScaledVector(forward, -back);
    }
    // Straight down (or up) the orbit cannot tell which way is up on screen: nudge the eye
    // a little so its azimuth puts `up` at the top of the screen.
    if (Math.hypot(forward.x, forward.z) < 1e-3) {
      const upVector = new THREE.Vector3(...up);
      upVector.y = 0;
      if (upVector.lengthSq() > 0) {
        const d = eye.distanceTo(target);
        eye.addScaledVector(upVector.normalize(), Math.sign(forward.y) * d * 1e-3);
      }
    }
    this.camera.position.copy(eye);
    this.controls.target.copy(target);
    this._fitClipping(eye);
    this.controls.update();
    this.requestRender();
  }

  /** Near and far planes for an eye anywhere (inside the model or far off). */
  _fitClipping(eye) {
    const center = this.bounds.getCenter(new THREE.Vector3());
    const radius = Math.max(this.bounds.getSize(new THREE.Vector3()).length() / 2, 0.5);
    const far = (eye.distanceTo(center) + radius) * 4;
    this.camera.far = far;
    this.camera.near = THREE.MathUtils.clamp(far / 20000, 0.01, 1);
    this.camera.updateProjectionMatrix();
    this.camera.updateMatrixWorld();
  }

  /** How far ahead of `eye` along `forward` the view's subject is (metres). */
  _targetDistance(eye, forward) {
    const w = this.renderer.domElement.clientWidth;
    const h = this.renderer.domElement.clientHeight;
    const row = this.pick(w / 2, h / 2);
    if (row >= 0) {
      const t = this.elementHit(row, new THREE.Ray(eye.clone(), forward.clone()));
      if (Number.isFinite(t) && t > 0.1) return t;
    }
    const center = this.bounds.getCenter(new THREE.Vector3());
    const depth = center.clone().sub(eye).dot(forward);
    const span = this.bounds.isEmpty()
      ? null
      : rayBoxInterval(eye.toArray(), forward.toArray(), this.bounds.min.toArray(), this.bounds.max.toArray());
    if (span && depth >= Math.max(span[0], 0) && depth <= span[1]) return depth;
    if (span && span[0] > 0) return span[0];
    if (depth > 0.1) return depth;
    return Math.max(this.bounds.getSize(new THREE.Vector3()).length() / 4, 5);
  }

  /** World-frame bounding box of the elements whose mask byte is set (scans the geometry). */
  boxOf(mask) {
    const box = new THREE.Box3();
    const v = new THREE.Vector3();
    const m = new THREE.Matrix4();
    for (const mesh of this.model.children) {
      const material = mesh.material;
      const offset = material.userData.offset ?? 0;
      const element = mesh.geometry.attributes._element;
      const position = mesh.geometry.attributes.position;
      if (mesh.isInstancedMesh) {
        for (let c = 0; c < mesh.count; c++) {
          if (!mask[offset + element.getX(c)]) continue;
          mesh.getMatrixAt(c, m);
          m.premultiply(mesh.matrixWorld);
          for (let i = 0; i < position.count; i++) box.expandByPoint(v.fromBufferAttribute(position, i).applyMatrix4(m));
        }
      } else {
        for (let i = 0; i < position.count; i++) {
          if (!mask[offset + element.getX(i)]) continue;
          box.expandByPoint(v.fromBufferAttribute(position, i).applyMatrix4(mesh.matrixWorld));
        }
      }
    }
    return box;
  }

  /**
   * The top centre (GLB frame: centre in x and z, highest y) of each of these element
   * rows' boxes, in one scan of the geometry: where a sensor pin sits on its element.
   * @param {number[]} rows element rows
   * @returns {Map<number, number[]>} row -> [x, y, z]; rows without geometry are absent
   */
  topCentres(rows) {
    const boxes = new Map();
    if (!this.table) return boxes;
    const mask = new Uint8Array(this.table.count);
    for (const r of rows) if (r >= 0 && r < this.table.count) mask[r] = 1;
    const v = new THREE.Vector3();
    const m = new THREE.Matrix4();
    const grow = (row, point) => {
      let box = boxes.get(row);
      if (!box) boxes.set(row, (box = new THREE.Box3()));
      box.expandByPoint(point);
    };
    for (const mesh of this.model.children) {
      const offset = mesh.material.userData.offset ?? 0;
      const element = mesh.geometry.attributes._element;
      const position = mesh.geometry.attributes.position;
      if (mesh.isInstancedMesh) {
        for (let c = 0; c < mesh.count; c++) {
          const row = offset + element.getX(c);
          if (!mask[row]) continue;
          mesh.getMatrixAt(c, m);
          m.premultiply(mesh.matrixWorld);
          for (let i = 0; i < position.count; i++) grow(row, v.fromBufferAttribute(position, i).applyMatrix4(m));
        }
      } else {
        for (let i = 0; i < position.count; i++) {
          const row = offset + element.getX(i);
          if (mask[row]) grow(row, v.fromBufferAttribute(position, i).applyMatrix4(mesh.matrixWorld));
        }
      }
    }
    const tops = new Map();
    for (const [row, box] of boxes) {
      tops.set(row, [(box.min.x + box.max.x) / 2, box.max.y, (box.min.z + box.max.z) / 2]);
    }
    return tops;
  }

  /** Canvas point (CSS pixels) of a world point, or null when behind the camera. */
  toScreen(point) {
    const p = point.clone().project(this.camera);
    if (p.z > 1) return null;
    const w = this.renderer.domElement.clientWidth;
    const h = this.renderer.domElement.clientHeight;
    return { x: ((p.x + 1) / 2) * w, y: ((1 - p.y) / 2) * h };
  }

  dispose() {
    this._resizeObserver.disconnect();
    this.controls.dispose();
    this.texture?.dispose();
    this.pickTarget.dispose();
    this._disposeModel();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.renderer.domElement.remove();
  }
}
