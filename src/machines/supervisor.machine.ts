/**
 * The safety supervisor: it watches every board event and latches the first
 * fault that ends a session, telling the session why. It mirrors the board's
 * own checks on telemetry (amplitude above the limit, pad above its surface
 * maximum) so the host can explain them, and sends ESTOP if it ever sees one the
 * board did not act on. A latched fault clears only through ACK_FAULT, which
 * asks the board to CLEAR; the board refuses while the cause remains.
 */
import { assign, sendParent, setup } from 'xstate';
import type { Board, BoardEvent } from '../drivers/board.js';
import { ABSOLUTE_LIMITS } from '../protocol/limits.js';
import { boardListener, type BoardMsg, type SessionReporter } from './common.js';

export interface SupervisorInput {
  board: Board;
  reporter: SessionReporter;
}

export interface LatchedFault {
  code: string;
  boardMs: number;
  message: string;
}

export interface SupervisorContext extends SupervisorInput {
  latched: LatchedFault[];
}

type Ev = BoardMsg | { type: 'HOST_FAULT'; code: string; message: string; boardMs: number } | { type: 'ACK_FAULT' };

/** Faults the programs handle themselves (the step halts and resumes). */
const PROGRAM_LEVEL = new Set(['LEAD_OFF', 'UNCOUPLED']);

/** Telemetry values beyond these are a host-detected fault (the board should have acted first). */
export const HOST_MIRROR = {
  tensToleranceMa: 0.5,
  padSurfaceMaxC: ABSOLUTE_LIMITS.thermal.padSurfaceMaxC,
};

function classify(e: BoardEvent, board: Board): LatchedFault | 'patient-stop' | null {
  switch (e.type) {
    case 'fault':
      if (PROGRAM_LEVEL.has(e.code) || e.code === 'ESTOP') return null;
      if (e.code === 'STOP_INPUT') return 'patient-stop';
      return { code: e.code, boardMs: e.boardMs, message: `the board latched ${e.code}` };
    case 'linkLost':
      return { code: 'LINK_LOST', boardMs: board.boardNow(), message: e.reason };
    case 'refused':
      // Consequences of a fault already reported (the board refuses while latched, or after its lease ran out).
      if (e.status === 'FAULT_LATCHED' || e.status === 'NO_SESSION') return null;
      return { code: e.status === 'LATE' ? 'LATE_COMMAND' : 'COMMAND_REFUSED', boardMs: e.boardMs, message: `the board refused ${e.command}: ${e.status}` };
    case 'telemetry': {
      const t = e.telemetry;
      const maxMa = board.info.maxTensMa + HOST_MIRROR.tensToleranceMa;
      const tensMa = Math.max(t.outputs.tens1?.value ?? 0, t.outputs.tens2?.value ?? 0);
      if (tensMa > maxMa) return { code: 'HOST_LIMIT', boardMs: t.boardMs, message: `TENS output ${tensMa} mA above the ${board.info.maxTensMa} mA limit` };
      const padC = t.outputs.pad?.tempC;
      if (padC !== undefined && padC > HOST_MIRROR.padSurfaceMaxC && !t.faults.includes('OVER_TEMP'))
        return { code: 'HOST_LIMIT', boardMs: t.boardMs, message: `pad at ${padC} °C above ${HOST_MIRROR.padSurfaceMaxC} °C` };
      return null;
    }
    default:
      return null;
  }
}

/** The session fault this event latches, if any. */
function faultOf(event: Ev, board: Board): LatchedFault | null {
  if (event.type === 'HOST_FAULT') return { code: event.code, boardMs: event.boardMs, message: event.message };
  if (event.type !== 'BOARD') return null;
  const c = classify(event.e, board);
  return c && c !== 'patient-stop' ? c : null;
}

export const supervisorMachine = setup({
  types: {} as { context: SupervisorContext; events: Ev; input: SupervisorInput },
  actors: { boardListener },
  guards: {
    sessionFault: ({ context, event }) =>
      event.type === 'HOST_FAULT' ||
      (event.type === 'BOARD' && typeof classify(event.e, context.board) === 'object' && classify(event.e, context.board) !== null),
    patientStop: ({ context, event }) => event.type === 'BOARD' && classify(event.e, context.board) === 'patient-stop',
    clearedAll: ({ event }) => event.type === 'BOARD' && event.e.type === 'faultCleared' && event.e.output === 'all',
    clearRefused: ({ event }) => event.type === 'BOARD' && event.e.type === 'refused' && event.e.command.startsWith('CLEAR'),
  },
  actions: {
    latch: assign(({ context, event }) => {
      const f = faultOf(event, context.board);
      return f ? { latched: [...context.latched, f] } : {};
    }),
    /** What a latched fault makes the host do: record it if the host detected it, ESTOP on a limit the board did not act on. */
    actOnFault: ({ context, event }) => {
      const f = faultOf(event, context.board);
      if (!f) return;
      // Host-detected faults are recorded here; the board's own arrive in the record as board events.
      if (event.type === 'HOST_FAULT' || (event.type === 'BOARD' && event.e.type !== 'fault')) context.reporter.hostFault(f.code, f.boardMs, f.message);
      if (f.code === 'HOST_LIMIT') context.board.estop();
    },
    tellSession: sendParent(({ context }) => ({ type: 'SAFETY.FAULT', fault: context.latched[context.latched.length - 1] as LatchedFault })),
    tellPatientStop: sendParent({ type: 'SAFETY.PATIENT_STOP' }),
    requestClear: ({ context }) => context.board.clear('all'),
    noteRefusedClear: ({ context }) => context.reporter.note('clear-refused', context.board.boardNow(), { reason: 'the cause is still present' }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ ...input, latched: [] }),
  invoke: { src: 'boardListener', input: ({ context }) => ({ board: context.board }) },
  initial: 'watching',
  states: {
    watching: {
      on: {
        BOARD: [
          { guard: 'sessionFault', target: 'latched', actions: ['latch', 'actOnFault', 'tellSession'] },
          { guard: 'patientStop', target: 'latched', actions: 'tellPatientStop' },
        ],
        HOST_FAULT: { target: 'latched', actions: ['latch', 'actOnFault', 'tellSession'] },
      },
    },
    latched: {
      on: {
        BOARD: { guard: 'sessionFault', actions: ['latch', 'actOnFault'] },
        HOST_FAULT: { actions: ['latch', 'actOnFault'] },
        ACK_FAULT: { target: 'clearing', actions: 'requestClear' },
      },
    },
    clearing: {
      on: {
        BOARD: [
          { guard: 'clearedAll', target: 'watching', actions: sendParent({ type: 'SAFETY.CLEARED' }) },
          { guard: 'clearRefused', target: 'latched', actions: 'noteRefusedClear' },
        ],
      },
    },
  },
});
