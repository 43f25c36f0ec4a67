/**
 * One ultrasound program: a dose timer on the board clock (SET at S, OFF at
 * S + remaining). When the head loses coupling the board cuts the output and
 * the timer halts; when coupling returns the remaining time is delivered, so
 * the delivered dose equals the plan.
 */
import { assign, sendParent, setup } from 'xstate';
import type { Board } from '../drivers/board.js';
import type { PlannedUltrasound } from '../protocol/index.js';
import { boardListener, MAX_HALT_MS, WATCHDOG_SLACK_MS, type BoardMsg, type ProgramControlEvent, type SessionReporter } from './common.js';

export interface UltrasoundInput {
  board: Board;
  reporter: SessionReporter;
  program: PlannedUltrasound;
}

export interface UltrasoundContext extends UltrasoundInput {
  sonatedMs: number;
  sonatingSinceMs: number | null;
  pauseAtMs: number;
  startAtMs: number;
}

type Ev = BoardMsg | ProgramControlEvent;

const at = (c: UltrasoundContext, event: Ev) => (event.type === 'BOARD' && 'boardMs' in event.e ? event.e.boardMs : c.board.boardNow());

export const ultrasoundMachine = setup({
  types: {} as { context: UltrasoundContext; events: Ev; input: UltrasoundInput },
  actors: { boardListener },
  delays: {
    startWatch: ({ context: c }) => Math.max(0, c.startAtMs - c.board.boardNow()) + WATCHDOG_SLACK_MS,
    sonatingWatch: ({ context: c }) => c.program.durationMs - c.sonatedMs + WATCHDOG_SLACK_MS,
    haltLimit: MAX_HALT_MS,
  },
  guards: {
    started: ({ event }) =>
      event.type === 'BOARD' && event.e.type === 'applied' && event.e.output === 'ultrasound' && event.e.action === 'set' && event.e.value > 0,
    finished: ({ event }) =>
      event.type === 'BOARD' && event.e.type === 'applied' && event.e.output === 'ultrasound' && event.e.action === 'off' && !event.e.cause,
    uncoupled: ({ event }) => event.type === 'BOARD' && event.e.type === 'fault' && event.e.code === 'UNCOUPLED',
    recoupled: ({ event }) => event.type === 'BOARD' && event.e.type === 'causeGone' && event.e.output === 'ultrasound',
    cleared: ({ event }) => event.type === 'BOARD' && event.e.type === 'faultCleared' && (event.e.output === 'ultrasound' || event.e.output === 'all'),
    timeLeft: ({ context: c }) => c.sonatedMs < c.program.durationMs,
  },
  actions: {
    configure: ({ context: c }) =>
      c.board.configureUltrasound({ frequencyMHz: c.program.frequencyMHz as 1 | 3, dutyCyclePct: c.program.dutyCyclePct, eraCm2: c.program.eraCm2 }),
    planStart: assign({ startAtMs: ({ context: c }) => c.board.boardNow() + c.board.scheduleMarginMs }),
    sendStart: ({ context: c }) => {
      c.board.set('ultrasound', c.startAtMs, c.program.intensityWPerCm2);
      c.board.off('ultrasound', c.startAtMs + (c.program.durationMs - c.sonatedMs));
    },
    begin: assign({ sonatingSinceMs: ({ context: c, event }) => at(c, event) }),
    reportSonating: ({ context: c, event }) =>
      c.reporter.phase({
        programIndex: c.program.programIndex,
        modality: 'ultrasound',
        phase: 'sonating',
        boardMs: at(c, event),
        detail: { intensityWPerCm2: c.program.intensityWPerCm2 },
      }),
    /** Close the sonating segment at the board's time for this event. */
    account: assign(({ context: c, event }) => {
      if (c.sonatingSinceMs === null) return {};
      return { sonatedMs: Math.min(c.program.durationMs, c.sonatedMs + Math.max(0, at(c, event) - c.sonatingSinceMs)), sonatingSinceMs: null };
    }),
    phase: ({ context: c, event }, params: { phase: string }) =>
      c.reporter.phase({ programIndex: c.program.programIndex, modality: 'ultrasound', phase: params.phase, boardMs: at(c, event) }),
    cancel: ({ context: c }) => c.board.cancel('ultrasound'),
    clear: ({ context: c }) => c.board.clear('ultrasound'),
    planPause: assign(({ context: c }) => {
      const t = c.board.boardNow() + c.board.scheduleMarginMs;
      if (c.sonatingSinceMs === null) return { pauseAtMs: t };
      return { pauseAtMs: t, sonatedMs: Math.min(c.program.durationMs, c.sonatedMs + Math.max(0, t - c.sonatingSinceMs)), sonatingSinceMs: null };
    }),
    sendPause: ({ context: c }) => {
      c.board.cancel('ultrasound');
      c.board.off('ultrasound', c.pauseAtMs);
      c.reporter.phase({ programIndex: c.program.programIndex, modality: 'ultrasound', phase: 'paused', boardMs: c.pauseAtMs });
    },
    offNow: ({ context: c }) => c.board.off('ultrasound', null),
    reportHaltTimeout: sendParent(({ context: c }) => ({
      type: 'PROGRAM.FAULT',
      programIndex: c.program.programIndex,
      code: 'UNCOUPLED_TOO_LONG',
      boardMs: c.board.boardNow(),
      message: `ultrasound: the head was not coupled again within ${MAX_HALT_MS / 60_000} minutes`,
    })),
    reportStall: sendParent(({ context: c }) => ({
      type: 'PROGRAM.FAULT',
      programIndex: c.program.programIndex,
      code: 'BOARD_NOT_FOLLOWING',
      boardMs: c.board.boardNow(),
      message: 'ultrasound: the board did not report the planned start or end in time',
    })),
  },
}).createMachine({
  id: 'ultrasound',
  context: ({ input }) => ({ ...input, sonatedMs: 0, sonatingSinceMs: null, pauseAtMs: 0, startAtMs: 0 }),
  invoke: { src: 'boardListener', input: ({ context }) => ({ board: context.board }) },
  entry: ['configure', 'planStart', 'sendStart'],
  initial: 'starting',
  states: {
    starting: {
      after: { startWatch: 'stalled' },
      on: {
        BOARD: [
          { guard: 'uncoupled', target: 'uncoupled', actions: { type: 'phase', params: { phase: 'uncoupled' } } },
          { guard: 'started', target: 'sonating', actions: ['begin', 'reportSonating'] },
        ],
        PAUSE: { target: 'paused', actions: ['planPause', 'sendPause'] },
        STOP: { target: 'done', actions: 'offNow' },
      },
    },
    sonating: {
      after: { sonatingWatch: 'stalled' },
      on: {
        BOARD: [
          { guard: 'finished', target: 'done', actions: 'account' },
          { guard: 'uncoupled', target: 'uncoupled', actions: ['account', { type: 'phase', params: { phase: 'uncoupled' } }] },
        ],
        PAUSE: { target: 'paused', actions: ['planPause', 'sendPause'] },
        STOP: { target: 'done', actions: ['offNow', 'account'] },
      },
    },
    uncoupled: {
      entry: 'cancel',
      after: { haltLimit: { target: 'gaveUp', actions: 'reportHaltTimeout' } },
      on: {
        BOARD: [
          { guard: 'recoupled', actions: ['clear', { type: 'phase', params: { phase: 'recoupled' } }] },
          { guard: 'cleared', target: 'starting', actions: ['planStart', 'sendStart'] },
        ],
        STOP: 'done',
      },
    },
    paused: {
      on: {
        RESUME: [
          { guard: 'timeLeft', target: 'starting', actions: [{ type: 'phase', params: { phase: 'resumed' } }, 'planStart', 'sendStart'] },
          { target: 'done' },
        ],
        STOP: 'done',
      },
    },
    gaveUp: {
      entry: ['offNow', { type: 'phase', params: { phase: 'gave-up' } }],
      on: { STOP: 'done' },
    },
    stalled: {
      entry: ['offNow', { type: 'phase', params: { phase: 'stalled' } }, 'reportStall'],
      on: { STOP: 'done' },
    },
    done: { type: 'final', entry: [{ type: 'phase', params: { phase: 'done' } }] },
  },
});
