/** A board that stops following the plan, or one with faults latched before the session, never leaves a session hanging with an output on. */
import { describe, expect, it } from 'vitest';
import { resolveProtocol } from '../../src/protocol/index.js';
import { OUTPUT } from '../../src/drivers/wire/spec.js';
import { liveSession } from '../helpers.js';

function plan(id: string) {
  const r = resolveProtocol(id);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

describe('program watchdogs and pre-checks', () => {
  it('a board that acknowledges but never runs the ramp-down: the watchdog cuts the channel and the session faults', async () => {
    const { clock, sim, run } = await liveSession(plan('examples/tens-10s.yaml'));
    const events: { type: string; code?: string }[] = [];
    run.recorder.onEvent((e) => events.push(e as never));
    run.start();
    clock.advance(3000); // on the plateau
    // From now on the board drops every queued command for channel 1 (a firmware defect).
    sim.injectDefects({ dropDue: [OUTPUT.tens1] });
    clock.runWhile(() => !run.isFinished(), clock.now() + 60_000);
    const s = run.summary();
    expect(s.outcome).toBe('faulted');
    expect(s.faults.map((f) => f.code)).toContain('BOARD_NOT_FOLLOWING');
    clock.advance(1000);
    expect(sim.outputValue(OUTPUT.tens1)).toBe(0);
  });

  it('a board with a fault latched before the session refuses to start it', async () => {
    const { clock, sim, board, run } = await liveSession(plan('examples/tens-10s.yaml'));
    sim.setStopInput(true);
    clock.advance(20); // a press the board's tick sees
    sim.setStopInput(false);
    clock.advance(600); // the next telemetry says STOP_INPUT is latched
    expect(board.latchedFaults()).toEqual(['STOP_INPUT']);
    run.start();
    clock.advance(1000);
    const s = run.summary();
    expect(s.outcome).toBe('faulted');
    const pre = s.faults.find((f) => f.code === 'PRECHECK');
    expect(pre?.message).toContain('STOP_INPUT');
    expect(sim.eventLog.filter((e) => e.kind === 2 /* RAMP_START */)).toEqual([]); // nothing was switched on
  });
});
