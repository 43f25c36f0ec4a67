/**
 * A board whose crystal is off: a ceramic resonator on an Uno can be ±0.5 %, 9 s in
 * 30 minutes. The host tracks the board clock's rate (clock sync with a drift estimate),
 * so every plateau and dose still matches the plan in the host's (the wall's) time, and
 * no command is refused LATE. The simulated board runs with the crystal error
 * (--fault clock-drift:PPM) and meters its outputs per board tick; the board's ms are
 * converted to host ms here with the true error, independently of the host's estimate.
 */
import { describe, expect, it } from 'vitest';
import { resolveProtocol } from '../../src/protocol/index.js';
import { OUTPUT } from '../../src/drivers/wire/spec.js';
import { simulateSession } from '../../sim/harness.js';

const PROTOCOL = new URL('../../bench/protocols/session-30min.yaml', import.meta.url).pathname;

describe('a board whose clock runs 0.5 % fast or slow', () => {
  for (const ppm of [5000, -5000]) {
    it(`${ppm > 0 ? '+' : ''}${ppm} ppm: 30 minutes delivered as planned in host time, within 0.1 %, nothing LATE`, async () => {
      const r = resolveProtocol(PROTOCOL);
      if (!r.ok) throw new Error('bench protocol');
      const { summary, sim } = await simulateSession({ plan: r.plan, faults: [{ kind: 'clock-drift', ppm }] });
      expect(summary.outcome).toBe('completed');
      expect(summary.faults).toEqual([]);
      const boardToHost = (boardMs: number) => boardMs / (1 + ppm * 1e-6);
      const programs = r.plan.steps.flatMap((s) => s.programs);
      const tens = programs.find((p) => p.modality === 'tens')!;
      const us = programs.find((p) => p.modality === 'ultrasound')!;
      // the board's own meter, in host ms
      const tensOnHostMs = boardToHost(sim.meter(OUTPUT.tens1).onMs);
      const tensPlannedMs = tens.durationMs;
      expect(Math.abs(tensOnHostMs - tensPlannedMs) / tensPlannedMs, `TENS on for ${tensOnHostMs} host ms, planned ${tensPlannedMs}`).toBeLessThan(0.001);
      const usOnHostMs = boardToHost(sim.meter(OUTPUT.ultrasound).onMs);
      const usPlannedMs = us.durationMs;
      expect(Math.abs(usOnHostMs - usPlannedMs) / usPlannedMs, `ultrasound on for ${usOnHostMs} host ms, planned ${usPlannedMs}`).toBeLessThan(0.001);
      // and the record says the same
      for (const d of summary.delivered) {
        if (d.modality === 'tens') expect(Math.abs(d.plateauMs - d.planned.plateauMs) / d.planned.plateauMs).toBeLessThan(0.001);
        if (d.modality === 'ultrasound') expect(Math.abs(d.doseJPerCm2 - d.planned.doseJPerCm2) / d.planned.doseJPerCm2).toBeLessThan(0.001);
        if (d.modality === 'thermal') expect(Math.abs(d.hotMs - d.planned.hotMs) / d.planned.hotMs).toBeLessThan(0.001);
      }
    });
  }
});
