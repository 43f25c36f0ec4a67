/** A plan in words, for the detail and start screens: each program's lines are its descriptor's (src/modalities/<name>.ts, `cart.planLines`). */
import { modalityOf } from '../../modalities/index.js';
import type { PlannedProgram, PlanStep } from '../../protocol/index.js';
import { M, duration, fmt, num } from './format.js';

/** What the descriptors format the cart's text with: the browser's catalogue and the cart's number and duration formats. */
export const CART_TEXT = { M, duration, num };

export function programLines(p: PlannedProgram): string[] {
  return modalityOf(p).cart.planLines(p, CART_TEXT);
}

export function stepLines(s: PlanStep): string[] {
  if (s.prompt) return [fmt(M.detail.prompt, { text: s.prompt.text, time: duration(s.prompt.durationMs) })];
  return s.programs.flatMap(programLines);
}
