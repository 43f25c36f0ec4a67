/**
 * The session recorder: turns the machines' phase reports and the board's own
 * events into the event stream (JSON lines) and the delivered values. Delivered
 * values come from what the board reported it applied, on its own clock: the
 * output profile of each program is rebuilt from the board's APPLIED/RAMP
 * events, and phase times from the board times the machines reported.
 */
import type { Board, BoardEvent, BoardInfo, LinkCounters, OutputName, Telemetry } from '../drivers/board.js';
import type { PhaseReport, SessionReporter } from '../machines/common.js';
import type { Plan, PlannedProgram } from '../protocol/index.js';

export type RunEvent =
  | { type: 'session'; t: 0; boardMs: number; protocol: string; name: string; hash: string; plannedMs: number; board: BoardInfo }
  | { type: 'phase'; t: number; boardMs: number; program: number; modality: string; phase: string; [k: string]: unknown }
  | { type: 'applied'; t: number; boardMs: number; output: OutputName; action: 'set' | 'ramp' | 'off'; value: number; durationMs?: number; cause?: string }
  | { type: 'fault'; t: number; boardMs: number; code: string; source: 'board' | 'host'; output?: string; message?: string }
  | { type: 'faultCleared'; t: number; boardMs: number; output: string }
  | { type: 'action'; t: number; boardMs: number; kind: string; [k: string]: unknown }
  | { type: 'telemetry'; t: number; boardMs: number; tensMa: [number, number]; usWPerCm2: number; padC: number; padTargetC: number | null; headC: number; coupled: boolean; stopInput: boolean; electrodeOhm: [number | null, number | null]; faults: string[] }
  | { type: 'link'; t: number; message: string }
  | Summary;

export type Delivered =
  | { modality: 'tens'; program: number; channel: number; stimulationMs: number; plateauMs: number; peakMa: number; planned: { plateauMs: number; amplitudeMa: number } }
  | { modality: 'ultrasound'; program: number; energyJ: number; doseJPerCm2: number; coupledMs: number; uncoupledMs: number; planned: { energyJ: number; doseJPerCm2: number; durationMs: number } }
  | { modality: 'thermal'; program: number; hotMs: number; coldMs: number; cycles: number; maxC: number | null; minC: number | null; planned: { hotMs: number; coldMs: number; cycles: number } };

export interface Summary {
  type: 'summary';
  outcome: 'completed' | 'stopped' | 'faulted';
  protocol: string;
  hash: string;
  board: { kind: string; firmware: string; timing: string };
  elapsedMs: number;
  plannedMs: number;
  delivered: Delivered[];
  faults: { code: string; t: number; boardMs: number; source: 'board' | 'host'; output?: string; message?: string }[];
  link: LinkCounters;
  stopReason?: string;
}

interface Segment { t0: number; from: number; to: number; durationMs: number }

interface ProgramAcc {
  program: PlannedProgram;
  output: OutputName;
  segment: Segment | null;
  integralMs: number; // ∫ value dt (value units × ms)
  onMs: number;
  peak: number;
  phaseMs: Record<string, number>;
  lastPhase: { name: string; boardMs: number } | null;
  completedPhases: string[];
  maxC: number | null;
  minC: number | null;
  active: boolean;
}

function outputOf(p: PlannedProgram): OutputName {
  if (p.modality === 'tens') return p.channel === 2 ? 'tens2' : 'tens1';
  return p.modality === 'ultrasound' ? 'ultrasound' : 'pad';
}

const valueAt = (s: Segment, t: number) =>
  s.durationMs <= 0 || t >= s.t0 + s.durationMs ? s.to : t <= s.t0 ? s.from : s.from + ((s.to - s.from) * (t - s.t0)) / s.durationMs;

export interface RecorderOptions {
  /** Telemetry lines in the event stream at most this often (board ms). */
  telemetryEveryMs?: number;
}

export class Recorder implements SessionReporter {
  startBoardMs = 0;
  private readonly programs = new Map<number, ProgramAcc>();
  private readonly byOutput = new Map<OutputName, ProgramAcc>();
  private readonly faults: Summary['faults'] = [];
  private lastTelemetryMs = -Infinity;
  private lastBoardMs = 0;
  private readonly listeners: ((e: RunEvent) => void)[] = [];
  private readonly telemetryEveryMs: number;
  lastTelemetry: Telemetry | null = null;

  constructor(private readonly plan: Plan, private readonly board: Board, opts: RecorderOptions = {}) {
    this.telemetryEveryMs = opts.telemetryEveryMs ?? 1000;
    for (const step of plan.steps) for (const p of step.programs) {
      this.programs.set(p.programIndex, {
        program: p, output: outputOf(p), segment: null, integralMs: 0, onMs: 0, peak: 0,
        phaseMs: {}, lastPhase: null, completedPhases: [], maxC: null, minC: null, active: false,
      });
    }
    board.subscribe((e) => this.onBoard(e));
  }

  onEvent(listener: (e: RunEvent) => void): void {
    this.listeners.push(listener);
  }

  private out(e: RunEvent): void {
    for (const l of this.listeners) l(e);
  }

  private t(boardMs: number): number {
    return Math.max(0, Math.round(boardMs - this.startBoardMs));
  }

  start(): void {
    this.startBoardMs = this.board.boardNow();
    this.lastBoardMs = this.startBoardMs;
    const i = this.board.info;
    this.out({ type: 'session', t: 0, boardMs: this.startBoardMs, protocol: this.plan.protocol.id, name: this.plan.protocol.name, hash: this.plan.hash, plannedMs: this.plan.totalMs, board: i });
  }

  // ---------------------------------------------------------------- SessionReporter

  phase(p: PhaseReport): void {
    this.lastBoardMs = Math.max(this.lastBoardMs, p.boardMs);
    const acc = this.programs.get(p.programIndex);
    if (acc) {
      this.closePhase(acc, p.boardMs, p.phase);
      if (p.phase === 'done') this.finishProgram(acc, p.boardMs);
    }
    this.out({ type: 'phase', t: this.t(p.boardMs), boardMs: p.boardMs, program: p.programIndex, modality: p.modality, phase: p.phase, ...(p.detail ?? {}) });
  }

  note(kind: string, boardMs: number, detail?: Record<string, unknown>): void {
    // A step starts: its programs own their outputs from now on, so every board report counts.
    if (kind === 'step' && typeof detail?.['step'] === 'number') {
      for (const p of this.plan.steps[detail['step']]?.programs ?? []) {
        const acc = this.programs.get(p.programIndex);
        if (acc && !acc.active) { acc.active = true; this.byOutput.set(acc.output, acc); }
      }
    }
    this.out({ type: 'action', t: this.t(boardMs), boardMs, kind, ...(detail ?? {}) });
  }

  hostFault(code: string, boardMs: number, message: string): void {
    const f = { code, t: this.t(boardMs), boardMs, source: 'host' as const, message };
    this.faults.push(f);
    this.out({ type: 'fault', ...f });
  }

  // ---------------------------------------------------------------- board events

  private onBoard(e: BoardEvent): void {
    switch (e.type) {
      case 'applied': {
        this.lastBoardMs = Math.max(this.lastBoardMs, e.boardMs);
        const acc = this.byOutput.get(e.output);
        if (acc?.active) {
          this.apply(acc, e);
          // The board cut the output on its own (stop input, lease, over-temperature...): whatever
          // the program was delivering ended at the board's time for the cut, whether or not the
          // program lives on to say so.
          if (e.action === 'off' && e.cause) this.closePhase(acc, e.boardMs, 'cut');
        }
        this.out({ type: 'applied', t: this.t(e.boardMs), boardMs: e.boardMs, output: e.output, action: e.action, value: e.value, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}), ...(e.cause ? { cause: e.cause } : {}) });
        return;
      }
      case 'fault': {
        const f = { code: e.code, t: this.t(e.boardMs), boardMs: e.boardMs, source: 'board' as const, output: e.output };
        this.faults.push(f);
        this.out({ type: 'fault', ...f });
        return;
      }
      case 'faultCleared':
        this.out({ type: 'faultCleared', t: this.t(e.boardMs), boardMs: e.boardMs, output: e.output });
        return;
      case 'telemetry': {
        const tm = e.telemetry;
        this.lastTelemetry = tm;
        this.lastBoardMs = Math.max(this.lastBoardMs, tm.boardMs);
        const pad = this.byOutput.get('pad');
        if (pad?.active && tm.padTargetC !== null) {
          pad.maxC = pad.maxC === null ? tm.padC : Math.max(pad.maxC, tm.padC);
          pad.minC = pad.minC === null ? tm.padC : Math.min(pad.minC, tm.padC);
        }
        if (tm.boardMs - this.lastTelemetryMs >= this.telemetryEveryMs) {
          this.lastTelemetryMs = tm.boardMs;
          this.out({ type: 'telemetry', t: this.t(tm.boardMs), boardMs: tm.boardMs, tensMa: tm.tensMa, usWPerCm2: tm.usWPerCm2, padC: tm.padC, padTargetC: tm.padTargetC, headC: tm.headC, coupled: tm.coupled, stopInput: tm.stopInput, electrodeOhm: tm.electrodeOhm, faults: tm.faults });
        }
        return;
      }
      case 'linkLost':
        this.out({ type: 'link', t: this.t(this.board.boardNow()), message: e.reason });
        return;
      default:
        return;
    }
  }

  /** End the program's current phase at board time t and begin `next`. */
  private closePhase(acc: ProgramAcc, t: number, next: string): void {
    if (acc.lastPhase) {
      const d = Math.max(0, t - acc.lastPhase.boardMs);
      acc.phaseMs[acc.lastPhase.name] = (acc.phaseMs[acc.lastPhase.name] ?? 0) + d;
      if (acc.lastPhase.name !== 'cut') acc.completedPhases.push(acc.lastPhase.name);
    }
    acc.lastPhase = { name: next, boardMs: Math.max(t, acc.lastPhase?.boardMs ?? t) };
  }

  private apply(acc: ProgramAcc, e: Extract<BoardEvent, { type: 'applied' }>): void {
    this.integrate(acc, e.boardMs);
    const present = acc.segment ? valueAt(acc.segment, e.boardMs) : 0;
    acc.segment = e.action === 'ramp'
      ? { t0: e.boardMs, from: present, to: e.value, durationMs: e.durationMs ?? 0 }
      : { t0: e.boardMs, from: e.value, to: e.value, durationMs: 0 };
    acc.peak = Math.max(acc.peak, e.value);
  }

  /** Integrate an output profile up to board time t (exact for linear ramps). */
  private integrate(acc: ProgramAcc, t: number): void {
    const s = acc.segment;
    if (!s) return;
    const from = Math.max(s.t0, this.integratedTo(acc));
    if (t <= from) return;
    const bend = s.t0 + s.durationMs;
    const pieces: [number, number][] = bend > from && bend < t ? [[from, bend], [bend, t]] : [[from, t]];
    for (const [a, b] of pieces) {
      const va = valueAt(s, a), vb = valueAt(s, b);
      acc.integralMs += ((va + vb) / 2) * (b - a);
      if (va > 0 || vb > 0) acc.onMs += b - a;
    }
    this.integrated.set(acc, t);
  }

  private readonly integrated = new Map<ProgramAcc, number>();
  private integratedTo(acc: ProgramAcc): number {
    return this.integrated.get(acc) ?? -Infinity;
  }

  private finishProgram(acc: ProgramAcc, boardMs: number): void {
    this.integrate(acc, boardMs);
    acc.segment = acc.segment ? { t0: boardMs, from: 0, to: 0, durationMs: 0 } : null;
    acc.active = false;
    if (this.byOutput.get(acc.output) === acc) this.byOutput.delete(acc.output);
  }

  // ---------------------------------------------------------------- summary

  delivered(): Delivered[] {
    const list: Delivered[] = [];
    for (const acc of [...this.programs.values()].sort((a, b) => a.program.programIndex - b.program.programIndex)) {
      if (acc.active) {
        // A session that ended with a program still running (killed, link lost): count up to the
        // last board time heard, without closing the phase for good.
        this.integrate(acc, this.lastBoardMs);
        if (acc.lastPhase && acc.lastPhase.name !== 'done' && acc.lastPhase.name !== 'cut') {
          const open = Math.max(0, this.lastBoardMs - acc.lastPhase.boardMs);
          const saved = acc.phaseMs[acc.lastPhase.name] ?? 0;
          acc.phaseMs[acc.lastPhase.name] = saved + open;
          const d = this.deliveredOf(acc);
          acc.phaseMs[acc.lastPhase.name] = saved;
          list.push(d);
          continue;
        }
      }
      list.push(this.deliveredOf(acc));
    }
    return list;
  }

  private deliveredOf(acc: ProgramAcc): Delivered {
    const p = acc.program;
    const ph = acc.phaseMs;
    if (p.modality === 'tens') {
      return { modality: 'tens', program: p.programIndex, channel: p.channel, stimulationMs: Math.round(acc.onMs), plateauMs: Math.round(ph['plateau'] ?? 0), peakMa: round(acc.peak, 1), planned: { plateauMs: p.plateauMs, amplitudeMa: p.amplitudeMa } };
    } else if (p.modality === 'ultrasound') {
      const energyJ = (acc.integralMs / 1000) * (p.dutyCyclePct / 100) * p.eraCm2;
      return { modality: 'ultrasound', program: p.programIndex, energyJ: round(energyJ, 3), doseJPerCm2: round(energyJ / p.areaCm2, 4), coupledMs: Math.round(acc.onMs), uncoupledMs: Math.round(ph['uncoupled'] ?? 0), planned: { energyJ: round(p.energyJ, 3), doseJPerCm2: round(p.doseJPerCm2, 4), durationMs: p.durationMs } };
    } else {
      const completedCold = acc.completedPhases.filter((n) => n === 'cold').length;
      const completedHot = acc.completedPhases.filter((n) => n === 'hot').length;
      const cycles = p.mode === 'contrast' ? Math.min(completedHot, completedCold) : completedHot + completedCold;
      const plannedHot = p.phases.filter((x) => x.kind === 'hot').reduce((s, x) => s + x.durationMs, 0);
      const plannedCold = p.phases.filter((x) => x.kind === 'cold').reduce((s, x) => s + x.durationMs, 0);
      return { modality: 'thermal', program: p.programIndex, hotMs: Math.round(ph['hot'] ?? 0), coldMs: Math.round(ph['cold'] ?? 0), cycles, maxC: acc.maxC, minC: acc.minC, planned: { hotMs: plannedHot, coldMs: plannedCold, cycles: p.mode === 'contrast' ? (p.cycles ?? 0) : p.phases.length } };
    }
  }

  summary(outcome: Summary['outcome'], endBoardMs: number, link: LinkCounters, stopReason?: string | null): Summary {
    const i = this.board.info;
    return {
      type: 'summary',
      outcome,
      protocol: this.plan.protocol.id,
      hash: this.plan.hash,
      board: { kind: i.kind, firmware: i.firmware, timing: i.timing },
      elapsedMs: this.t(endBoardMs),
      plannedMs: this.plan.totalMs,
      delivered: this.delivered(),
      faults: [...this.faults],
      link,
      ...(stopReason ? { stopReason } : {}),
    };
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
