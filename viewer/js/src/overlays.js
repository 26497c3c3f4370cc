// DOM overlays over the 3D view: toolbar (home, fit, frame selection, status line),
// legend, and the timeline bar (issue pins: pins.js). Plain DOM: no framework, no web
// fonts, every string from the `labels` param (the Python catalogue, viewer/i18n.py).
//
// Phones: the layout follows the component's own width (a container query, since the
// component may be narrower than the window), and touch screens get tap targets of at
// least 28 px (pins) and 32 px (buttons).

import { STATUS } from './status.js';
import { SENSOR_KEYS, SENSOR_RGB, SEVERITY_KEYS, SEVERITY_RGB, STATUS_RGB, categoryColor } from './paint.js';
import { isoDate } from './status.js';

const CSS = `
.erji-viewer { position: relative; width: 100%; height: 100%; min-height: 420px; overflow: hidden;
  font: 13px/1.4 system-ui, "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif; }
.erji-viewport, .erji-pins { position: absolute; inset: 0 0 56px 0; }
.erji-toolbar { position: absolute; top: 8px; right: 8px; display: flex; gap: 4px; align-items: center; }
.erji-toolbar button, .erji-timeline button, .erji-timeline select { background: #fff; border: 1px solid #b8c0cc;
  border-radius: 4px; padding: 3px 8px; cursor: pointer; font: inherit; }
.erji-toolbar button:hover, .erji-timeline button:hover { background: #e6ecf5; }
.erji-status { color: #44505f; background: rgba(255,255,255,.85); padding: 2px 6px; border-radius: 4px; }
.erji-status:empty { display: none; }
.erji-legend { position: absolute; top: 8px; left: 8px; background: rgba(255,255,255,.9); border: 1px solid #d0d6de;
  border-radius: 4px; padding: 6px 8px; max-height: 60%; overflow: auto; }
.erji-legend:empty { display: none; }
.erji-legend .row { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
.erji-legend .swatch { width: 12px; height: 12px; border-radius: 2px; border: 1px solid rgba(0,0,0,.2); }
.erji-legend .count { color: #6a7480; margin-left: auto; padding-left: 8px; }
.erji-timeline { position: absolute; left: 0; right: 0; bottom: 0; height: 56px; display: flex; gap: 6px;
  align-items: center; padding: 0 10px; background: #f7f9fb; border-top: 1px solid #d0d6de; }
.erji-timeline[hidden] { display: none; }
.erji-timeline input[type=range] { flex: 1; }
.erji-timeline .date { min-width: 96px; font-variant-numeric: tabular-nums; font-weight: 600; }
.erji-pins { z-index: 0; overflow: hidden; pointer-events: none; } /* z 0: the pins stack inside it */
.erji-pin { position: absolute; left: 0; top: 0; box-sizing: border-box; min-width: 22px; height: 22px;
  padding: 0 5px; border-radius: 11px; border: 2px solid #fff; box-shadow: 0 1px 3px rgba(0,0,0,.45);
  display: flex; align-items: center; justify-content: center; pointer-events: auto; cursor: pointer;
  font: 600 11px/1 system-ui, sans-serif; color: #fff; text-shadow: 0 0 2px rgba(0,0,0,.6);
  touch-action: none; user-select: none; -webkit-tap-highlight-color: transparent; will-change: transform; }
.erji-pin[hidden] { display: none; }
.erji-pins.moving .erji-pin:not(.selected) { visibility: hidden; }
.erji-pin-dots { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.erji-pin-dots[hidden] { display: none; }
.erji-pin[data-severity=minor] { color: #3a2c00; text-shadow: none; }
.erji-pin[data-severity=major] { z-index: 1; }
.erji-pin[data-severity=critical] { z-index: 2; }
.erji-sensor-pin { border-radius: 4px; min-width: 26px; padding: 0 4px; font-size: 10px; }
.erji-sensor-pin[data-condition=warn] { color: #3a2c00; text-shadow: none; z-index: 1; }
.erji-sensor-pin[data-condition=alarm] { z-index: 2; }
.erji-sensor-pin[data-condition=control] { z-index: 3; }
.erji-legend .note { color: #44505f; font-size: 12px; max-width: 220px; white-space: normal; }
.erji-pin.done { z-index: 0; background: #9aa3ad; color: #fff; opacity: .75; text-shadow: none; }
.erji-pin.selected { z-index: 3; border-color: #00d2ff; box-shadow: 0 0 0 3px rgba(0,150,200,.55), 0 1px 4px rgba(0,0,0,.5);
  opacity: 1; }
.erji-pin:focus-visible { outline: 2px solid #1f6feb; outline-offset: 2px; }
@media (pointer: coarse) {
  .erji-pin { min-width: 28px; height: 28px; border-radius: 14px; font-size: 13px; }
  .erji-sensor-pin { border-radius: 6px; font-size: 12px; }
  .erji-toolbar button, .erji-timeline button, .erji-timeline select { min-height: 32px; }
}
.erji-viewer { container-type: inline-size; }
@container (max-width: 600px) {
  .erji-viewport, .erji-pins { bottom: 84px; }
  .erji-toolbar { left: 8px; flex-wrap: wrap; justify-content: flex-end; }
  .erji-toolbar button { padding: 3px 6px; }
  .erji-legend { top: auto; bottom: 92px; max-height: 35%; max-width: calc(100% - 16px); font-size: 12px; }
  .erji-timeline { box-sizing: border-box; height: 84px; flex-wrap: wrap; align-content: center; row-gap: 2px; column-gap: 4px;
    padding: 0 6px; }
  .erji-timeline input[type=range] { order: -1; flex: 1 1 100%; margin: 0; }
  .erji-timeline button { padding: 3px 6px; }
  .erji-timeline [data-role=back-week], .erji-timeline [data-role=forward-week] { display: none; }
  .erji-timeline .date { min-width: 0; margin-left: auto; }
}
`;

export function injectStyles(el) {
  const style = document.createElement('style');
  style.textContent = CSS;
  el.appendChild(style);
}

function button(parent, role, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.role = role;
  b.addEventListener('click', onClick);
  parent.appendChild(b);
  return b;
}

export class Toolbar {
  constructor(el, { onHome, onFit, onFrameSelection }) {
    this.root = document.createElement('div');
    this.root.className = 'erji-toolbar';
    this.statusLine = document.createElement('span');
    this.statusLine.className = 'erji-status';
    this.root.appendChild(this.statusLine);
    this.home = button(this.root, 'home', onHome);
    this.fit = button(this.root, 'fit', onFit);
    this.frameSelection = button(this.root, 'frame-selection', onFrameSelection);
    el.appendChild(this.root);
  }

  setLabels(labels) {
    this.home.textContent = labels.home ?? 'Home';
    this.fit.textContent = labels.fit ?? 'Fit';
    this.frameSelection.textContent = labels.frame_selection ?? 'Frame selection';
  }

  status(text) {
    this.statusLine.textContent = text;
  }
}

const STATUS_KEYS = ['no_task', 'not_started', 'in_progress', 'done', 'late', 'ahead'];
const MAX_CATEGORIES = 24;

function rgb([r, g, b]) {
  return `rgb(${r},${g},${b})`;
}

export class Legend {
  constructor(el) {
    this.root = document.createElement('div');
    this.root.className = 'erji-legend';
    this.root.dataset.role = 'legend';
    el.appendChild(this.root);
  }

  /**
   * Rows of [colour, label, count]; counts tell the user what the date means at a glance.
   * `note` (optional) is a line under the title, e.g. the moment the sensor colours show.
   */
  show(mode, { labels, table, byStatus, bySeverity = null, bySensor = null, note = '' }) {
    const rows = [];
    if (mode === 'status' && byStatus) {
      const counts = byStatus;
      for (const s of [STATUS.NOT_STARTED, STATUS.IN_PROGRESS, STATUS.DONE, STATUS.LATE, STATUS.AHEAD, STATUS.NO_TASK]) {
        rows.push([STATUS_RGB[s], labels[`status_${STATUS_KEYS[s]}`] ?? STATUS_KEYS[s], counts[s], STATUS_KEYS[s]]);
      }
    } else if (mode === 'defects' && bySeverity) {
      for (let s = SEVERITY_KEYS.length - 1; s >= 0; s--) {
        const key = SEVERITY_KEYS[s]; // legend keys: defects_critical … defects_none
        rows.push([SEVERITY_RGB[s], labels[`defects_${key}`] ?? key, bySeverity[s], key]);
      }
    } else if (mode === 'sensors' && bySensor) {
      for (let s = SENSOR_KEYS.length - 1; s >= 0; s--) {
        const key = SENSOR_KEYS[s]; // legend keys: sensors_control … sensors_none
        rows.push([SENSOR_RGB[s], labels[`sensors_${key}`] ?? key, bySensor[s], key]);
      }
    } else if (mode === 'class' || mode === 'storey') {
      const names = mode === 'class' ? table.classes : table.storeys;
      const index = mode === 'class' ? table.classIndex : table.storeyIndex;
      const counts = new Array(names.length).fill(0);
      for (let i = 0; i < table.count; i++) if (index[i] >= 0) counts[index[i]]++;
      const order = names.map((_, c) => c).sort((a, b) => counts[b] - counts[a]);
      for (const c of order.slice(0, MAX_CATEGORIES)) rows.push([categoryColor(c), names[c], counts[c], names[c]]);
    }
    // Redrawn on every repaint (every frame while playing): touch the DOM only on change.
    const key = JSON.stringify([mode, labels[`legend_${mode}`], rows, note]);
    if (key === this.shown) return;
    this.shown = key;
    this.root.replaceChildren();
    if (!rows.length) return;
    const title = document.createElement('div');
    title.textContent = labels[`legend_${mode}`] ?? mode;
    title.style.fontWeight = '600';
    this.root.appendChild(title);
    if (note) {
      const line = document.createElement('div');
      line.className = 'note';
      line.dataset.role = 'legend-note';
      line.textContent = note;
      this.root.appendChild(line);
    }
    for (const [colour, label, count, key] of rows) {
      const row = document.createElement('div');
      row.className = 'row';
      row.dataset.key = key;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = rgb(colour);
      const name = document.createElement('span');
      name.textContent = label;
      const n = document.createElement('span');
      n.className = 'count';
      n.textContent = String(count);
      row.append(swatch, name, n);
      this.root.appendChild(row);
    }
  }
}

const SPEEDS_DAYS_PER_S = [1, 7, 30];

export class Timeline {
  /** @param {(day: number, opts: {final: boolean}) => void} onDay called for every day shown */
  constructor(el, { onDay, onPlaying = () => {} }) {
    this.onDay = onDay;
    this.onPlaying = onPlaying;
    this.root = document.createElement('div');
    this.root.className = 'erji-timeline';
    this.root.dataset.role = 'timeline';
    this.root.hidden = true;
    this.back7 = button(this.root, 'back-week', () => this.step(-7));
    this.back1 = button(this.root, 'back-day', () => this.step(-1));
    this.play = button(this.root, 'play', () => (this.timer ? this.stop() : this.start()));
    this.fwd1 = button(this.root, 'forward-day', () => this.step(1));
    this.fwd7 = button(this.root, 'forward-week', () => this.step(7));
    this.slider = document.createElement('input');
    this.slider.type = 'range';
    this.slider.step = '1';
    this.slider.dataset.role = 'slider';
    this.slider.addEventListener('input', () => this.emit(Number(this.slider.value), false));
    this.slider.addEventListener('change', () => this.emit(Number(this.slider.value), true));
    this.dateLabel = document.createElement('span');
    this.dateLabel.className = 'date';
    this.dateLabel.dataset.role = 'date';
    this.speed = document.createElement('select');
    this.speed.dataset.role = 'speed';
    for (const s of SPEEDS_DAYS_PER_S) this.speed.appendChild(new Option(String(s), String(s)));
    this.root.append(this.slider, this.dateLabel, this.speed);
    el.appendChild(this.root);
    this.timer = null;
    this.labels = {};
  }

  setLabels(labels) {
    this.labels = labels;
    this.back7.textContent = `« ${labels.week ?? 'week'}`;
    this.back1.textContent = `‹ ${labels.day ?? 'day'}`;
    this.fwd1.textContent = `${labels.day ?? 'day'} ›`;
    this.fwd7.textContent = `${labels.week ?? 'week'} »`;
    this.play.textContent = this.timer ? labels.pause ?? 'Pause' : labels.play ?? 'Play';
    this.speed.title = labels.speed ?? 'speed';
    [...this.speed.options].forEach((o) => (o.textContent = `${o.value} ${labels.days_per_second ?? 'd/s'}`));
  }

  show({ first, last, day }) {
    this.first = first;
    this.last = last;
    this.slider.min = String(first);
    this.slider.max = String(last);
    this.root.hidden = false;
    this.setDay(Math.min(Math.max(day, first), last));
  }

  hide() {
    this.stop();
    this.root.hidden = true;
  }

  setDay(day) {
    this.day = day;
    this.slider.value = String(day);
    this.dateLabel.textContent = isoDate(day);
  }

  emit(day, final) {
    const clamped = Math.min(Math.max(Math.round(day), this.first), this.last);
    this.setDay(clamped);
    this.onDay(clamped, { final });
  }

  step(days) {
    this.stop();
    this.emit(this.day + days, true);
  }

  /** Play: advance `speed` days per second of wall time, one status per animation frame. */
  start() {
    if (this.day >= this.last) this.emit(this.first, false);
    let previous = performance.now();
    let position = this.day;
    const tick = (now) => {
      position += ((now - previous) / 1000) * Number(this.speed.value);
      previous = now;
      if (position >= this.last) {
        this.emit(this.last, true);
        return this.stop();
      }
      if (Math.floor(position) !== this.day) this.emit(Math.floor(position), false);
      this.timer = requestAnimationFrame(tick);
    };
    this.timer = requestAnimationFrame(tick);
    this.play.textContent = this.labels.pause ?? 'Pause';
    this.play.dataset.playing = 'yes';
    this.onPlaying(true);
  }

  stop() {
    const wasPlaying = this.timer !== null;
    if (wasPlaying) cancelAnimationFrame(this.timer);
    this.timer = null;
    this.play.textContent = this.labels.play ?? 'Play';
    delete this.play.dataset.playing;
    if (wasPlaying) {
      this.onPlaying(false);
      this.onDay(this.day, { final: true });
    }
  }
}
