/**
 * The one time formatter of modality: the CLI, the live panel, the records
 * (history, report, export) and `show` all print times through it.
 *
 * A duration is rounded ONCE, to tenths of a second, and only then split into
 * hours, minutes and seconds, so 59.998 s prints as 1:00 (never 0:60.0) and
 * 3599.9995 s as 1:00:00. Whole seconds drop the fraction.
 *
 * Pure: imports nothing, so src/records and src/cli can both use it without
 * records depending on the CLI.
 */

/** A negative, infinite or NaN duration: a defect in the caller, not something to print. */
export class TimeFormatError extends RangeError {}

/** 1234567 ms → "20:34.6", 60000 → "1:00", 3600000 → "1:00:00". Refuses negative and non-finite durations. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) throw new TimeFormatError(`not a duration: ${ms} ms`);
  if (ms < 0) throw new TimeFormatError(`a duration cannot be negative: ${ms} ms`);
  const tenths = Math.round(ms / 100);
  const h = Math.floor(tenths / 36_000);
  const m = Math.floor((tenths % 36_000) / 600);
  const t = tenths % 600; // tenths of a second within the minute
  const whole = Math.floor(t / 10);
  const frac = t % 10;
  const sec = `${String(whole).padStart(2, '0')}${frac ? `.${frac}` : ''}`;
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * A time on the session clock, which can be before the session's zero (a fault
 * the board had latched before the start): "-0:01.5". Durations use formatMs.
 */
export function formatSessionTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new TimeFormatError(`not a time: ${ms} ms`);
  // Round first, so -0.04 s prints as 0:00, not -0:00.
  const tenths = Math.round(ms / 100);
  return tenths < 0 ? `-${formatMs(-tenths * 100)}` : formatMs(tenths * 100);
}
