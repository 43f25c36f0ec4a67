/**
 * Delivered values, rebuilt from the RunEvent stream alone: the one place they
 * are computed. The Recorder feeds it every event it emits (and every
 * telemetry sample); the treatment record feeds it the same stream, so a
 * record of a session cut short says what was delivered up to the last
 * telemetry, by the same rules as the summary.
 *
 * Rules: the output profile of each program is rebuilt from the board's own
 * APPLIED/RAMP reports, on the board's clock; phase times come from the board
 * times the machines reported; a cut the board made on its own (an APPLIED_OFF
 * with a cause: stop input, lease, over-temperature) ends the phase there; a
 * snapshot counts the phase still running up to the last board time heard.
 */
import type { OutputName } from '../drivers/board.js';
import type { Delivered, RunEvent } from './events.js';
import { type DeliveredAcc, modalityOf } from '../modalities/index.js';
import type { Plan, PlannedProgram } from '../protocol/index.js';
import { type Segment, valueAt } from '../util/ramp.js';

interface Acc extends DeliveredAcc {
  program: PlannedProgram;
  output: OutputName;
  segment: Segment | null;
  integratedTo: number;
  integralMs: number;
  onMs: number;
  peak: number;
  phaseMs: Record<string, number>;
  lastPhase: { name: string; boardMs: number } | null;
  completedPhases: string[];
  maxC: number | null;
  minC: number | null;
  active: boolean;
  done: boolean;
}

export class DeliveredTracker {
  private readonly programs = new Map<number, Acc>();
  private readonly byOutput = new Map<OutputName, Acc>();
  private startBoardMs = 0;
  /** Latest board time seen in any event. */
  lastBoardMs = 0;

  constructor(private readonly plan: Plan) {
    for (const step of plan.steps)
      for (const p of step.programs) {
        this.programs.set(p.programIndex, {
          program: p,
          output: modalityOf(p).output(p),
          segment: null,
          integratedTo: -Infinity,
          integralMs: 0,
          onMs: 0,
          peak: 0,
          phaseMs: {},
          lastPhase: null,
          completedPhases: [],
          maxC: null,
          minC: null,
          active: false,
          done: false,
        });
      }
  }

  /** Session time (ms from the session start) the snapshot is good to. */
  get asOfT(): number {
    return Math.max(0, Math.round(this.lastBoardMs - this.startBoardMs));
  }

  add(e: RunEvent): void {
    if ('boardMs' in e && typeof e.boardMs === 'number') this.lastBoardMs = Math.max(this.lastBoardMs, e.boardMs);
    switch (e.type) {
      case 'session':
        this.startBoardMs = e.boardMs;
        this.lastBoardMs = e.boardMs;
        return;
      case 'action':
        if (e.kind === 'step' && typeof e['step'] === 'number') {
          for (const p of this.plan.steps[e['step']]?.programs ?? []) {
            const acc = this.programs.get(p.programIndex);
            if (acc && !acc.active && !acc.done) {
              acc.active = true;
              this.byOutput.set(acc.output, acc);
            }
          }
        }
        return;
      case 'applied': {
        const acc = this.byOutput.get(e.output);
        if (!acc?.active) return;
        this.integrate(acc, e.boardMs);
        const present = acc.segment ? valueAt(acc.segment, e.boardMs) : 0;
        acc.segment =
          e.action === 'ramp'
            ? { t0: e.boardMs, from: present, to: e.value, durationMs: e.durationMs ?? 0 }
            : { t0: e.boardMs, from: e.value, to: e.value, durationMs: 0 };
        acc.peak = Math.max(acc.peak, e.value);
        // The board cut the output on its own: whatever the program was delivering ended
        // there, whether or not the program lives on to say so.
        if (e.action === 'off' && e.cause) this.closePhase(acc, e.boardMs, 'cut');
        return;
      }
      case 'phase': {
        const acc = this.programs.get(e.program);
        if (!acc) return;
        this.closePhase(acc, e.boardMs, e.phase);
        if (e.phase === 'done') {
          this.integrate(acc, e.boardMs);
          acc.segment = acc.segment ? { t0: e.boardMs, from: 0, to: 0, durationMs: 0 } : null;
          acc.active = false;
          acc.done = true;
          if (this.byOutput.get(acc.output) === acc) this.byOutput.delete(acc.output);
        }
        return;
      }
      case 'telemetry':
        // what a running program's modality gathers from its output's reading (the pad's extremes)
        for (const [output, acc] of this.byOutput) {
          const reading = e.outputs[output];
          if (acc.active && reading) modalityOf(acc.program).telemetry?.(acc, reading);
        }
        return;
      default:
        return;
    }
  }

  /** End the program's current phase at board time t and begin `next`. */
  private closePhase(acc: Acc, t: number, next: string): void {
    if (acc.lastPhase) {
      acc.phaseMs[acc.lastPhase.name] = (acc.phaseMs[acc.lastPhase.name] ?? 0) + Math.max(0, t - acc.lastPhase.boardMs);
      if (acc.lastPhase.name !== 'cut') acc.completedPhases.push(acc.lastPhase.name);
    }
    acc.lastPhase = { name: next, boardMs: Math.max(t, acc.lastPhase?.boardMs ?? t) };
  }

  private integrate(acc: Acc, t: number): void {
    const s = acc.segment;
    if (!s) return;
    const from = Math.max(s.t0, acc.integratedTo);
    if (t <= from) return;
    const bend = s.t0 + s.durationMs;
    const pieces: [number, number][] =
      bend > from && bend < t
        ? [
            [from, bend],
            [bend, t],
          ]
        : [[from, t]];
    for (const [a, b] of pieces) {
      const va = valueAt(s, a),
        vb = valueAt(s, b);
      acc.integralMs += ((va + vb) / 2) * (b - a);
      if (va > 0 || vb > 0) acc.onMs += b - a;
    }
    acc.integratedTo = t;
  }

  /** Delivered values up to the latest board time seen, counting the phase still running. */
  snapshot(): Delivered[] {
    const list: Delivered[] = [];
    const now = this.lastBoardMs;
    for (const acc of [...this.programs.values()].sort((a, b) => a.program.programIndex - b.program.programIndex)) {
      if (acc.active) this.integrate(acc, now);
      const ph: Record<string, number> = { ...acc.phaseMs };
      if (acc.lastPhase && acc.lastPhase.name !== 'done' && acc.lastPhase.name !== 'cut')
        ph[acc.lastPhase.name] = (ph[acc.lastPhase.name] ?? 0) + Math.max(0, now - acc.lastPhase.boardMs);
      list.push(modalityOf(acc.program).delivered(acc.program, { ...acc, phaseMs: ph }) as Delivered);
    }
    return list;
  }
}
