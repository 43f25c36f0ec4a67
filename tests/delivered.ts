import { expect } from 'vitest';
import type { Delivered } from '../src/engine/events.js';
import type { Plan } from '../src/protocol/index.js';

/** Delivered equals planned: time within 1 ms, dose within 0.1 %. */
export function expectDeliveredAsPlanned(p: Plan, delivered: Delivered[]): void {
  const programs = p.steps.flatMap((s) => s.programs);
  expect(delivered.map((d) => d.program)).toEqual(programs.map((x) => x.programIndex));
  for (const d of delivered) {
    const prog = programs.find((x) => x.programIndex === d.program)!;
    if (d.modality === 'tens' && prog.modality === 'tens') {
      expect(Math.abs(d.plateauMs - prog.plateauMs)).toBeLessThanOrEqual(1);
      expect(Math.abs(d.stimulationMs - prog.durationMs)).toBeLessThanOrEqual(1);
      expect(d.peakMa).toBe(prog.amplitudeMa);
    } else if (d.modality === 'ultrasound' && prog.modality === 'ultrasound') {
      expect(Math.abs(d.doseJPerCm2 - prog.doseJPerCm2) / prog.doseJPerCm2).toBeLessThanOrEqual(0.001);
      expect(Math.abs(d.energyJ - prog.energyJ) / prog.energyJ).toBeLessThanOrEqual(0.001);
      expect(Math.abs(d.coupledMs - prog.durationMs)).toBeLessThanOrEqual(1);
      expect(d.uncoupledMs).toBe(0);
    } else if (d.modality === 'thermal' && prog.modality === 'thermal') {
      const hot = prog.phases.filter((x) => x.kind === 'hot').reduce((s, x) => s + x.durationMs, 0);
      const cold = prog.phases.filter((x) => x.kind === 'cold').reduce((s, x) => s + x.durationMs, 0);
      expect(Math.abs(d.hotMs - hot)).toBeLessThanOrEqual(1);
      expect(Math.abs(d.coldMs - cold)).toBeLessThanOrEqual(1);
      if (prog.mode === 'contrast') expect(d.cycles).toBe(prog.cycles);
      // The pad stayed inside the applied-part limits the whole time.
      expect(d.maxC).toBeLessThanOrEqual(41);
      expect(d.minC).toBeGreaterThanOrEqual(10 - 1);
    } else {
      throw new Error(`program ${d.program}: delivered ${d.modality} but planned ${prog.modality}`);
    }
  }
}
