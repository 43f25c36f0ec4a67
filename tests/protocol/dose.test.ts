import { describe, expect, it } from 'vitest';
import {
  areaToEraRatio,
  resolveUltrasound,
  secondsToMs,
  tensCurrentDensityMaPerCm2,
  tensEffectivePulseRateHz,
  tensRmsCurrentMa,
  ultrasoundDoseJPerCm2,
  ultrasoundDurationSForDose,
  ultrasoundEnergyJ,
} from '../../src/protocol/dose.js';

const us = { frequencyMHz: 1, intensityWPerCm2: 1.5, dutyCyclePct: 100, eraCm2: 5, areaCm2: 10 } as const;

describe('ultrasound dose (hand-worked)', () => {
  it('1.5 W/cm² × 100 % × 5 cm² ERA over 10 cm², 135 J/cm² → 180 s, 1350 J', () => {
    expect(ultrasoundDurationSForDose(us, 135)).toBeCloseTo(180, 9);
    expect(ultrasoundEnergyJ(us, 180)).toBeCloseTo(1350, 9);
    expect(ultrasoundDoseJPerCm2(us, 180)).toBeCloseTo(135, 9);
    expect(resolveUltrasound({ ...us, doseJPerCm2: 135 })).toEqual({ durationS: 180, durationMs: 180000, doseJPerCm2: 135, energyJ: 1350 });
  });
  it('pulsed 20 %: 0.5 W/cm², 480 s, ERA 5 over 10 cm² → 24 J/cm², 240 J', () => {
    const r = resolveUltrasound({ ...us, intensityWPerCm2: 0.5, dutyCyclePct: 20, frequencyMHz: 3, durationS: 480 });
    expect(r.durationMs).toBe(480000);
    expect(r.doseJPerCm2).toBeCloseTo(24, 9);
    expect(r.energyJ).toBeCloseTo(240, 9);
  });
  it('1.0 W/cm² continuous, 150 J/cm², ERA 5 over 10 cm² → 300 s', () => {
    expect(resolveUltrasound({ ...us, intensityWPerCm2: 1, doseJPerCm2: 150 }).durationMs).toBe(300000);
  });
  it('rounds a dose-derived time to the nearest integer ms', () => {
    // 100 J/cm² × 10 / (1.5 × 0.33 × 5) = 404.0404… s
    const r = resolveUltrasound({ ...us, dutyCyclePct: 33, doseJPerCm2: 100 });
    expect(r.durationMs).toBe(404040);
    expect(Number.isInteger(r.durationMs)).toBe(true);
  });
  it('area/ERA ratio', () => {
    expect(areaToEraRatio({ areaCm2: 10, eraCm2: 5 })).toBe(2);
    expect(areaToEraRatio({ areaCm2: 25, eraCm2: 5 })).toBe(5);
  });
});

describe('TENS RMS current and density (hand-worked)', () => {
  const t = { amplitudeMa: 25, pulseWidthUs: 100, rateHz: 100, waveform: 'symmetric-biphasic', electrodeAreaCm2: 25 } as const;
  it('symmetric biphasic doubles the phase: 25 mA × √(2 × 100 µs × 100 Hz) = 3.536 mA RMS', () => {
    expect(tensRmsCurrentMa(t)).toBeCloseTo(25 * Math.sqrt(0.02), 9);
    expect(tensRmsCurrentMa(t)).toBeCloseTo(3.5355, 4);
    expect(tensCurrentDensityMaPerCm2(t)).toBeCloseTo(0.14142, 5);
  });
  it('asymmetric biphasic counts the phase once', () => {
    expect(tensRmsCurrentMa({ ...t, waveform: 'asymmetric-biphasic' })).toBeCloseTo(25 * Math.sqrt(0.01), 9);
  });
  it('burst mode uses burstsPerS × pulsesPerBurst as the pulse rate', () => {
    const b = { ...t, burst: { burstsPerS: 2, pulsesPerBurst: 7 } };
    expect(tensEffectivePulseRateHz(b)).toBe(14);
    expect(tensRmsCurrentMa(b)).toBeCloseTo(25 * Math.sqrt(2 * 100e-6 * 14), 9);
  });
  it('40 mA, 400 µs, 150 Hz symmetric over 4 cm² = 3.46 mA/cm²', () => {
    expect(tensCurrentDensityMaPerCm2({ ...t, amplitudeMa: 40, pulseWidthUs: 400, rateHz: 150, electrodeAreaCm2: 4 })).toBeCloseTo(
      (40 * Math.sqrt(2 * 400e-6 * 150)) / 4,
      9,
    );
  });
  it('secondsToMs rounds', () => {
    expect(secondsToMs(0.0004)).toBe(0);
    expect(secondsToMs(1.0006)).toBe(1001);
  });
});
