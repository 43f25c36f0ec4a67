/**
 * How far the session is, for the session screen: each program's delivered
 * time against its plan (from the engine's one accounting, DeliveredTracker)
 * and an estimate of the session time still to run.
 */
import type { DeliveredTracker } from '../engine/delivered.js';
import type { RunEvent } from '../engine/events.js';
import { modalityOf, modalityOfDelivered } from '../modalities/index.js';
import type { Plan, PlannedProgram } from '../protocol/index.js';

export interface ProgramProgress {
  program: number;
  modality: string;
  phase: string;
  doneMs: number;
  plannedMs: number;
}

export interface Progress {
  type: 'progress';
  /** Session time (board clock) these figures are good to. */
  t: number;
  step: number;
  /** Session time still to run if nothing else halts it (ms). */
  remainingMs: number;
  programs: ProgramProgress[];
}

/** Time the program still has to run; its modality's descriptor knows its phases (phase null: not started). */
function programRemaining(p: PlannedProgram, phase: string | null, doneMs: number, inPhaseMs: number): number {
  if (phase === 'done' || phase === 'cut') return 0;
  return modalityOf(p).remainingMs(p, phase, doneMs, inPhaseMs);
}

export function remaining(plan: Plan, tracker: DeliveredTracker, events: readonly RunEvent[], _paused: boolean): Progress {
  const t = tracker.asOfT;
  let step = 0;
  let promptAt: number | null = null;
  const phases = new Map<number, { phase: string; t: number }>();
  for (const e of events) {
    if (e.type === 'action' && e.kind === 'step' && typeof e['step'] === 'number') {
      step = e['step'];
      promptAt = null;
    }
    // A prompt step has no step action (it starts no program): its phase event names the step.
    if (e.type === 'phase' && e.modality === 'prompt') {
      promptAt = e.t;
      if (typeof e['step'] === 'number') step = e['step'];
    } else if (e.type === 'phase') phases.set(e.program, { phase: e.phase, t: e.t });
  }
  const delivered = new Map(tracker.snapshot().map((d) => [d.program, d]));
  const programs: ProgramProgress[] = [];
  let currentLeft = 0;
  for (const s of plan.steps) {
    for (const p of s.programs) {
      const d = delivered.get(p.programIndex);
      // the bar counts what the record counts: TENS plateau, coupled sonation, thermal time at target
      const doneMs = d ? modalityOfDelivered(d).progressMs(d) : 0;
      const plannedMs = modalityOf(p).plannedProgressMs(p);
      const ph = phases.get(p.programIndex);
      const phase = ph?.phase ?? (s.index < step ? 'done' : 'waiting');
      programs.push({ program: p.programIndex, modality: p.modality, phase, doneMs: Math.min(doneMs, plannedMs), plannedMs });
      if (s.index === step) currentLeft = Math.max(currentLeft, programRemaining(p, ph ? ph.phase : null, doneMs, ph ? t - ph.t : 0));
    }
    if (s.index === step && s.prompt) currentLeft = Math.max(0, s.prompt.durationMs - (promptAt === null ? 0 : t - promptAt));
  }
  const later = plan.steps.filter((s) => s.index > step).reduce((sum, s) => sum + s.plannedMs, 0);
  return { type: 'progress', t, step, remainingMs: Math.round(currentLeft + later), programs };
}
