/** A plan in words, for the detail and start screens. */
import type { PlannedProgram, PlanStep } from '../../protocol/index.js';
import { M, duration, fmt, num } from './format.js';

export function programLines(p: PlannedProgram): string[] {
  const d = M.detail;
  if (p.modality === 'tens') {
    return [
      fmt(d.tens, {
        channel: p.channel,
        waveform: p.waveform,
        rate: p.rateHz,
        width: p.pulseWidthUs,
        amplitude: p.amplitudeMa,
        up: duration(p.rampUpMs),
        plateau: duration(p.plateauMs),
        down: duration(p.rampDownMs),
      }),
      ...(p.burst ? [fmt(d.tensBurst, { bursts: p.burst.burstsPerS, pulses: p.burst.pulsesPerBurst })] : []),
      fmt(d.tensDensity, { density: num(p.currentDensityMaPerCm2, 3), rms: num(p.rmsCurrentMa, 2), area: p.electrodeAreaCm2 }),
    ];
  }
  if (p.modality === 'ultrasound') {
    return [
      fmt(d.us, { freq: p.frequencyMHz, duty: p.dutyCyclePct, intensity: p.intensityWPerCm2, era: p.eraCm2, area: p.areaCm2, time: duration(p.durationMs) }),
      fmt(d.usDose, { dose: num(p.doseJPerCm2, 2), energy: num(p.energyJ, 1), power: num(p.averagePowerW, 2) }),
    ];
  }
  const phases = p.phases.map((ph) => fmt(ph.kind === 'hot' ? d.hot : d.cold, { target: ph.targetC, time: duration(ph.durationMs) })).join(' → ');
  return [fmt(d.thermal, { mode: p.mode, phases })];
}

export function stepLines(s: PlanStep): string[] {
  if (s.prompt) return [fmt(M.detail.prompt, { text: s.prompt.text, time: duration(s.prompt.durationMs) })];
  return s.programs.flatMap(programLines);
}
