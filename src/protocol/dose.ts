/**
 * Dose and timing math, in one place. Pure functions, SI-ish units named in
 * every parameter.
 *
 * Ultrasound dose: D [J/cm²] = I [W/cm²] · (duty/100) · t [s] · ERA [cm²] / A [cm²]
 *   so        t [s] = D · A / (I · (duty/100) · ERA)
 *   energy    E [J] = I · (duty/100) · t · ERA            (= D · A)
 *
 * TENS RMS current (IEC 60601-2-10): I_rms = I_peak · √(phase · rate), with the
 * phase doubled for a symmetric biphasic pulse; phase in seconds, rate in Hz.
 * Current density = I_rms / electrode area.
 */
import { toWire, WIRE_QUANTITIES } from '../drivers/wire/units.js';

/**
 * The fields of the programs the math reads (structural: the program modules,
 * src/protocol/programs/, import this file, so it cannot import their types).
 */
interface UltrasoundProgram {
  intensityWPerCm2: number;
  dutyCyclePct: number;
  eraCm2: number;
  areaCm2: number;
  doseJPerCm2?: number | undefined;
  durationS?: number | undefined;
}
interface TensProgram {
  amplitudeMa: number;
  pulseWidthUs: number;
  rateHz: number;
  waveform: 'symmetric-biphasic' | 'asymmetric-biphasic';
  electrodeAreaCm2: number;
  burst?: { burstsPerS: number; pulsesPerBurst: number } | undefined;
}

export type UltrasoundDoseInput = Pick<UltrasoundProgram, 'intensityWPerCm2' | 'dutyCyclePct' | 'eraCm2' | 'areaCm2'>;

/** D [J/cm²] for an emission time t [s]. */
export function ultrasoundDoseJPerCm2(p: UltrasoundDoseInput, durationS: number): number {
  return (p.intensityWPerCm2 * (p.dutyCyclePct / 100) * durationS * p.eraCm2) / p.areaCm2;
}

/** t [s] needed to deliver D [J/cm²]. */
export function ultrasoundDurationSForDose(p: UltrasoundDoseInput, doseJPerCm2: number): number {
  return (doseJPerCm2 * p.areaCm2) / (p.intensityWPerCm2 * (p.dutyCyclePct / 100) * p.eraCm2);
}

/** Total acoustic energy E [J] over t [s]. */
export function ultrasoundEnergyJ(p: Pick<UltrasoundProgram, 'intensityWPerCm2' | 'dutyCyclePct' | 'eraCm2'>, durationS: number): number {
  return p.intensityWPerCm2 * (p.dutyCyclePct / 100) * durationS * p.eraCm2;
}

/** Time-averaged acoustic power, W. */
export function ultrasoundAveragePowerW(p: Pick<UltrasoundProgram, 'intensityWPerCm2' | 'dutyCyclePct' | 'eraCm2'>): number {
  return p.intensityWPerCm2 * (p.dutyCyclePct / 100) * p.eraCm2;
}

export type UltrasoundResolved = { durationS: number; durationMs: number; doseJPerCm2: number; energyJ: number };

/**
 * Resolve an ultrasound program to its emission time, dose and energy. When a
 * dose is given it is kept exactly (energy = D·A) and the time is rounded to
 * the nearest ms; when a time is given, dose and energy follow from it.
 */
export function resolveUltrasound<P extends UltrasoundProgram>(p: P): UltrasoundResolved {
  if (p.doseJPerCm2 !== undefined) {
    const durationS = ultrasoundDurationSForDose(p, p.doseJPerCm2);
    return { durationS, durationMs: secondsToMs(durationS), doseJPerCm2: p.doseJPerCm2, energyJ: p.doseJPerCm2 * p.areaCm2 };
  }
  const durationS = p.durationS ?? 0;
  return {
    durationS,
    durationMs: secondsToMs(durationS),
    doseJPerCm2: ultrasoundDoseJPerCm2(p, durationS),
    energyJ: ultrasoundEnergyJ(p, durationS),
  };
}

/** Area / ERA: above 2 draws a warning, above 4 is rejected. */
export function areaToEraRatio(p: Pick<UltrasoundProgram, 'areaCm2' | 'eraCm2'>): number {
  return p.areaCm2 / p.eraCm2;
}

/** Pulses per second actually delivered: burstsPerS·pulsesPerBurst in burst mode, else rateHz. */
export function tensEffectivePulseRateHz(p: Pick<TensProgram, 'rateHz' | 'burst'>): number {
  return p.burst ? p.burst.burstsPerS * p.burst.pulsesPerBurst : p.rateHz;
}

/** RMS current, mA, at the set (peak) amplitude. */
export function tensRmsCurrentMa(p: Pick<TensProgram, 'amplitudeMa' | 'pulseWidthUs' | 'rateHz' | 'burst' | 'waveform'>): number {
  const phaseS = (p.pulseWidthUs / 1e6) * (p.waveform === 'symmetric-biphasic' ? 2 : 1);
  return p.amplitudeMa * Math.sqrt(phaseS * tensEffectivePulseRateHz(p));
}

/** RMS current density under the electrode, mA/cm². */
export function tensCurrentDensityMaPerCm2(
  p: Pick<TensProgram, 'amplitudeMa' | 'pulseWidthUs' | 'rateHz' | 'burst' | 'waveform' | 'electrodeAreaCm2'>,
): number {
  return tensRmsCurrentMa(p) / p.electrodeAreaCm2;
}

/** Seconds to integer milliseconds, rounded to the nearest ms. */
/** Seconds → the integer milliseconds the board schedules in (the same scale `validate` checks durations against). */
export function secondsToMs(s: number): number {
  return toWire(WIRE_QUANTITIES.durationS, s);
}
