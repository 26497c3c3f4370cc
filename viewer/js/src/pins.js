// Pins: one round DOM badge per issue over the canvas, at the issue's point; and, in a
// second layer of the same kind, one tag per monitor point (sensor pins) on its element.
//
// Pins are overlays, not geometry: a section cut or a filter never hides them, only their
// point being behind the camera or off the canvas does. They are repositioned after every
// rendered frame (scene.onFrame) in which the camera or the canvas changed, so they follow
// an orbit exactly; nothing is touched while the view stands still (e.g. the 4D timeline
// playing), and DOM nodes are reused.
//
// Cost: what limits pins is the browser's style recalculation of each moved badge (measured
// ~30 µs per badge per frame in headless chromium on 2 cores; a `transform` write needs no
// layout). So up to LIVE_PINS badges on screen follow the view live; with more, while the
// view moves the pins are drawn as coloured dots on one 2D canvas (~4 µs a dot there) and
// the badges come back SETTLE_MS after the view stops. Orbiting stays smooth with thousands.
//
// A pin is a <button class="erji-pin" data-issue-id="…"> (a sensor pin: class
// "erji-pin erji-sensor-pin", data-point-id="…"), so it is focusable and Enter selects it;
// pointer events on it stop there, so tapping a pin neither orbits nor picks the element
// behind it.

import { SENSOR_KEYS, SENSOR_RGB, SEVERITY_KEYS, SEVERITY_RGB } from './paint.js';
import { ifcToGlbPoint, vector3 } from './frames.js';

/** More pins than this are not drawn (the selected one always is). */
export const MAX_PINS = 5000;
/** Up to this many pins on screen follow a moving view as badges; more move as dots. */
export const LIVE_PINS = 400;
/** The badges replace the dots once the view has been still this long. */
const SETTLE_MS = 150;
const DOT_RADIUS_PX = 5;
const DONE_RGB = [154, 163, 173];
/** Statuses drawn greyed: the issue is over. */
const DONE_STATUSES = new Set(['closed', 'void']);

/**
 * Keep the well-formed pins of the `pins` param, in order; anything malformed is dropped.
 * @returns {{id: number, number: number, point: number[], severity: string, status: string,
 *   title: string}[]} `point` is the IFC world point (metres)
 */
export function readPins(value) {
  if (!Array.isArray(value)) return [];
  const pins = [];
  for (const item of value) {
    if (!item || typeof item !== 'object') continue;
    const point = vector3(item.point_m);
    if (!Number.isInteger(item.id) || !point) continue;
    pins.push({
      id: item.id,
      number: Number.isInteger(item.number) ? item.number : item.id,
      point,
      severity: SEVERITY_KEYS.includes(item.severity) && item.severity !== 'none' ? item.severity : 'minor',
      status: typeof item.status === 'string' ? item.status : '',
      title: typeof item.title === 'string' ? item.title : '',
    });
  }
  return pins;
}

/**
 * Keep the well-formed sensor pins, in order: `{id, code, point_m (IFC world frame),
 * condition, title}` (viewer.js turns the `sensor_pins` param's element rows into points).
 * @returns {{id: number, label: string, point: number[], condition: string, title: string}[]}
 */
export function readSensorPins(value) {
  if (!Array.isArray(value)) return [];
  const pins = [];
  for (const item of value) {
    if (!item || typeof item !== 'object') continue;
    const point = vector3(item.point_m);
    if (!Number.isInteger(item.id) || !point) continue;
    pins.push({
      id: item.id,
      label: typeof item.code === 'string' && item.code ? item.code : String(item.id),
      point,
      condition: SENSOR_KEYS.includes(item.condition) ? item.condition : 'no_data',
      title: typeof item.title === 'string' ? item.title : '',
    });
  }
  return pins;
}

/**
 * What a layer's pins look like: how the param is read, which data attribute carries the
 * id, the badge's text and colour, and the dot colours while a crowded view moves (a pin's
 * `colourIndex` into `palette`; higher indices are drawn over lower ones).
 */
const KINDS = {
  issue: {
    read: readPins,
    idKey: 'issueId',
    className: 'erji-pin',
    palette: [DONE_RGB, SEVERITY_RGB[1], SEVERITY_RGB[2], SEVERITY_RGB[3]],
    colourIndex: (pin) => (DONE_STATUSES.has(pin.status) ? 0 : SEVERITY_KEYS.indexOf(pin.severity)),
    decorate(node, pin) {
      node.dataset.severity = pin.severity;
      node.dataset.status = pin.status;
      node.textContent = String(pin.number);
      node.setAttribute('aria-label', pin.title ? `#${pin.number} ${pin.title}` : `#${pin.number}`);
      const done = DONE_STATUSES.has(pin.status);
      node.classList.toggle('done', done);
      node.style.background = done ? '' : rgb(SEVERITY_RGB[SEVERITY_KEYS.indexOf(pin.severity)]);
    },
  },
  sensor: {
    read: readSensorPins,
    idKey: 'pointId',
    className: 'erji-pin erji-sensor-pin',
    palette: SENSOR_RGB,
    colourIndex: (pin) => SENSOR_KEYS.indexOf(pin.condition),
    decorate(node, pin) {
      node.dataset.condition = pin.condition;
      node.textContent = pin.label;
      node.setAttribute('aria-label', pin.title || pin.label);
      node.style.background = rgb(SENSOR_RGB[SENSOR_KEYS.indexOf(pin.condition)]);
    },
  },
};

/**
 * Project points to canvas pixels with a view-projection matrix (three.js `elements`,
 * column-major). Pure: Node tests it against three's `Vector3.project`.
 * @param {ArrayLike<number>} m 16 numbers: projectionMatrix × matrixWorldInverse
 * @param {Float64Array} points x, y, z per point (GLB frame)
 * @param {number} width canvas width (CSS px)
 * @param {number} height canvas height (CSS px)
 * @param {Float64Array} out x, y per point (CSS px from the canvas's top left)
 * @returns {Uint8Array | undefined} writes into `visible` (1 = in front of the camera and
 *   on the canvas) when given
 */
export function projectPoints(m, points, width, height, out, visible) {
  const n = points.length / 3;
  for (let i = 0; i < n; i++) {
    const x = points[3 * i];
    const y = points[3 * i + 1];
    const z = points[3 * i + 2];
    const w = m[3] * x + m[7] * y + m[11] * z + m[15];
    const sx = ((m[0] * x + m[4] * y + m[8] * z + m[12]) / w + 1) * 0.5 * width;
    const sy = (1 - (m[1] * x + m[5] * y + m[9] * z + m[13]) / w) * 0.5 * height;
    out[2 * i] = sx;
    out[2 * i + 1] = sy;
    // w is the distance in front of the camera: ≤ 0 is behind it (the projection flips).
    if (visible) visible[i] = w > 1e-9 && sx >= 0 && sx <= width && sy >= 0 && sy <= height ? 1 : 0;
  }
  return visible;
}

function rgb([r, g, b]) {
  return `rgb(${r},${g},${b})`;
}

export class PinLayer {
  /**
   * @param {HTMLElement} viewport the canvas's parent: the layer goes right after it, over
   *   the same area (CSS gives both the same insets), below the toolbar and legend; outside
   *   the viewport so a tap on a pin never reaches the viewport's pick handler
   * @param {{onSelect: (id: number) => void, wheelTarget: HTMLElement, kind?: string}} options
   *   `wheelTarget` (the canvas) gets wheel events that land on a pin, so zooming works
   *   with the cursor on a pin; `kind` 'issue' (default) or 'sensor'
   */
  constructor(viewport, { onSelect, wheelTarget, kind = 'issue' }) {
    this.kind = KINDS[kind];
    this.root = document.createElement('div');
    this.root.className = 'erji-pins';
    this.root.dataset.role = kind === 'issue' ? 'pins' : `${kind}-pins`;
    this.dots = document.createElement('canvas'); // the pins while a crowded view moves
    this.dots.className = 'erji-pin-dots';
    this.dots.hidden = true;
    this.root.appendChild(this.dots);
    viewport.after(this.root);
    this.onSelect = onSelect;
    this.pins = [];
    this.nodes = [];
    this.points = new Float64Array(0); // GLB frame, 3 per pin
    this.screen = new Float64Array(0); // CSS px, 2 per pin
    this.visible = new Uint8Array(0);
    this.shown = new Uint8Array(0); // what the DOM shows now (touch it only on change)
    this.origin = null;
    this.selected = 0;
    this.viewProjection = new Float64Array(16); // of the last update: unchanged view, no work
    this.width = 0;
    this.height = 0;
    this.dirty = true; // pins or origin changed: place the badges at the next update
    this.settleTimer = null;
    this.spriteCache = null;
    this.selectedIndex = -1;
    // One set of listeners for every pin (delegation): nothing to add or remove per pin.
    const pinOf = (event) => event.target.closest?.('.erji-pin');
    const stop = (event) => {
      if (pinOf(event)) event.stopPropagation(); // no orbit start, no pick
    };
    for (const type of ['pointerdown', 'pointerup', 'mousedown', 'touchstart', 'dblclick', 'contextmenu']) {
      this.root.addEventListener(type, stop);
    }
    this.root.addEventListener('click', (event) => {
      const pin = pinOf(event);
      if (!pin) return;
      event.stopPropagation();
      this.onSelect(Number(pin.dataset[this.kind.idKey]));
    });
    this.root.addEventListener(
      'wheel',
      (event) => {
        if (!pinOf(event)) return;
        event.preventDefault();
        wheelTarget.dispatchEvent(new WheelEvent('wheel', event));
      },
      { passive: false },
    );
  }

  /** Show these pins (the `pins` param as given); invalid entries are skipped. */
  setPins(value) {
    let pins = this.kind.read(value);
    if (pins.length > MAX_PINS) {
      const selected = pins.find((p) => p.id === this.selected);
      pins = pins.slice(0, MAX_PINS);
      if (selected && !pins.includes(selected)) pins[MAX_PINS - 1] = selected;
    }
    this.pins = pins;
    const n = pins.length;
    while (this.nodes.length < n) {
      const node = document.createElement('button');
      node.type = 'button';
      node.className = this.kind.className;
      node.hidden = true;
      this.root.appendChild(node);
      this.nodes.push(node);
    }
    while (this.nodes.length > n) this.nodes.pop().remove();
    pins.forEach((pin, i) => {
      const node = this.nodes[i];
      node.dataset[this.kind.idKey] = String(pin.id);
      node.title = pin.title;
      this.kind.decorate(node, pin);
    });
    this.screen = new Float64Array(2 * n);
    this.visible = new Uint8Array(n);
    this.shown = new Uint8Array(n);
    this.nodes.forEach((node) => (node.hidden = true));
    this._placePoints();
    this.setSelected(this.selected);
  }

  /** Stop the pending settle timer (the component is going away). */
  dispose() {
    clearTimeout(this.settleTimer);
    this.settleTimer = null;
  }

  /** The GLB origin of the model shown (null: no model, no pins). */
  setOrigin(originM) {
    this.origin = originM;
    this._placePoints();
  }

  _placePoints() {
    this.dirty = true;
    this.points = new Float64Array(3 * this.pins.length);
    if (!this.origin) return;
    this.pins.forEach((pin, i) => this.points.set(ifcToGlbPoint(pin.point, this.origin), 3 * i));
  }

  /** Highlight the pin of this id (an issue's, or a monitor point's; 0: none). */
  setSelected(id) {
    this.selected = id;
    this.selectedIndex = this.pins.findIndex((pin) => pin.id === id);
    this.pins.forEach((pin, i) => {
      const on = pin.id === id;
      this.nodes[i].classList.toggle('selected', on);
      this.nodes[i].setAttribute('aria-pressed', on ? 'true' : 'false');
    });
  }

  /**
   * Reposition every pin for this camera (after each rendered frame); no work when neither
   * the camera nor the canvas size nor the pins changed since the last call.
   * @param {ArrayLike<number>} viewProjection 16 numbers, column-major
   * @param {number} width canvas width (CSS px)
   * @param {number} height canvas height (CSS px)
   */
  update(viewProjection, width, height) {
    const n = this.pins.length;
    let same = !this.dirty && width === this.width && height === this.height;
    for (let k = 0; same && k < 16; k++) same = viewProjection[k] === this.viewProjection[k];
    if (same) return;
    this.viewProjection.set(viewProjection);
    this.width = width;
    this.height = height;
    if (!this.origin) {
      this.visible.fill(0);
    } else {
      projectPoints(viewProjection, this.points, width, height, this.screen, this.visible);
    }
    let onScreen = 0;
    for (let i = 0; i < n; i++) onScreen += this.visible[i];
    if (onScreen > LIVE_PINS && !this.dirty) {
      // A crowded view moving: dots now, the badges when it settles; the selected pin
      // stays a badge (one badge is cheap).
      this._drawDots();
      if (this.selectedIndex >= 0) this._placeBadge(this.selectedIndex);
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => this._settle(), SETTLE_MS);
      return;
    }
    this._settle();
  }

  /** Badges at the last projected positions; the dots go. */
  _settle() {
    clearTimeout(this.settleTimer);
    this.settleTimer = null;
    this.dirty = false;
    if (!this.dots.hidden) {
      this.dots.hidden = true;
      this.root.classList.remove('moving');
    }
    this._placeBadges();
  }

  _drawDots() {
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    const w = Math.round(this.width * ratio);
    const h = Math.round(this.height * ratio);
    if (this.dots.width !== w || this.dots.height !== h) {
      this.dots.width = w;
      this.dots.height = h;
    }
    if (this.dots.hidden) {
      this.dots.hidden = false;
      this.root.classList.add('moving'); // hides the badges: one style change per gesture
    }
    const ctx = this.dots.getContext('2d');
    ctx.clearRect(0, 0, w, h);
    // Pre-drawn dots stamped at whole device pixels: a software canvas draws a sprite about
    // twice as fast as an antialiased arc. Worse severities are drawn over milder ones.
    const sprites = this._sprites(ratio);
    for (let c = 0; c < sprites.length; c++) {
      for (let i = 0; i < this.pins.length; i++) {
        if (!this.visible[i] || i === this.selectedIndex || this._dotColour(this.pins[i]) !== c) continue;
        const x = Math.round(this.screen[2 * i] * ratio) - sprites.half;
        const y = Math.round(this.screen[2 * i + 1] * ratio) - sprites.half;
        ctx.drawImage(sprites[c], x, y);
      }
    }
  }

  /** One dot image per colour of the layer's palette (issues: done, minor, major, critical). */
  _sprites(ratio) {
    if (this.spriteCache?.ratio === ratio) return this.spriteCache;
    const size = Math.ceil((2 * DOT_RADIUS_PX + 2) * ratio);
    const sprites = this.kind.palette.map((colour) => {
      const sprite = document.createElement('canvas');
      sprite.width = sprite.height = size;
      const ctx = sprite.getContext('2d');
      ctx.beginPath();
      ctx.arc(size / 2, size / 2, DOT_RADIUS_PX * ratio, 0, 2 * Math.PI);
      ctx.fillStyle = rgb(colour);
      ctx.fill();
      ctx.lineWidth = 1.5 * ratio;
      ctx.strokeStyle = '#fff';
      ctx.stroke();
      return sprite;
    });
    sprites.ratio = ratio;
    sprites.half = Math.floor(size / 2);
    this.spriteCache = sprites;
    return sprites;
  }

  _dotColour(pin) {
    return this.kind.colourIndex(pin);
  }

  _placeBadges() {
    for (let i = 0; i < this.pins.length; i++) this._placeBadge(i);
  }

  _placeBadge(i) {
    const node = this.nodes[i];
    if (this.visible[i]) {
      const x = this.screen[2 * i].toFixed(1);
      const y = this.screen[2 * i + 1].toFixed(1);
      node.style.transform = `translate(${x}px,${y}px) translate(-50%,-50%)`;
    }
    if (this.visible[i] !== this.shown[i]) {
      node.hidden = !this.visible[i];
      this.shown[i] = this.visible[i];
    }
  }

  /** Canvas point (CSS px) of the pin of this id at the last update, or null if not shown. */
  screenPosition(id) {
    const i = this.pins.findIndex((p) => p.id === id);
    if (i < 0 || !this.visible[i]) return null;
    return { x: this.screen[2 * i], y: this.screen[2 * i + 1] };
  }
}
