/**
 * Each clinical fault injected mid-step on the simulated board, through the
 * real driver and line: the outcome and the delivered values the issue states.
 */
import { describe, expect, it } from 'vitest';
import { resolveProtocol, type Plan } from '../../src/protocol/index.js';
import { simulateSession } from '../../sim/harness.js';
import { parseFaultSpec } from '../../sim/faults.js';
import { EVENT_KIND, FAULT, OUTPUT } from '../../src/drivers/wire/spec.js';
import type { RunEvent } from '../../src/engine/events.js';

function plan(id: string): Plan {
  const r = resolveProtocol(id);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

async function runWith(id: string, ...faults: string[]) {
  const events: RunEvent[] = [];
  const res = await simulateSession({ plan: plan(id), faults: faults.map(parseFaultSpec), onEvent: (e) => events.push(e) });
  return { ...res, events };
}

describe('faults injected mid-step', () => {
  it('lead-off: the board cuts the channel at once, the step halts, then re-ramps from zero; plateau time equals the plan', async () => {
    const p = plan('tens-conventional');
    const { summary, events, sim } = await runWith('tens-conventional', 'lead-off@5m+30s');
    expect(summary.outcome).toBe('completed');
    const t = summary.delivered[0]!;
    if (t.modality !== 'tens') throw new Error('expected TENS');
    const prog = p.steps[0]!.programs[0]!;
    if (prog.modality !== 'tens') throw new Error('expected TENS');
    expect(Math.abs(t.plateauMs - prog.plateauMs)).toBeLessThanOrEqual(1);
    // Two ramps up now: the stimulation time grows by one ramp-up.
    expect(Math.abs(t.stimulationMs - (prog.durationMs + prog.rampUpMs))).toBeLessThanOrEqual(1);
    expect(summary.faults.map((f) => f.code)).toEqual(['LEAD_OFF']);
    // Cut at once: the board's APPLIED_OFF for the channel carries LEAD_OFF at the fault's own board time.
    const cut = sim.eventLog.find((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.code === FAULT.LEAD_OFF)!;
    const latched = sim.eventLog.find((e) => e.kind === EVENT_KIND.FAULT_LATCHED && e.code === FAULT.LEAD_OFF)!;
    expect(cut.boardMs).toBe(latched.boardMs);
    expect(cut.output).toBe(OUTPUT.tens1);
    // The second ramp starts from zero.
    const ramps = events.filter((e) => e.type === 'applied' && e.output === 'tens1' && e.action === 'ramp' && e.value > 0);
    expect(ramps).toHaveLength(2);
    const phases = events.filter((e) => e.type === 'phase' && e.modality === 'tens').map((e) => (e as { phase: string }).phase);
    expect(phases).toEqual(['ramp-up', 'plateau', 'lead-off', 'contact-restored', 'ramp-up', 'plateau', 'ramp-down', 'done']);
  });

  it('coupling loss: output suspended and dose timer halted; the delivered dose equals the plan', async () => {
    const p = plan('us-1mhz-thermal');
    const { summary, sim } = await runWith('us-1mhz-thermal', 'coupling-loss@1m+20s');
    expect(summary.outcome).toBe('completed');
    const u = summary.delivered[0]!;
    if (u.modality !== 'ultrasound') throw new Error('expected ultrasound');
    const prog = p.steps[0]!.programs[0]!;
    if (prog.modality !== 'ultrasound') throw new Error('expected ultrasound');
    expect(Math.abs(u.doseJPerCm2 - prog.doseJPerCm2) / prog.doseJPerCm2).toBeLessThanOrEqual(0.001);
    expect(Math.abs(u.coupledMs - prog.durationMs)).toBeLessThanOrEqual(1);
    expect(Math.abs(u.uncoupledMs - 20_000)).toBeLessThanOrEqual(1);
    expect(summary.faults.map((f) => f.code)).toEqual(['UNCOUPLED']);
    // The board's own meter: intensity × time while on equals the planned dose's intensity × time.
    const m = sim.meter(OUTPUT.ultrasound);
    expect(Math.abs(m.onMs - prog.durationMs)).toBeLessThanOrEqual(1);
  });

  it('patient stop: every output goes off at once; outcome stopped', async () => {
    const { summary, sim } = await runWith('us-tens-combined', 'stop-button@2m');
    expect(summary.outcome).toBe('stopped');
    expect(summary.stopReason).toBe('patient');
    expect(summary.faults.map((f) => f.code)).toContain('STOP_INPUT');
    const stop = sim.eventLog.find((e) => e.kind === EVENT_KIND.FAULT_LATCHED && e.code === FAULT.STOP_INPUT)!;
    const offs = sim.eventLog.filter((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.code === FAULT.STOP_INPUT);
    expect(offs.map((e) => e.output).sort()).toEqual([OUTPUT.tens1, OUTPUT.ultrasound]);
    for (const o of offs) expect(o.boardMs).toBe(stop.boardMs);
    for (const o of [0, 1, 2, 3]) expect(sim.outputValue(o)).toBe(0);
    expect(sim.faultCodes()).toContain(FAULT.STOP_INPUT); // latched until someone clears it
  });

  it("patient stop mid-plateau: the delivered plateau ends at the board's cut, not at zero and not at the session end", async () => {
    const { summary, sim } = await runWith('tens-conventional', 'stop-button@2m');
    expect(summary.outcome).toBe('stopped');
    const t = summary.delivered[0]!;
    if (t.modality !== 'tens') throw new Error('tens');
    const cut = sim.eventLog.find((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.code === FAULT.STOP_INPUT)!;
    const rampUp = sim.eventLog.find((e) => e.kind === EVENT_KIND.RAMP_START && e.value > 0)!;
    // plateau from the end of the 10 s ramp to the cut
    expect(t.plateauMs).toBe(cut.boardMs - (rampUp.boardMs + 10_000));
    expect(t.stimulationMs).toBe(cut.boardMs - rampUp.boardMs);
  });

  it('a lead that never comes back: after 10 minutes halted the session faults instead of waiting for ever', async () => {
    const { summary, sim } = await runWith('tens-conventional', 'lead-off@5m');
    expect(summary.outcome).toBe('faulted');
    expect(summary.faults.map((f) => f.code)).toEqual(['LEAD_OFF', 'LEAD_OFF_TOO_LONG']);
    expect(summary.elapsedMs).toBeGreaterThanOrEqual(15 * 60_000);
    expect(summary.elapsedMs).toBeLessThan(16 * 60_000);
    expect(sim.outputValue(OUTPUT.tens1)).toBe(0);
  });

  it('host silence: the board zeroes its outputs within the lease and latches HOST_TIMEOUT; outcome faulted', async () => {
    const { summary, sim } = await runWith('tens-conventional', 'host-silence@3m');
    expect(summary.outcome).toBe('faulted');
    expect(summary.faults.map((f) => f.code)).toContain('HOST_TIMEOUT');
    const timeout = sim.eventLog.find((e) => e.kind === EVENT_KIND.FAULT_LATCHED && e.code === FAULT.HOST_TIMEOUT)!;
    const off = sim.eventLog.find((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.code === FAULT.HOST_TIMEOUT)!;
    expect(off.boardMs).toBe(timeout.boardMs);
    const startBoardMs = summary.faults.find((f) => f.code === 'HOST_TIMEOUT')!.boardMs - summary.faults.find((f) => f.code === 'HOST_TIMEOUT')!.t;
    const silenceAt = startBoardMs + 180_000;
    // Off no later than one lease (400 ms) after the last frame that reached the board (before the silence).
    expect(timeout.boardMs).toBeGreaterThan(silenceAt - 100);
    expect(timeout.boardMs).toBeLessThanOrEqual(silenceAt + 400);
    expect(sim.outputValue(OUTPUT.tens1)).toBe(0);
  });

  it('over-temperature: the board cuts the pad; outcome faulted', async () => {
    const { summary, sim } = await runWith('heat-pack', 'overtemp@5m');
    expect(summary.outcome).toBe('faulted');
    expect(summary.faults[0]!.code).toBe('OVER_TEMP');
    expect(sim.pad.powerCut).toBe(true);
    expect(sim.padMaxC).toBeLessThan(42); // cut at 41 °C; only the heat already in the pad follows
    expect(sim.outputValue(OUTPUT.pad)).toBe(0);
  });

  it("a pad that heats too slowly: the board's runaway watch latches THERMAL_RUNAWAY and cuts it; outcome faulted", async () => {
    const { summary, sim, events } = await (async () => {
      const evs: RunEvent[] = [];
      const r = await simulateSession({ plan: plan('heat-pack'), board: { pad: { maxHeatCPerS: 0.05 } }, onEvent: (e) => evs.push(e) });
      return { ...r, events: evs };
    })();
    expect(summary.outcome).toBe('faulted');
    expect(summary.faults[0]!.code).toBe('THERMAL_RUNAWAY');
    // 0.05 °C/s is 1 °C per 20 s watch period, short of the 2 °C it must gain: caught in the first period or two.
    expect(summary.faults[0]!.t).toBeLessThan(45_000);
    expect(sim.pad.powerCut).toBe(true);
    expect(events.some((e) => e.type === 'phase' && e.phase === 'to-hot')).toBe(true);
    expect(events.some((e) => e.type === 'phase' && e.phase === 'hot')).toBe(false);
  });

  it('the host mirrors the runaway check: a pad that strays from its target is caught even if the board missed it', async () => {
    const evs: RunEvent[] = [];
    const { summary, sim } = await simulateSession({
      plan: plan('heat-pack'),
      onEvent: (e) => evs.push(e),
      onStart: ({ sim: board, clock }) => {
        // A board whose own runaway check is broken (the defect the host's check is there for) ...
        board.injectDefects({ noRunaway: true });
        // ... and a heater that fails five minutes in, at target.
        clock.setTimeout(() => {
          board.pad.p.maxHeatCPerS = 0;
        }, 300_000);
      },
    });
    expect(summary.outcome).toBe('faulted');
    expect(summary.faults.map((f) => f.code)).toEqual(['THERMAL_RUNAWAY_HOST']);
    expect(sim.outputValue(OUTPUT.pad)).toBe(0);
    expect(evs.some((e) => e.type === 'phase' && e.phase === 'hot')).toBe(true);
  });

  it('line noise: frames are retransmitted and the session completes with the planned dose', async () => {
    const p = plan('us-tens-combined');
    const { summary } = await runWith('us-tens-combined', 'line-noise:0.002');
    expect(summary.outcome).toBe('completed');
    expect(summary.link.retransmits).toBeGreaterThan(0);
    expect(summary.link.crcErrors).toBeGreaterThan(0);
    const prog = p.steps[0]!.programs.find((x) => x.modality === 'ultrasound')!;
    const u = summary.delivered.find((d) => d.modality === 'ultrasound')!;
    if (u.modality !== 'ultrasound' || prog.modality !== 'ultrasound') throw new Error('expected ultrasound');
    expect(Math.abs(u.doseJPerCm2 - prog.doseJPerCm2) / prog.doseJPerCm2).toBeLessThanOrEqual(0.001);
  });

  it('disconnect: the host reports the link lost and the board times out on its own; outcome faulted', async () => {
    const { summary, sim } = await runWith('tens-conventional', 'disconnect@1m');
    expect(summary.outcome).toBe('faulted');
    expect(summary.faults[0]!.code).toBe('LINK_LOST');
    expect(sim.faultCodes()).toContain(FAULT.HOST_TIMEOUT);
    expect(sim.outputValue(OUTPUT.tens1)).toBe(0);
  });

  it('thermal timing: each phase counts from within 1 °C of target, after its own transition phase', async () => {
    const { summary, events } = await runWith('contrast-cold-finish');
    expect(summary.outcome).toBe('completed');
    const phases = events.filter((e) => e.type === 'phase' && e.modality === 'thermal').map((e) => (e as { phase: string }).phase);
    expect(phases.slice(0, 4)).toEqual(['to-hot', 'hot', 'to-cold', 'cold']);
    expect(phases.at(-1)).toBe('done');
    // At the start of each at-target phase the board's telemetry is within 1 °C of the target soon after.
    const atTarget = events.filter((e) => e.type === 'phase' && (e as { phase: string }).phase === 'hot') as unknown as { boardMs: number; targetC: number }[];
    for (const a of atTarget) {
      const tm = events.find((e) => e.type === 'telemetry' && e.boardMs >= a.boardMs) as { outputs: { pad: { tempC: number } } } | undefined;
      expect(tm).toBeDefined();
      expect(Math.abs(tm!.outputs.pad.tempC - a.targetC)).toBeLessThanOrEqual(1.2);
    }
  });
});
