/**
 * One thermal program: heat, cold or contrast phases on the pad. Each phase
 * starts with a transition (the pad heating or cooling to its target); its time
 * at target counts from the board's PAD_AT_TARGET report, within 1 °C, because
 * that is the time the patient feels. The next target (or OFF) is scheduled on
 * the board clock at exactly that time plus the phase's duration.
 *
 * The board runs the Marlin-style runaway watch itself; this machine mirrors it
 * with a bound on each transition, so a pad that never gets there is a fault
 * the host explains too.
 */
import { assign, sendParent, setup } from 'xstate';
import type { Board } from '../drivers/board.js';
import type { PlannedThermal, ThermalPhase } from '../protocol/index.js';
import { boardListener, WATCHDOG_SLACK_MS, type BoardMsg, type ProgramControlEvent, type SessionReporter } from './common.js';

export interface ThermalInput {
  board: Board;
  reporter: SessionReporter;
  program: PlannedThermal;
}

export interface ThermalContext extends ThermalInput {
  index: number;
  atTargetSinceMs: number | null;
  /** Time already spent at target in this phase (before a pause). */
  phaseDoneMs: number;
  pauseAtMs: number;
  /** Board time since which the pad has strayed beyond the runaway hysteresis while at target. */
  strayingSinceMs: number | null;
}

type Ev = BoardMsg | ProgramControlEvent;

/** Host-side bound on a transition: at least 0.05 °C/s, plus 30 s to settle. */
export const MIN_TRANSITION_RATE_C_PER_S = 0.05;
export const TRANSITION_SLACK_MS = 30_000;

const phaseOf = (c: ThermalContext): ThermalPhase => c.program.phases[c.index] as ThermalPhase;
const at = (c: ThermalContext, event: Ev) => (event.type === 'BOARD' && 'boardMs' in event.e ? event.e.boardMs : c.board.boardNow());

export const thermalMachine = setup({
  types: {} as { context: ThermalContext; events: Ev; input: ThermalInput },
  actors: { boardListener },
  delays: {
    atTargetWatch: ({ context: c }) => Math.max(0, (c.atTargetSinceMs ?? 0) + phaseOf(c).durationMs - c.phaseDoneMs - c.board.boardNow()) + WATCHDOG_SLACK_MS,
    transitionBound: ({ context: c }) => {
      const lastTarget = c.index > 0 ? (c.program.phases[c.index - 1] as ThermalPhase).targetC : 32;
      return TRANSITION_SLACK_MS + (Math.abs(phaseOf(c).targetC - lastTarget) / MIN_TRANSITION_RATE_C_PER_S) * 1000;
    },
  },
  guards: {
    atTarget: ({ context: c, event }) => event.type === 'BOARD' && event.e.type === 'padAtTarget' && Math.abs(event.e.targetC - phaseOf(c).targetC) < 0.05,
    nextPhaseApplied: ({ context: c, event }) => {
      const next = c.program.phases[c.index + 1];
      return (
        next !== undefined &&
        event.type === 'BOARD' &&
        event.e.type === 'applied' &&
        event.e.output === 'pad' &&
        event.e.action === 'set' &&
        Math.abs(event.e.value - next.targetC) < 0.05
      );
    },
    /** The host's mirror of the board's runaway check: at target, the pad strayed too far for too long. */
    runaway: ({ context: c, event }) => {
      if (event.type !== 'BOARD' || event.e.type !== 'telemetry' || c.strayingSinceMs === null) return false;
      return event.e.telemetry.boardMs - c.strayingSinceMs > c.board.info.runawayPeriodMs;
    },
    finished: ({ event }) => event.type === 'BOARD' && event.e.type === 'applied' && event.e.output === 'pad' && event.e.action === 'off' && !event.e.cause,
  },
  actions: {
    startPhase: ({ context: c }) => {
      const p = phaseOf(c);
      const t = c.board.boardNow() + c.board.scheduleMarginMs;
      c.board.set('pad', t, p.targetC);
      c.reporter.phase({ programIndex: c.program.programIndex, modality: 'thermal', phase: `to-${p.kind}`, boardMs: t, detail: { targetC: p.targetC } });
    },
    reachTarget: assign({ atTargetSinceMs: ({ context: c, event }) => at(c, event) }),
    scheduleEnd: ({ context: c }) => {
      const p = phaseOf(c);
      const t = c.atTargetSinceMs as number;
      const end = t + (p.durationMs - c.phaseDoneMs);
      const next = c.program.phases[c.index + 1];
      c.reporter.phase({
        programIndex: c.program.programIndex,
        modality: 'thermal',
        phase: p.kind,
        boardMs: t,
        detail: { targetC: p.targetC, number: c.index + 1, of: c.program.phases.length },
      });
      if (next) c.board.set('pad', end, next.targetC);
      else c.board.off('pad', end);
    },
    trackStraying: assign({
      strayingSinceMs: ({ context: c, event }) => {
        if (event.type !== 'BOARD' || event.e.type !== 'telemetry') return c.strayingSinceMs;
        const tm = event.e.telemetry;
        const pad = tm.outputs.pad;
        if (!pad) return c.strayingSinceMs; // no reading of the pad in this sample
        if (Math.abs(pad.tempC - phaseOf(c).targetC) <= c.board.info.runawayHysteresisC) return null;
        return c.strayingSinceMs ?? tm.boardMs;
      },
    }),
    runawayFault: sendParent(({ context: c }) => ({
      type: 'PROGRAM.FAULT',
      programIndex: c.program.programIndex,
      code: 'THERMAL_RUNAWAY_HOST',
      boardMs: c.board.boardNow(),
      message: `the pad strayed more than ${c.board.info.runawayHysteresisC} °C from ${phaseOf(c).targetC} °C for over ${c.board.info.runawayPeriodMs / 1000} s (the host's own runaway check)`,
    })),
    nextPhase: assign({ index: ({ context: c }) => c.index + 1, atTargetSinceMs: null, phaseDoneMs: 0, strayingSinceMs: null }),
    reportTransition: ({ context: c, event }) => {
      const p = phaseOf(c);
      c.reporter.phase({
        programIndex: c.program.programIndex,
        modality: 'thermal',
        phase: `to-${p.kind}`,
        boardMs: at(c, event),
        detail: { targetC: p.targetC },
      });
    },
    planPause: assign(({ context: c }) => {
      const t = c.board.boardNow() + c.board.scheduleMarginMs;
      if (c.atTargetSinceMs === null) return { pauseAtMs: t };
      return { pauseAtMs: t, phaseDoneMs: Math.min(phaseOf(c).durationMs, c.phaseDoneMs + Math.max(0, t - c.atTargetSinceMs)), atTargetSinceMs: null };
    }),
    sendPause: ({ context: c }) => {
      c.board.cancel('pad');
      c.board.off('pad', c.pauseAtMs);
      c.reporter.phase({ programIndex: c.program.programIndex, modality: 'thermal', phase: 'paused', boardMs: c.pauseAtMs });
    },
    offNow: ({ context: c }) => c.board.off('pad', null),
    phase: ({ context: c, event }, params: { phase: string }) =>
      c.reporter.phase({ programIndex: c.program.programIndex, modality: 'thermal', phase: params.phase, boardMs: at(c, event) }),
    stallFault: sendParent(({ context: c }) => ({
      type: 'PROGRAM.FAULT',
      programIndex: c.program.programIndex,
      code: 'BOARD_NOT_FOLLOWING',
      boardMs: c.board.boardNow(),
      message: 'thermal: the board did not apply the next pad target in time',
    })),
    watchFault: sendParent(({ context: c }) => ({
      type: 'PROGRAM.FAULT',
      programIndex: c.program.programIndex,
      code: 'THERMAL_WATCH',
      boardMs: c.board.boardNow(),
      message: `the pad did not reach ${phaseOf(c).targetC} °C within the transition bound`,
    })),
  },
}).createMachine({
  id: 'thermal',
  context: ({ input }) => ({ ...input, index: 0, atTargetSinceMs: null, phaseDoneMs: 0, pauseAtMs: 0, strayingSinceMs: null }),
  invoke: { src: 'boardListener', input: ({ context }) => ({ board: context.board }) },
  initial: 'transition',
  states: {
    transition: {
      entry: 'startPhase',
      after: { transitionBound: { target: 'stalled', actions: 'watchFault' } },
      on: {
        BOARD: { guard: 'atTarget', target: 'atTarget', actions: ['reachTarget', 'scheduleEnd'] },
        PAUSE: { target: 'paused', actions: ['planPause', 'sendPause'] },
        STOP: { target: 'done', actions: 'offNow' },
      },
    },
    atTarget: {
      after: { atTargetWatch: { target: 'stalled', actions: 'stallFault' } },
      on: {
        BOARD: [
          { guard: 'nextPhaseApplied', target: 'nextTransition', actions: ['nextPhase', 'reportTransition'] },
          { guard: 'finished', target: 'done' },
          { guard: 'runaway', target: 'stalled', actions: 'runawayFault' },
          { actions: 'trackStraying' },
        ],
        PAUSE: { target: 'paused', actions: ['planPause', 'sendPause'] },
        STOP: { target: 'done', actions: 'offNow' },
      },
    },
    // The board already applied the next target at the scheduled time: only watch it.
    nextTransition: {
      after: { transitionBound: { target: 'stalled', actions: 'watchFault' } },
      on: {
        BOARD: { guard: 'atTarget', target: 'atTarget', actions: ['reachTarget', 'scheduleEnd'] },
        PAUSE: { target: 'paused', actions: ['planPause', 'sendPause'] },
        STOP: { target: 'done', actions: 'offNow' },
      },
    },
    paused: {
      on: {
        RESUME: { target: 'transition', actions: { type: 'phase', params: { phase: 'resumed' } } },
        STOP: 'done',
      },
    },
    stalled: {
      entry: 'offNow',
      on: { STOP: 'done' },
    },
    done: { type: 'final', entry: [{ type: 'phase', params: { phase: 'done' } }] },
  },
});
