// The 4D status rules in the browser: where each element stands on a given day.
//
// This is twin_server/domain/fourd.py (`_status`, via `element_status`) rule for rule; the
// golden table tests/golden/fourd_status.json, generated from the Python engine, holds both
// to the same answers (tests/twin_server/domain/test_fourd_golden.py runs
// tools/check-status.mjs over it). Change a rule there, regenerate the table, and this file
// must follow.
//
// Days are day numbers (whole days since 1970-01-01), dates are Float64Array columns with
// NaN for "no date" (as decodeFourD in fourd.js returns them). Every comparison with NaN
// is false in JavaScript as in numpy, and that *is* the rule for a missing date: a missing
// finish is never reached, a missing baseline never makes anything late, a missing start
// never makes anything started. A date is reached at the end of that day: "done" is
// actualFinish <= day, "late" is baselineFinish < day.

/** Status codes, equal to twin_server.domain.fourd.Status (they travel as bytes). */
export const STATUS = Object.freeze({
  NO_TASK: 0,
  NOT_STARTED: 1,
  IN_PROGRESS: 2,
  DONE: 3,
  LATE: 4,
  AHEAD: 5,
});

const MS_PER_DAY = 86_400_000;

/**
 * Status (a STATUS code) of every element on day number `day`.
 *
 * It runs on every frame while the user scrubs the timeline over ~100k elements, so it is
 * one loop with no allocation when `out` is given (pass the same Uint8Array every time).
 *
 * The Python engine writes its rules as masks applied in order, each overriding the ones
 * before (in progress, ahead-by-start, late, done, ahead-by-finish, no task); the branches
 * below are the same order read backwards, so the first that applies is the one that
 * would have been written last:
 *   no task                 taskIndex < 0 (wins over everything, even an installed mark);
 *   done                    actualFinish <= day — AHEAD instead while day < baselineFinish
 *                           (finished before it was due; DONE once the due day has passed);
 *   late                    not done and baselineFinish < day (it should be done by now),
 *                           even if it started early;
 *   started, not done       actualStart <= day — AHEAD while day < plannedStart (started
 *                           before its planned start), else IN_PROGRESS;
 *   otherwise               NOT_STARTED.
 * `done` implies `started` in Python (`started = actual_start <= day | done`): here the
 * done branch comes first, so the started branch only ever sees unfinished elements.
 *
 * @param {{plannedStart: Float64Array, baselineFinish: Float64Array, actualStart: Float64Array,
 *   actualFinish: Float64Array, taskIndex: Int32Array}} columns e.g. decodeFourD(...)
 * @param {number} day a day number
 * @param {Uint8Array} [out] reused output (at least as long as the columns)
 * @returns {Uint8Array} `out` (or a new array) with one STATUS code per element
 */
export function elementStatus(columns, day, out) {
  const { plannedStart, baselineFinish, actualStart, actualFinish, taskIndex } = columns;
  const n = taskIndex.length;
  if (out === undefined) out = new Uint8Array(n);
  else if (out.length < n) throw new Error(`elementStatus: out has ${out.length} slots for ${n} elements`);
  for (let i = 0; i < n; i++) {
    let s;
    if (taskIndex[i] < 0) s = 0; // NO_TASK
    else if (actualFinish[i] <= day) s = day < baselineFinish[i] ? 5 /* AHEAD */ : 3; /* DONE */
    else if (baselineFinish[i] < day) s = 4; // LATE
    else if (actualStart[i] <= day) s = day < plannedStart[i] ? 5 /* AHEAD */ : 2; /* IN_PROGRESS */
    else s = 1; // NOT_STARTED
    out[i] = s;
  }
  return out;
}

/**
 * Day number of an ISO date "YYYY-MM-DD" (anything after the date, e.g. "T08:00:00+08:00",
 * is ignored: the calendar date as written counts, as Python's day_number(datetime) takes
 * .date() without converting time zones). NaN for null, undefined or "" (no date).
 * dayNumber("1970-01-02") === 1.
 * @throws {Error} for anything else that is not a valid date.
 */
export function dayNumber(iso) {
  if (iso === null || iso === undefined || iso === '') return NaN;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])/.exec(iso);
  if (m === null) throw new Error(`not an ISO date: ${JSON.stringify(iso)}`);
  const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999. UTC throughout,
  // so the user's time zone can never shift a date by one day.
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, date);
  if (t.getUTCFullYear() !== year || t.getUTCMonth() !== month - 1 || t.getUTCDate() !== date) {
    throw new Error(`not a valid date: ${JSON.stringify(iso)}`);
  }
  return t.getTime() / MS_PER_DAY;
}

/** ISO date "YYYY-MM-DD" of a day number; null for NaN (no date). isoDate(1) === "1970-01-02". */
export function isoDate(day) {
  if (Number.isNaN(day)) return null;
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}
