/**
 * Model-based tests: xstate/graph walks the shortest paths of the session
 * machine, and each path is executed against a real session on the simulated
 * board, checking the real actor reaches each state the model says it does.
 */
import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { sessionMachine, type SessionEvent } from '../../src/machines/session.machine.js';
import { nullReporter } from '../../src/machines/common.js';
import type { Board } from '../../src/drivers/board.js';
import { parseProtocolText, validateProtocolData } from '../../src/protocol/index.js';
import { boardInfo, liveSession } from '../helpers.js';

const PROTOCOL = `
id: model-test
name: TENS then a prompt
indication: model-based test
steps:
  - tens: { channel: 1, waveform: symmetric-biphasic, rateHz: 100, pulseWidthUs: 100, amplitudeMa: 20, electrodeAreaCm2: 25, rampUpS: 2, durationS: 20, rampDownS: 2 }
  - prompt: { text: "Stretch", durationS: 60 }
`;

function plan() {
  const parsed = parseProtocolText(PROTOCOL, 'model.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const r = validateProtocolData(parsed.data, { file: 'model.yaml' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

/** A board that accepts everything and reports nothing: the model only walks the session's own graph. */
const stubBoard: Board = {
  info: boardInfo({ firmware: 'stub' }),
  scheduleMarginMs: 250,
  boardNow: () => 0,
  configureTens: () => undefined,
  configureUltrasound: () => undefined,
  set: () => undefined,
  ramp: () => undefined,
  off: () => undefined,
  cancel: () => undefined,
  clear: () => undefined,
  estop: () => undefined,
  latchedFaults: () => [],
  subscribe: () => () => undefined,
  counters: () => ({ framesSent: 0, framesReceived: 0, retransmits: 0, crcErrors: 0, framingErrors: 0, bytesSent: 0, bytesReceived: 0 }),
  close: async () => undefined,
};

const FAULT = { code: 'OVER_TEMP', boardMs: 0, message: 'the board latched OVER_TEMP' };
const EVENTS: SessionEvent[] = [
  { type: 'START' },
  { type: 'PAUSE' },
  { type: 'RESUME' },
  { type: 'STOP' },
  { type: 'EMERGENCY_STOP' },
  { type: 'CONTINUE' },
  { type: 'ACK_FAULT' },
  { type: 'SAFETY.FAULT', fault: FAULT },
  { type: 'SAFETY.PATIENT_STOP' },
  { type: 'SAFETY.CLEARED' },
  { type: 'xstate.done.actor.program-0', actorId: 'program-0' },
];

describe('session machine, shortest paths', () => {
  const p = plan();
  // createTestModel refuses machines with delayed (after) transitions, so walk the graph with
  // getShortestPaths and execute each path ourselves.
  const paths = getShortestPaths(sessionMachine, {
    input: { board: stubBoard, reporter: nullReporter, plan: p },
    events: EVENTS,
    serializeState: (s: { value: unknown; context: { stepIndex: number; running: number[] } }) =>
      JSON.stringify([s.value, s.context.stepIndex, s.context.running]),
  } as never);
  const describePath = (path: (typeof paths)[number]) =>
    path.steps
      .map((st) => st.event.type)
      .filter((t: string) => t !== 'xstate.init')
      .join(' → ') || '(initial)';

  it('the model reaches every outcome', () => {
    const values = new Set(paths.map((path) => JSON.stringify(path.state.value)));
    for (const v of [
      '"completed"',
      '"stopped"',
      '"faulted"',
      '"faultAcknowledged"',
      '{"running":{"programs":"paused"}}',
      '"running.prompt"'.replace('"running.prompt"', '{"running":"prompt"}'),
    ]) {
      expect(values, v).toContain(v);
    }
  });

  for (const path of paths) {
    it(`real session: ${describePath(path)} ⇒ ${JSON.stringify(path.state.value)}`, async () => {
      const { clock, sim, run } = await liveSession(p);
      run.recorder.start();
      run.actor.start(); // idle, waiting for START
      const value = () => JSON.stringify(run.actor.getSnapshot().value);
      const runUntil = (pred: () => boolean, limitMs = 600_000) => {
        const end = clock.now() + limitMs;
        while (!pred() && clock.now() < end && clock.step()) {
          /* advance */
        }
      };
      for (const step of path.steps) {
        if ((step.event.type as string) === ('xstate.init' as string)) continue;
        const e = step.event as SessionEvent;
        switch (e.type) {
          case 'START':
            run.send(e);
            clock.advance(1000);
            break; // into the ramp-up, output above zero
          case 'SAFETY.FAULT':
            sim.stickHeater();
            runUntil(() => value() === '"faulted"');
            break;
          case 'SAFETY.PATIENT_STOP':
            sim.setStopInput(true);
            runUntil(() => value() === '"stopped"');
            break;
          case 'SAFETY.CLEARED':
            sim.pad.heaterStuck = false; // the technician fixes the heater
            runUntil(() => sim.pad.sensorC < 40.5);
            run.send({ type: 'ACK_FAULT' });
            runUntil(() => value() === '"faultAcknowledged"', 5_000);
            break;
          case 'xstate.done.actor.program-0':
            runUntil(() => !run.actor.getSnapshot().context.running.includes(0));
            break;
          default:
            run.send(e);
            clock.advance(1); // let the board answer
        }
        expect(JSON.parse(value()), `after ${e.type}`).toEqual(step.state.value);
      }
      expect(JSON.parse(value())).toEqual(path.state.value);
      run.stop();
      sim.stopTimers();
    });
  }
});
