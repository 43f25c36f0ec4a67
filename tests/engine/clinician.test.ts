/** What a physiotherapist does at the cart: pause, adjust, stop, emergency stop, acknowledge a fault. */
import { describe, expect, it } from 'vitest';
import { resolveProtocol, type Plan } from '../../src/protocol/index.js';
import { simulateSession } from '../../sim/harness.js';
import { parseFaultSpec } from '../../sim/faults.js';
import { EVENT_KIND, FAULT, OUTPUT } from '../../src/drivers/wire/spec.js';
import type { SessionEvent } from '../../src/machines/session.machine.js';
import type { RunEvent } from '../../src/engine/events.js';

function plan(id: string): Plan {
  const r = resolveProtocol(id);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

/** Run a protocol, sending clinician events at session times (ms). */
async function withActions(id: string, actions: [number, SessionEvent][], faults: string[] = [], holdMs?: number) {
  const events: RunEvent[] = [];
  const res = await simulateSession({
    plan: plan(id),
    faults: faults.map(parseFaultSpec),
    onEvent: (e) => events.push(e),
    ...(holdMs !== undefined ? { holdMs } : {}),
    onStart: ({ run, clock }) => {
      for (const [t, e] of actions) clock.setTimeout(() => run.send(e), t);
    },
  });
  return { ...res, events };
}

const tensOf = (d: { modality: string }[]) => d.find((x) => x.modality === 'tens') as unknown as { plateauMs: number; peakMa: number; stimulationMs: number };

describe('clinician actions', () => {
  it('PAUSE halts the timers and turns outputs off; RESUME re-ramps and the plateau still equals the plan', async () => {
    const p = plan('tens-conventional');
    const { summary, sim, events } = await withActions('tens-conventional', [
      [60_000, { type: 'PAUSE' }],
      [90_000, { type: 'RESUME' }],
    ]);
    expect(summary.outcome).toBe('completed');
    const prog = p.steps[0]!.programs[0]!;
    if (prog.modality !== 'tens') throw new Error('tens');
    expect(Math.abs(tensOf(summary.delivered).plateauMs - prog.plateauMs)).toBeLessThanOrEqual(1);
    // Off during the pause, on the board's own account.
    const off = sim.eventLog.find((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.output === OUTPUT.tens1 && e.code === 0)!;
    expect(off).toBeDefined();
    expect(summary.elapsedMs).toBeGreaterThan(prog.durationMs + 30_000);
    expect(events.some((e) => e.type === 'action' && e.kind === 'pause')).toBe(true);
  });

  it('ADJUST_INTENSITY ramps at the slew limit, never jumps, and is clamped to the step and board limits', async () => {
    const { summary, events } = await withActions('tens-conventional', [
      [60_000, { type: 'ADJUST_INTENSITY', deltaMa: 5 }],
      [120_000, { type: 'ADJUST_INTENSITY', amplitudeMa: 500 }],
    ]);
    expect(summary.outcome).toBe('completed');
    const ramps = events.filter((e): e is Extract<RunEvent, { type: 'applied' }> => e.type === 'applied' && e.output === 'tens1' && e.action === 'ramp');
    // ramp-up, +5 mA, to the clamp, ramp-down
    expect(ramps.map((r) => r.value)).toEqual([25, 30, expect.any(Number), 0]);
    const clamp = ramps[2]!.value;
    // 25 cm² electrodes at 100 Hz, 100 µs symmetric: 2 mA/cm² allows about 111 mA, so the board's 80 mA governs.
    expect(clamp).toBe(80);
    for (const r of ramps.slice(0, 3)) {
      const prev = r === ramps[0] ? 0 : ramps[ramps.indexOf(r) - 1]!.value;
      expect((r.value - prev) / (r.durationMs! / 1000)).toBeLessThanOrEqual(10 + 1e-9); // mA/s
    }
    expect(tensOf(summary.delivered).peakMa).toBe(80);
  });

  it('STOP ramps down and ends the session stopped', async () => {
    const { summary, events, sim } = await withActions('tens-conventional', [[60_000, { type: 'STOP' }]]);
    expect(summary.outcome).toBe('stopped');
    expect(summary.stopReason).toBe('clinician');
    const down = events.filter(
      (e): e is Extract<RunEvent, { type: 'applied' }> => e.type === 'applied' && e.output === 'tens1' && e.action === 'ramp' && e.value === 0,
    );
    expect(down).toHaveLength(1); // the planned ramp-down was cancelled; this one is the STOP's
    expect(down[0]!.t).toBeGreaterThanOrEqual(60_000);
    expect(down[0]!.durationMs).toBe(5000); // from the full 25 mA at the program's ramp-down rate
    expect(sim.outputValue(OUTPUT.tens1)).toBe(0);
  });

  it('STOP during a ramp-up (after a resume too) ramps down from where the board is: never refused, ends stopped', async () => {
    // tens-conventional ramps up over 10 s at the slew limit; the board's output follows one 0.1 mA step behind
    for (const actions of [
      [[4_000, { type: 'STOP' }]],
      [
        [20_000, { type: 'PAUSE' }],
        [25_000, { type: 'RESUME' }],
        [28_000, { type: 'STOP' }],
      ],
    ] as [number, SessionEvent][][]) {
      const { summary, events, sim } = await withActions('tens-conventional', actions);
      expect(summary.outcome).toBe('stopped');
      expect(summary.faults).toEqual([]);
      expect(events.filter((e) => e.type === 'fault')).toEqual([]);
      expect(sim.eventLog.filter((e) => e.kind === EVENT_KIND.REFUSED)).toEqual([]);
      expect(sim.outputValue(OUTPUT.tens1)).toBe(0);
    }
  });

  it('EMERGENCY_STOP turns everything off at once and latches ESTOP on the board', async () => {
    const { summary, sim } = await withActions('us-tens-combined', [[60_000, { type: 'EMERGENCY_STOP' }]]);
    expect(summary.outcome).toBe('stopped');
    expect(summary.stopReason).toBe('emergency');
    const estop = sim.eventLog.find((e) => e.kind === EVENT_KIND.FAULT_LATCHED && e.code === FAULT.ESTOP)!;
    const offs = sim.eventLog.filter((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.code === FAULT.ESTOP);
    expect(offs.map((o) => o.output).sort()).toEqual([OUTPUT.tens1, OUTPUT.ultrasound]);
    for (const o of offs) expect(o.boardMs).toBe(estop.boardMs);
    expect(sim.faultCodes()).toEqual([FAULT.ESTOP]);
  });

  it('a fault latches until ACK_FAULT, and the board refuses to clear while the cause remains', async () => {
    // The heater sticks at 5 min and the board cuts the pad at 41 °C about 4 s later. The clinician
    // acknowledges at once (pad still above 41 °C: refused), then again two minutes later (cleared).
    const { summary, sim, events } = await withActions(
      'heat-pack',
      [
        [306_000, { type: 'ACK_FAULT' }],
        [420_000, { type: 'ACK_FAULT' }],
      ],
      ['overtemp@5m'],
      421_000,
    );
    expect(summary.outcome).toBe('faulted');
    const notes = events.filter((e) => e.type === 'action').map((e) => (e as { kind: string }).kind);
    expect(notes).toContain('clear-refused');
    // The second acknowledgement, after the pad cooled below 41 °C, clears the latch on the board.
    expect(sim.faultCodes()).toEqual([]);
    expect(events.some((e) => e.type === 'faultCleared')).toBe(true);
  });
});
