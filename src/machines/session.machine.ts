/**
 * The session orchestrator: idle → preChecks → running (steps in order; the
 * programs of a parallel step run as parallel child actors) → completed, with
 * paused, stopping/stopped and faulted. The safety supervisor runs beside it for
 * the whole session and latches faults; a faulted session stays faulted until
 * ACK_FAULT, and the board itself refuses to clear while the cause remains.
 */
import { assign, enqueueActions, setup, spawnChild, type ActorRefFrom } from 'xstate';
import type { Board } from '../drivers/board.js';
import { modalityOf } from '../modalities/index.js';
import type { Plan, PlannedProgram, PlanStep } from '../protocol/index.js';
import type { ProgramControlEvent, ProgramFaultEvent, SessionReporter } from './common.js';
import { PROGRAM_MACHINES, programInput } from './programs.js';
import { supervisorMachine, type LatchedFault } from './supervisor.machine.js';

export interface SessionInput {
  board: Board;
  reporter: SessionReporter;
  plan: Plan;
  /** Device-profile ceiling for TENS amplitude adjustments, mA. */
  profileMaxMa?: number;
}

export interface SessionContext extends SessionInput {
  stepIndex: number;
  /** programIndex of the programs still running in this step. */
  running: number[];
  fault: LatchedFault | null;
  /** clinician, emergency, patient, or what a STOP event named (a signal: "SIGTERM"). */
  stopReason: string | null;
}

export type SessionEvent =
  | { type: 'START' }
  | { type: 'CONTINUE' }
  | { type: 'EMERGENCY_STOP' }
  | { type: 'ACK_FAULT' }
  | ProgramControlEvent
  | { type: `xstate.done.actor.${string}`; actorId: string }
  | ProgramFaultEvent
  | { type: 'SAFETY.FAULT'; fault: LatchedFault }
  | { type: 'SAFETY.PATIENT_STOP' }
  | { type: 'SAFETY.CLEARED' };

/** How long a clinician STOP may take to ramp everything down before outputs are cut outright. */
export const STOP_TIMEOUT_MS = 60_000;

const childId = (programIndex: number) => `program-${programIndex}`;
/** The programIndex of a finished program actor (its done event), or null. */
function doneIndex(event: SessionEvent): number | null {
  if (!event.type.startsWith('xstate.done.actor.program-')) return null;
  return Number(event.type.slice('xstate.done.actor.program-'.length));
}
const stepOf = (c: SessionContext): PlanStep => c.plan.steps[c.stepIndex] as PlanStep;

/** Reasons the board cannot run this plan, checked before anything is switched on. */
export function preCheck(plan: Plan, board: Board): string[] {
  const i = board.info;
  const problems: string[] = [];
  const latched = board.latchedFaults();
  if (latched.length > 0)
    problems.push(
      `the board has latched faults from before this session (${latched.join(', ')}): find and remove the cause, then clear them (modality run --clear-faults)`,
    );
  for (const step of plan.steps) {
    for (const p of step.programs) problems.push(...modalityOf(p).preCheck(p, i, `steps[${step.index}] (${p.modality})`));
  }
  return problems;
}

export const sessionMachine = setup({
  types: {} as { context: SessionContext; events: SessionEvent; input: SessionInput },
  actors: { ...PROGRAM_MACHINES, supervisor: supervisorMachine },
  delays: {
    promptDelay: ({ context }) => stepOf(context).prompt?.durationMs ?? 0,
    stopTimeout: STOP_TIMEOUT_MS,
  },
  guards: {
    boardFits: ({ context }) => preCheck(context.plan, context.board).length === 0,
    isPrompt: ({ context }) => stepOf(context).kind === 'prompt',
    moreSteps: ({ context }) => context.stepIndex + 1 < context.plan.steps.length,
    lastProgram: ({ context, event }) => {
      const i = doneIndex(event);
      return i !== null && context.running.length === 1 && context.running[0] === i;
    },
    nothingRunning: ({ context }) => context.running.length === 0,
  },
  actions: {
    reportPreCheck: ({ context }) => {
      for (const p of preCheck(context.plan, context.board)) context.reporter.hostFault('PRECHECK', context.board.boardNow(), p);
    },
    startPrograms: enqueueActions(({ context, enqueue }) => {
      const step = stepOf(context);
      const { board, reporter } = context;
      context.reporter.note('step', board.boardNow(), { step: step.index, stepKind: step.kind, programs: step.programs.map((p) => p.modality) });
      for (const p of step.programs as PlannedProgram[]) {
        // one machine per modality (src/machines/programs.ts), spawned by its name
        const input = programInput(p, { board, reporter, profileMaxMa: context.profileMaxMa });
        enqueue.spawnChild(p.modality, { id: childId(p.programIndex), input: input as never });
      }
      enqueue.assign({ running: step.programs.map((p) => p.programIndex) });
    }),
    reportPrompt: ({ context }) => {
      const step = stepOf(context);
      context.reporter.phase({
        programIndex: -1,
        modality: 'prompt',
        phase: 'prompt',
        boardMs: context.board.boardNow(),
        detail: { step: step.index, text: step.prompt?.text ?? '', durationMs: step.prompt?.durationMs ?? 0 },
      });
    },
    nextStep: assign({ stepIndex: ({ context }) => context.stepIndex + 1 }),
    programDone: assign({ running: ({ context, event }) => context.running.filter((i) => i !== doneIndex(event)) }),
    forward: enqueueActions(({ context, event, enqueue }) => {
      for (const i of context.running) enqueue.sendTo(childId(i), event as ProgramControlEvent);
    }),
    stopPrograms: enqueueActions(({ context, enqueue }) => {
      for (const i of context.running) enqueue.sendTo(childId(i), { type: 'STOP' });
    }),
    killPrograms: enqueueActions(({ context, enqueue }) => {
      for (const i of context.running) enqueue.stopChild(childId(i));
      enqueue.assign({ running: [] });
    }),
    allOff: ({ context }) => context.board.off('all', null),
    estop: ({ context }) => context.board.estop(),
    noteAction: ({ context, event }) =>
      context.reporter.note(
        event.type.toLowerCase(),
        context.board.boardNow(),
        'deltaMa' in event || 'amplitudeMa' in event || 'reason' in event ? { ...event } : undefined,
      ),
    recordFault: assign({ fault: ({ event }) => (event.type === 'SAFETY.FAULT' ? event.fault : null) }),
    hostFaultToSupervisor: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'PROGRAM.FAULT') return;
      enqueue.sendTo('supervisor', { type: 'HOST_FAULT', code: event.code, message: event.message, boardMs: event.boardMs });
    }),
    ackToSupervisor: enqueueActions(({ enqueue }) => enqueue.sendTo('supervisor', { type: 'ACK_FAULT' })),
    stopReason: assign({ stopReason: (_, params: { reason: SessionContext['stopReason'] }) => params.reason }),
    stopReasonOfStop: assign({ stopReason: ({ event }) => (event.type === 'STOP' && event.reason ? event.reason : 'clinician') }),
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({ ...input, stepIndex: 0, running: [], fault: null, stopReason: null }),
  // Spawned, not invoked, so the model-based tests (xstate/graph) can walk this machine; it lives as long as the session.
  entry: spawnChild('supervisor', { id: 'supervisor', input: ({ context }) => ({ board: context.board, reporter: context.reporter }) }),
  initial: 'idle',
  on: {
    'SAFETY.FAULT': { target: '.faulted', actions: 'recordFault' },
    'PROGRAM.FAULT': { actions: 'hostFaultToSupervisor' },
  },
  states: {
    idle: {
      on: { START: 'preChecks', EMERGENCY_STOP: { target: 'stopped', actions: ['estop', { type: 'stopReason', params: { reason: 'emergency' } }] } },
    },
    preChecks: {
      always: [
        { guard: 'boardFits', target: 'running' },
        { target: 'faulted', actions: 'reportPreCheck' },
      ],
    },
    running: {
      initial: 'route',
      on: {
        STOP: { target: 'stopping', actions: ['noteAction', 'stopReasonOfStop'] },
        EMERGENCY_STOP: { target: 'stopped', actions: ['noteAction', 'estop', 'killPrograms', { type: 'stopReason', params: { reason: 'emergency' } }] },
        'SAFETY.PATIENT_STOP': { target: 'stopped', actions: ['killPrograms', { type: 'stopReason', params: { reason: 'patient' } }] },
      },
      states: {
        route: { always: [{ guard: 'isPrompt', target: 'prompt' }, { target: 'programs' }] },
        programs: {
          entry: 'startPrograms',
          initial: 'active',
          on: {
            'xstate.done.actor.*': [{ guard: 'lastProgram', target: 'advance', actions: 'programDone' }, { actions: 'programDone' }],
          },
          states: {
            active: {
              on: {
                PAUSE: { target: 'paused', actions: ['noteAction', 'forward'] },
                ADJUST_INTENSITY: { actions: ['noteAction', 'forward'] },
              },
            },
            paused: {
              on: { RESUME: { target: 'active', actions: ['noteAction', 'forward'] } },
            },
          },
        },
        prompt: {
          entry: 'reportPrompt',
          after: { promptDelay: 'advance' },
          on: { CONTINUE: 'advance' },
        },
        advance: { always: [{ guard: 'moreSteps', target: 'route', actions: 'nextStep' }, { target: '#session.completed' }] },
      },
    },
    stopping: {
      entry: 'stopPrograms',
      always: { guard: 'nothingRunning', target: 'stopped' },
      after: { stopTimeout: { target: 'stopped', actions: 'killPrograms' } },
      on: {
        'xstate.done.actor.*': { actions: 'programDone' },
        EMERGENCY_STOP: { target: 'stopped', actions: ['noteAction', 'estop', 'killPrograms', { type: 'stopReason', params: { reason: 'emergency' } }] },
        'SAFETY.PATIENT_STOP': { target: 'stopped', actions: ['killPrograms', { type: 'stopReason', params: { reason: 'patient' } }] },
      },
    },
    stopped: { type: 'final', entry: ['killPrograms', 'allOff'] },
    completed: { type: 'final', entry: 'allOff' },
    faulted: {
      entry: ['killPrograms', 'allOff'],
      on: {
        ACK_FAULT: { actions: ['noteAction', 'ackToSupervisor'] },
        'SAFETY.CLEARED': 'faultAcknowledged',
        'SAFETY.FAULT': { actions: 'recordFault' },
      },
    },
    faultAcknowledged: { type: 'final' },
  },
});

export type SessionActor = ActorRefFrom<typeof sessionMachine>;
export type SessionOutcome = 'completed' | 'stopped' | 'faulted';

export function outcomeOf(value: unknown): SessionOutcome | null {
  if (value === 'completed') return 'completed';
  if (value === 'stopped') return 'stopped';
  if (value === 'faulted' || value === 'faultAcknowledged') return 'faulted';
  return null;
}
