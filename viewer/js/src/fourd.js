// Decode the binary 4D payload written by twin_server/domain/fourd_payload.py.
//
// The layout is documented there (module docstring); in short, little-endian:
//   32-byte header: "E4D1", u16 version = 1, u16 flags (bit 0: task index is u32),
//                   u32 element_count, u32 task_count, i32 base_day, 12 reserved bytes;
//   five u16 date columns (planned_start, planned_finish, baseline_finish, actual_start,
//   actual_finish), value = day − base_day, 0xFFFF = no date;
//   zero padding to a multiple of 4; task_index as u16 (0xFFFF none) or u32 (0xFFFFFFFF none).
//
// Dates come out as Float64Array day numbers (days since 1970-01-01) with NaN for "no
// date", exactly the arrays the Python engine uses: every comparison with NaN is false in
// JavaScript as in numpy, which is what makes elementStatus (status.js) follow the same
// rules without a single special case for missing dates.

const MAGIC = [0x45, 0x34, 0x44, 0x31]; // "E4D1"
const VERSION = 1;
const HEADER_SIZE = 32;
const FLAG_TASK_U32 = 0x1;
const NONE_U16 = 0xffff;
const NONE_U32 = 0xffffffff;

export const DATE_COLUMNS = ['plannedStart', 'plannedFinish', 'baselineFinish', 'actualStart', 'actualFinish'];

// Typed arrays read in the platform's byte order; every browser and Node we run on is
// little-endian, but on a big-endian host we take the (slower) DataView path.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Expected byte length of a payload of n elements. */
function layoutSize(n, wide) {
  const columns = HEADER_SIZE + 2 * DATE_COLUMNS.length * n;
  return columns + ((4 - (columns % 4)) % 4) + n * (wide ? 4 : 2);
}

/**
 * Decode a 4D payload.
 * @param {ArrayBuffer|ArrayBufferView} data the payload (e.g. `await response.arrayBuffer()`)
 * @returns {{elementCount: number, taskCount: number, baseDay: number,
 *   plannedStart: Float64Array, plannedFinish: Float64Array, baselineFinish: Float64Array,
 *   actualStart: Float64Array, actualFinish: Float64Array, taskIndex: Int32Array}}
 *   dates are day numbers with NaN = none; taskIndex is -1 for an element in no task.
 * @throws {Error} on a bad magic, version, flags, length or task index.
 */
export function decodeFourD(data) {
  let buffer, byteOffset, byteLength;
  if (data instanceof ArrayBuffer) {
    [buffer, byteOffset, byteLength] = [data, 0, data.byteLength];
  } else if (ArrayBuffer.isView(data)) {
    [buffer, byteOffset, byteLength] = [data.buffer, data.byteOffset, data.byteLength];
  } else {
    throw new Error('4D payload must be an ArrayBuffer or a typed array');
  }
  if (byteLength < HEADER_SIZE) {
    throw new Error(`4D payload too short: ${byteLength} bytes, the header alone is ${HEADER_SIZE}`);
  }
  const view = new DataView(buffer, byteOffset, byteLength);
  for (let i = 0; i < 4; i++) {
    if (view.getUint8(i) !== MAGIC[i]) throw new Error('not a 4D payload: bad magic (expected "E4D1")');
  }
  const version = view.getUint16(4, true);
  if (version !== VERSION) throw new Error(`4D payload version ${version} is not supported (this reads version 1)`);
  const flags = view.getUint16(6, true);
  if (flags & ~FLAG_TASK_U32) throw new Error(`4D payload has unknown flags 0x${flags.toString(16)}`);
  const wide = (flags & FLAG_TASK_U32) !== 0;
  const n = view.getUint32(8, true);
  const taskCount = view.getUint32(12, true);
  const baseDay = view.getInt32(16, true);
  const expected = layoutSize(n, wide);
  if (byteLength !== expected) {
    throw new Error(`4D payload of ${n} elements must be ${expected} bytes, got ${byteLength} (truncated or corrupt)`);
  }

  // Typed-array views need aligned offsets (2 for the u16 columns, 4 for a u32 index);
  // the layout guarantees that relative to the payload start, so only an unaligned
  // caller-provided view needs copying.
  let base = byteOffset;
  if (LITTLE_ENDIAN && byteOffset % 4 !== 0) {
    buffer = buffer.slice(byteOffset, byteOffset + byteLength);
    base = 0;
  }
  const result = { elementCount: n, taskCount, baseDay };
  for (let c = 0; c < DATE_COLUMNS.length; c++) {
    const start = HEADER_SIZE + 2 * n * c;
    const out = new Float64Array(n);
    if (LITTLE_ENDIAN) {
      const raw = new Uint16Array(buffer, base + start, n);
      for (let i = 0; i < n; i++) {
        const v = raw[i];
        out[i] = v === NONE_U16 ? NaN : v + baseDay;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = view.getUint16(start + 2 * i, true);
        out[i] = v === NONE_U16 ? NaN : v + baseDay;
      }
    }
    result[DATE_COLUMNS[c]] = out;
  }

  const width = wide ? 4 : 2;
  const start = expected - width * n;
  const none = wide ? NONE_U32 : NONE_U16;
  const taskIndex = new Int32Array(n);
  let maxIndex = -1;
  const raw = LITTLE_ENDIAN ? new (wide ? Uint32Array : Uint16Array)(buffer, base + start, n) : null;
  for (let i = 0; i < n; i++) {
    const v = raw ? raw[i] : wide ? view.getUint32(start + 4 * i, true) : view.getUint16(start + 2 * i, true);
    const t = v === none ? -1 : v;
    taskIndex[i] = t;
    if (t > maxIndex) maxIndex = t;
  }
  // An index ≥ 2**31 (beyond any real schedule) would not fit Int32Array: refuse it too.
  if (maxIndex >= taskCount || maxIndex > 0x7fffffff) {
    throw new Error(`4D payload has a task index ${maxIndex} ≥ its task count ${taskCount}`);
  }
  result.taskIndex = taskIndex;
  return result;
}
