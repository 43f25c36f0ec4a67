/**
 * One TENS program on one channel: ramp up, plateau, ramp down, all scheduled
 * on the board clock as two RAMP commands. Phases advance on the board's own
 * reports of what it applied. Lead-off and pause halt the plateau timer; on
 * resume the channel re-ramps from zero and the remaining plateau is delivered,
 * so the delivered plateau equals the plan.
 */
import { assign, sendParent, setup } from 'xstate';
import type { Board, OutputName } from '../drivers/board.js';
import type { PlannedTens } from '../protocol/index.js';
import { tensCurrentDensityMaPerCm2 } from '../protocol/dose.js';
import { ABSOLUTE_LIMITS, HIGH_CURRENT_DENSITY_ACK } from '../protocol/limits.js';
import { type Segment, valueAt } from '../util/ramp.js';
import { boardListener, MAX_HALT_MS, WATCHDOG_SLACK_MS, type BoardMsg, type ProgramControlEvent, type SessionReporter } from './common.js';

export interface TensInput {
  board: Board;
  reporter: SessionReporter;
  program: PlannedTens;
  /** Device-profile ceiling for amplitude, mA (the board's own is in board.info). */
  profileMaxMa?: number;
}

export interface TensContext {
  board: Board;
  reporter: SessionReporter;
  program: PlannedTens;
  output: 'tens1' | 'tens2';
  amplitudeMa: number;
  maxMa: number;
  plateauDoneMs: number;
  plateauStartMs: number | null;
  /** Board time at which the queued ramp-down starts. */
  rampDownAtMs: number | null;
  /** Last profile segment the board reported, to know the present amplitude. */
  segment: Segment;
  /** Board times decided by an assign and sent by the action after it (side effects never run inside assign). */
  runStartMs: number;
  pauseAtMs: number;
  pendingAdjust: { atMs: number; fromMa: number; toMa: number; durationMs: number } | null;
  /** An adjustment planAdjust turned down, for sendAdjust to note. */
  refusedAdjust: { kind: 'adjust-clamped' | 'adjust-too-late'; atMs: number; detail: Record<string, unknown> } | null;
}

type Ev = BoardMsg | ProgramControlEvent;

/** Highest amplitude this program may be adjusted to: board, profile and current-density limits. */
export function tensMaxMa(program: PlannedTens, board: Board, profileMaxMa = Infinity): number {
  const acknowledged = program.acknowledge?.includes(HIGH_CURRENT_DENSITY_ACK) ?? false;
  const densityLimit = acknowledged ? board.info.maxTensDensityAckMaPerCm2 : ABSOLUTE_LIMITS.tens.maxCurrentDensityMaPerCm2;
  const densityPerMa = tensCurrentDensityMaPerCm2({ ...program, amplitudeMa: 1 });
  const byDensity = Math.floor((densityLimit / densityPerMa) * 10) / 10;
  return Math.max(program.amplitudeMa, Math.min(board.info.maxTensMa, profileMaxMa, ABSOLUTE_LIMITS.tens.maxAmplitudeMa, byDensity));
}

const isMine = (ctx: TensContext, o: OutputName | 'all' | null) => o === ctx.output || o === 'all';

export const tensMachine = setup({
  types: {} as { context: TensContext; events: Ev; input: TensInput },
  actors: { boardListener },
  delays: {
    rampUpWatch: ({ context: c }) => Math.max(0, c.runStartMs - c.board.boardNow()) + c.program.rampUpMs + WATCHDOG_SLACK_MS,
    plateauWatch: ({ context: c }) => Math.max(0, (c.rampDownAtMs ?? 0) - c.board.boardNow()) + WATCHDOG_SLACK_MS,
    rampDownWatch: ({ context: c }) => c.program.rampDownMs + WATCHDOG_SLACK_MS,
    haltLimit: MAX_HALT_MS,
  },
  guards: {
    rampUpStarted: ({ context, event }) =>
      event.type === 'BOARD' && event.e.type === 'applied' && event.e.output === context.output && event.e.action === 'ramp' && event.e.value > 0,
    reachedPlateau: ({ context, event }) =>
      event.type === 'BOARD' && event.e.type === 'applied' && event.e.output === context.output && event.e.action === 'set' && event.e.value > 0,
    rampDownStarted: ({ context, event }) =>
      event.type === 'BOARD' && event.e.type === 'applied' && event.e.output === context.output && event.e.action === 'ramp' && event.e.value === 0,
    reachedZero: ({ context, event }) =>
      event.type === 'BOARD' &&
      event.e.type === 'applied' &&
      event.e.output === context.output &&
      (event.e.action === 'set' || event.e.action === 'off') &&
      event.e.value === 0 &&
      !('cause' in event.e && event.e.cause),
    leadOff: ({ context, event }) => event.type === 'BOARD' && event.e.type === 'fault' && event.e.code === 'LEAD_OFF' && event.e.output === context.output,
    contactBack: ({ context, event }) => event.type === 'BOARD' && event.e.type === 'causeGone' && event.e.output === context.output,
    cleared: ({ context, event }) => event.type === 'BOARD' && event.e.type === 'faultCleared' && isMine(context, event.e.output),
    plateauLeft: ({ context }) => context.plateauDoneMs < context.program.plateauMs,
    outputIsZero: ({ context }) => valueAt(context.segment, context.board.boardNow() + context.board.scheduleMarginMs) <= 0,
  },
  actions: {
    configure: ({ context: c }) => {
      const p = c.program;
      c.board.configureTens(c.output, {
        rateHz: p.rateHz,
        pulseWidthUs: p.pulseWidthUs,
        waveform: p.waveform,
        electrodeAreaCm2: p.electrodeAreaCm2,
        highDensityAcknowledged: p.acknowledge?.includes(HIGH_CURRENT_DENSITY_ACK) ?? false,
        burst: p.burst,
        modulation: p.modulation,
      });
    },
    /** Ramp from zero, the remaining plateau, ramp down: two commands on the board clock. */
    planRun: assign(({ context: c }) => {
      const runStartMs = c.board.boardNow() + c.board.scheduleMarginMs;
      return { runStartMs, rampDownAtMs: runStartMs + c.program.rampUpMs + (c.program.plateauMs - c.plateauDoneMs), plateauStartMs: null };
    }),
    sendRun: ({ context: c }) => {
      c.board.ramp(c.output, c.runStartMs, 0, c.amplitudeMa, c.program.rampUpMs);
      c.board.ramp(c.output, c.rampDownAtMs as number, c.amplitudeMa, 0, c.program.rampDownMs);
    },
    trackSegment: assign(({ context: c, event }) => {
      if (event.type !== 'BOARD' || event.e.type !== 'applied' || event.e.output !== c.output) return {};
      const e = event.e;
      const present = valueAt(c.segment, e.boardMs);
      if (e.action === 'ramp') return { segment: { t0: e.boardMs, from: present, to: e.value, durationMs: e.durationMs ?? 0 } };
      return { segment: { t0: e.boardMs, from: e.value, to: e.value, durationMs: 0 } };
    }),
    beginPlateau: assign(({ context: c, event }) => ({
      plateauStartMs: event.type === 'BOARD' && 'boardMs' in event.e ? event.e.boardMs : c.board.boardNow(),
    })),
    /** Close the plateau segment at board time t (a ramp-down start, a cut, a pause). */
    endPlateauAtEvent: assign(({ context: c, event }) => {
      if (c.plateauStartMs === null) return {};
      const t = event.type === 'BOARD' && 'boardMs' in event.e ? event.e.boardMs : c.board.boardNow();
      return { plateauDoneMs: Math.min(c.program.plateauMs, c.plateauDoneMs + Math.max(0, t - c.plateauStartMs)), plateauStartMs: null };
    }),
    reportEventPhase: ({ context: c, event }, params: { phase: string }) => {
      const t = event.type === 'BOARD' && 'boardMs' in event.e ? event.e.boardMs : c.board.boardNow();
      c.reporter.phase({ programIndex: c.program.programIndex, modality: 'tens', phase: params.phase, boardMs: t, detail: { amplitudeMa: c.amplitudeMa } });
    },
    cancelQueue: ({ context: c }) => c.board.cancel(c.output),
    cutNow: ({ context: c }) => c.board.off(c.output, null),
    reportHaltTimeout: sendParent(({ context: c }) => ({
      type: 'PROGRAM.FAULT',
      programIndex: c.program.programIndex,
      code: 'LEAD_OFF_TOO_LONG',
      boardMs: c.board.boardNow(),
      message: `TENS channel ${c.program.channel}: electrode contact did not return within ${MAX_HALT_MS / 60_000} minutes`,
    })),
    reportStall: sendParent(({ context: c }) => ({
      type: 'PROGRAM.FAULT',
      programIndex: c.program.programIndex,
      code: 'BOARD_NOT_FOLLOWING',
      boardMs: c.board.boardNow(),
      message: `TENS channel ${c.program.channel}: the board did not report the planned ramp or plateau in time`,
    })),
    clearFault: ({ context: c }) => c.board.clear(c.output),
    /** Pause: the plateau stops at a known board time, then the channel is off. */
    planPause: assign(({ context: c }) => {
      const t = c.board.boardNow() + c.board.scheduleMarginMs;
      if (c.plateauStartMs === null) return { pauseAtMs: t };
      return { pauseAtMs: t, plateauDoneMs: Math.min(c.program.plateauMs, c.plateauDoneMs + Math.max(0, t - c.plateauStartMs)), plateauStartMs: null };
    }),
    sendPause: ({ context: c }) => {
      c.board.cancel(c.output);
      c.board.off(c.output, c.pauseAtMs);
      c.reporter.phase({ programIndex: c.program.programIndex, modality: 'tens', phase: 'paused', boardMs: c.pauseAtMs });
    },
    /** Stop: ramp down from wherever the channel is, at the program's ramp-down rate. */
    rampDownNow: ({ context: c }) => {
      const t = c.board.boardNow() + c.board.scheduleMarginMs;
      // The board refuses a ramp that starts above its present amplitude (it would be a jump), and
      // its output follows a ramp at the slew limit one 0.1 mA step behind: start from the
      // planned value rounded down, less that step (a fall of at most 0.2 mA, never a rise).
      const present = Math.max(0, Math.floor(valueAt(c.segment, t) * 10) / 10 - (c.segment.to > c.segment.from ? 0.1 : 0));
      c.board.cancel(c.output);
      c.board.ramp(c.output, t, present, 0, Math.round((c.program.rampDownMs * present) / c.amplitudeMa));
    },
    planAdjust: assign(({ context: c, event }): Partial<TensContext> => {
      const none = { pendingAdjust: null, refusedAdjust: null };
      if (event.type !== 'ADJUST_INTENSITY' || c.rampDownAtMs === null) return none;
      if (event.channel !== undefined && event.channel !== c.program.channel) return none;
      const wanted = event.amplitudeMa ?? c.amplitudeMa + (event.deltaMa ?? 0);
      const next = Math.round(Math.min(c.maxMa, Math.max(1, wanted)) * 10) / 10;
      const t = c.board.boardNow() + c.board.scheduleMarginMs;
      if (next === c.amplitudeMa) {
        return {
          ...none,
          refusedAdjust: {
            kind: 'adjust-clamped',
            atMs: t,
            detail: { channel: c.program.channel, requestedMa: wanted, amplitudeMa: c.amplitudeMa, maxMa: c.maxMa },
          },
        };
      }
      const durationMs = Math.ceil((Math.abs(next - c.amplitudeMa) / c.board.info.maxTensSlewMaPerS) * 1000);
      if (t + durationMs >= c.rampDownAtMs) {
        return { ...none, refusedAdjust: { kind: 'adjust-too-late', atMs: t, detail: { channel: c.program.channel, requestedMa: wanted } } };
      }
      return { ...none, pendingAdjust: { atMs: t, fromMa: c.amplitudeMa, toMa: next, durationMs }, amplitudeMa: next };
    }),
    sendAdjust: ({ context: c }) => {
      if (c.refusedAdjust) c.reporter.note(c.refusedAdjust.kind, c.refusedAdjust.atMs, c.refusedAdjust.detail);
      const a = c.pendingAdjust;
      if (!a || c.rampDownAtMs === null) return;
      c.board.cancel(c.output);
      c.board.ramp(c.output, a.atMs, a.fromMa, a.toMa, a.durationMs);
      c.board.ramp(c.output, c.rampDownAtMs, a.toMa, 0, c.program.rampDownMs);
      c.reporter.note('adjust', a.atMs, { channel: c.program.channel, fromMa: a.fromMa, toMa: a.toMa, durationMs: a.durationMs });
    },
  },
}).createMachine({
  id: 'tens',
  context: ({ input }) => {
    const output = input.program.channel === 2 ? 'tens2' : 'tens1';
    return {
      board: input.board,
      reporter: input.reporter,
      program: input.program,
      output,
      amplitudeMa: input.program.amplitudeMa,
      maxMa: tensMaxMa(input.program, input.board, input.profileMaxMa),
      plateauDoneMs: 0,
      plateauStartMs: null,
      rampDownAtMs: null,
      segment: { t0: 0, from: 0, to: 0, durationMs: 0 },
      runStartMs: 0,
      pauseAtMs: 0,
      pendingAdjust: null,
      refusedAdjust: null,
    };
  },
  invoke: { src: 'boardListener', input: ({ context }) => ({ board: context.board }) },
  initial: 'rampingUp',
  entry: ['configure', 'planRun', 'sendRun'],
  on: {
    BOARD: { actions: 'trackSegment' },
  },
  states: {
    rampingUp: {
      after: { rampUpWatch: 'stalled' },
      on: {
        BOARD: [
          { guard: 'leadOff', target: 'halted', actions: [{ type: 'reportEventPhase', params: { phase: 'lead-off' } }] },
          { guard: 'rampUpStarted', actions: ['trackSegment', { type: 'reportEventPhase', params: { phase: 'ramp-up' } }] },
          { guard: 'reachedPlateau', target: 'plateau', actions: ['trackSegment', 'beginPlateau', { type: 'reportEventPhase', params: { phase: 'plateau' } }] },
          { actions: 'trackSegment' },
        ],
        PAUSE: { target: 'paused', actions: ['planPause', 'sendPause'] },
        STOP: 'stopping',
      },
    },
    plateau: {
      after: { plateauWatch: 'stalled' },
      on: {
        BOARD: [
          { guard: 'leadOff', target: 'halted', actions: ['endPlateauAtEvent', { type: 'reportEventPhase', params: { phase: 'lead-off' } }] },
          {
            guard: 'rampDownStarted',
            target: 'rampingDown',
            actions: ['trackSegment', 'endPlateauAtEvent', { type: 'reportEventPhase', params: { phase: 'ramp-down' } }],
          },
          { actions: 'trackSegment' },
        ],
        ADJUST_INTENSITY: { actions: ['planAdjust', 'sendAdjust'] },
        PAUSE: { target: 'paused', actions: ['planPause', 'sendPause'] },
        STOP: 'stopping',
      },
    },
    rampingDown: {
      after: { rampDownWatch: 'stalled' },
      on: {
        BOARD: [
          { guard: 'reachedZero', target: 'done', actions: 'trackSegment' },
          // Contact lost while ramping down: the plateau is complete, nothing is left to deliver.
          { guard: 'leadOff', target: 'done', actions: [{ type: 'reportEventPhase', params: { phase: 'lead-off' } }] },
          { actions: 'trackSegment' },
        ],
        STOP: 'stopping',
      },
    },
    halted: {
      entry: 'cancelQueue',
      after: { haltLimit: { target: 'gaveUp', actions: 'reportHaltTimeout' } },
      on: {
        BOARD: [
          { guard: 'contactBack', actions: ['clearFault', { type: 'reportEventPhase', params: { phase: 'contact-restored' } }] },
          { guard: 'cleared', target: 'rampingUp', actions: ['planRun', 'sendRun'] },
          { actions: 'trackSegment' },
        ],
        STOP: 'done',
      },
    },
    paused: {
      on: {
        RESUME: [
          { guard: 'plateauLeft', target: 'rampingUp', actions: [{ type: 'reportEventPhase', params: { phase: 'resumed' } }, 'planRun', 'sendRun'] },
          { target: 'done' },
        ],
        STOP: 'done',
      },
    },
    stopping: {
      always: { guard: 'outputIsZero', target: 'done' },
      entry: ['endPlateauAtEvent', 'rampDownNow', { type: 'reportEventPhase', params: { phase: 'stopping' } }],
      on: {
        BOARD: [{ guard: 'reachedZero', target: 'done', actions: 'trackSegment' }, { guard: 'leadOff', target: 'done' }, { actions: 'trackSegment' }],
      },
    },
    // The board stopped following the plan: cut the channel and tell the session (it faults).
    stalled: {
      entry: ['cutNow', { type: 'reportEventPhase', params: { phase: 'stalled' } }, 'reportStall'],
      on: { STOP: 'done' },
    },
    // Contact never came back: the channel is already off (the board cut it); the session faults.
    gaveUp: {
      entry: ['cutNow', { type: 'reportEventPhase', params: { phase: 'gave-up' } }],
      on: { STOP: 'done' },
    },
    done: {
      type: 'final',
      entry: [{ type: 'reportEventPhase', params: { phase: 'done' } }],
    },
  },
});
