// Check the browser's 4D code against the golden table generated from the Python engine
// (tests/golden/fourd_status.json, see tests/golden/make_fourd_golden.py):
//
//   node tools/check-status.mjs GOLDEN.json [PAYLOAD.bin]
//     every expected status from elementStatus (src/status.js) on the table's columns;
//     dayNumber/isoDate of every day; STATUS codes equal the Python enum; and, given a
//     payload written by encode_fourd from the table's elements, that decodeFourD
//     (src/fourd.js) returns exactly the table's columns and the same statuses again.
//     Prints {"checked": n, "payload_checked": m, "days_checked": k, "mismatches": [...]}.
//
//   node tools/check-status.mjs --decode PAYLOAD.bin
//     {"element_count", "task_count", "base_day"} of a payload, or {"error": message} if
//     decodeFourD refuses it.
//
//   node tools/check-status.mjs --bench PAYLOAD.bin DAY [RUNS]
//     timings (ms, medians) of decodeFourD and of elementStatus over the payload on days
//     around DAY (as when scrubbing), against a bare loop comparing one column
//     (actualFinish <= day): the floor any status computation has to pay.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DATE_COLUMNS, decodeFourD } from '../src/fourd.js';
import { STATUS, dayNumber, elementStatus, isoDate } from '../src/status.js';

const MAX_LISTED = 200;
const SNAKE = {
  plannedStart: 'planned_start',
  plannedFinish: 'planned_finish',
  baselineFinish: 'baseline_finish',
  actualStart: 'actual_start',
  actualFinish: 'actual_finish',
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function check(goldenPath, payloadPath) {
  const golden = JSON.parse(readFileSync(goldenPath, 'utf8'));
  const mismatches = [];
  let mismatchCount = 0;
  const mismatch = (entry) => {
    mismatchCount += 1;
    if (mismatches.length < MAX_LISTED) mismatches.push(entry);
  };

  for (const [name, code] of Object.entries(golden.status_codes)) {
    if (STATUS[name] !== code) mismatch({ what: 'status code', name, expected: code, got: STATUS[name] ?? null });
  }
  if (Object.keys(STATUS).length !== Object.keys(golden.status_codes).length) {
    mismatch({ what: 'status names', expected: Object.keys(golden.status_codes), got: Object.keys(STATUS) });
  }

  const el = golden.elements;
  const n = el.name.length;
  const columns = { taskIndex: Int32Array.from(el.task_index, (t) => (t === null ? -1 : t)) };
  for (const c of DATE_COLUMNS) columns[c] = Float64Array.from(el[SNAKE[c]], (v) => (v === null ? NaN : v));

  let daysChecked = 0;
  for (const { day, iso } of golden.days) {
    daysChecked += 1;
    if (dayNumber(iso) !== day) mismatch({ what: 'dayNumber', iso, expected: day, got: dayNumber(iso) });
    if (isoDate(day) !== iso) mismatch({ what: 'isoDate', day, expected: iso, got: isoDate(day) });
  }

  const out = new Uint8Array(n);
  const statuses = (cols, source) => {
    let checked = 0;
    for (const { day, status } of golden.days) {
      elementStatus(cols, day, out);
      for (let i = 0; i < n; i++) {
        checked += 1;
        if (out[i] !== status[i]) {
          mismatch({ what: 'status', source, element: i, name: el.name[i], day, expected: status[i], got: out[i] });
        }
      }
    }
    return checked;
  };
  const checked = statuses(columns, 'golden columns');

  let payloadChecked = 0;
  if (payloadPath) {
    const bytes = readFileSync(payloadPath);
    const decoded = decodeFourD(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (decoded.elementCount !== n) mismatch({ what: 'payload elementCount', expected: n, got: decoded.elementCount });
    if (decoded.taskCount !== golden.task_count) {
      mismatch({ what: 'payload taskCount', expected: golden.task_count, got: decoded.taskCount });
    }
    for (const c of [...DATE_COLUMNS, 'taskIndex']) {
      for (let i = 0; i < n; i++) {
        const [want, got] = [columns[c][i], decoded[c][i]];
        if (!(want === got || (Number.isNaN(want) && Number.isNaN(got)))) {
          mismatch({ what: 'payload column', column: c, element: i, name: el.name[i], expected: want, got });
        }
      }
    }
    payloadChecked = statuses(decoded, 'decoded payload');
  }
  return {
    checked,
    payload_checked: payloadChecked,
    days_checked: daysChecked,
    mismatch_count: mismatchCount,
    mismatches,
  };
}

function bench(payloadPath, day, runs) {
  const bytes = readFileSync(payloadPath);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const decodeRuns = [];
  let columns;
  for (let r = 0; r < Math.max(20, runs / 10); r++) {
    const t = performance.now();
    columns = decodeFourD(buffer);
    decodeRuns.push(performance.now() - t);
  }
  const n = columns.elementCount;
  const out = new Uint8Array(n);
  // Scrub: a different day each run, over a couple of months around DAY.
  const days = Array.from({ length: runs }, (_, r) => day - 30 + (r % 61));
  const time = (fn) => {
    for (let r = 0; r < 20; r++) fn(days[r % days.length]); // warm up the JIT
    const times = [];
    for (const d of days) {
      const t = performance.now();
      fn(d);
      times.push(performance.now() - t);
    }
    return times;
  };
  const statusRuns = time((d) => elementStatus(columns, d, out));
  const allocatingRuns = time((d) => elementStatus(columns, d));
  const { actualFinish } = columns;
  const baselineRuns = time((d) => {
    for (let i = 0; i < n; i++) out[i] = actualFinish[i] <= d ? 1 : 0;
    return out;
  });
  const ms = (v) => Math.round(v * 1000) / 1000;
  const counts = new Array(Object.keys(STATUS).length).fill(0);
  for (const s of elementStatus(columns, day, out)) counts[s] += 1;
  return {
    elements: n,
    payload_bytes: bytes.byteLength,
    decode_ms: ms(median(decodeRuns)),
    element_status_ms: ms(median(statusRuns)),
    element_status_allocating_ms: ms(median(allocatingRuns)),
    baseline_compare_ms: ms(median(baselineRuns)),
    ratio: ms(median(statusRuns) / median(baselineRuns)),
    runs,
    status_counts_at_day: Object.fromEntries(Object.entries(STATUS).map(([k, v]) => [k, counts[v]])),
    node: process.version,
  };
}

const args = process.argv.slice(2);
if (args[0] === '--decode') {
  const bytes = readFileSync(args[1]);
  let result;
  try {
    const d = decodeFourD(bytes);
    result = { element_count: d.elementCount, task_count: d.taskCount, base_day: d.baseDay };
  } catch (error) {
    result = { error: error.message };
  }
  console.log(JSON.stringify(result));
} else if (args[0] === '--bench') {
  console.log(JSON.stringify(bench(args[1], Number(args[2]), Number(args[3] ?? 200))));
} else if (args.length >= 1) {
  console.log(JSON.stringify(check(args[0], args[1])));
} else {
  console.error('usage: check-status.mjs GOLDEN.json [PAYLOAD.bin] | --decode PAYLOAD.bin | --bench PAYLOAD.bin DAY [RUNS]');
  process.exit(2);
}
