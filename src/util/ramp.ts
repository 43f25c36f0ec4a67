/**
 * One piece of an output's profile as the board reported it: from `from` at
 * board time t0 to `to` over durationMs (0: a step), then holding `to`. Pure;
 * the machines and the delivered accounting interpolate through it.
 */
export interface Segment {
  t0: number;
  from: number;
  to: number;
  durationMs: number;
}

/** The segment's value at board time t: linear during the ramp, `from` before it, `to` after. */
export function valueAt(s: Segment, t: number): number {
  if (s.durationMs <= 0 || t >= s.t0 + s.durationMs) return s.to;
  if (t <= s.t0) return s.from;
  return s.from + ((s.to - s.from) * (t - s.t0)) / s.durationMs;
}
