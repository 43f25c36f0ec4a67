/**
 * Therapeutic ultrasound in a protocol: the program's schema, its checks, its
 * plan and its timeline (the descriptor, src/modalities/ultrasound.ts, is the
 * rest of it).
 */
import { z } from 'zod';
import { WIRE_QUANTITIES as WQ } from '../../drivers/wire/units.js';
import { roundTo } from '../../util/number.js';
import { areaToEraRatio, resolveUltrasound } from '../dose.js';
import { ABSOLUTE_LIMITS as L, STANDARDS } from '../limits.js';
import { durationS, num } from './fields.js';
import type { ProgramKind } from './kit.js';

const round = (x: number, digits = 3) => roundTo(x, digits);

export const UltrasoundProgramSchema = z
  .strictObject({
    frequencyMHz: z.literal(L.ultrasound.frequenciesMHz as [number, ...number[]]).meta({ description: 'Frequency, MHz: 1 (deep) or 3 (superficial)' }),
    dutyCyclePct: z.literal(L.ultrasound.dutyCyclesPct as [number, ...number[]]).meta({ description: 'Duty cycle, percent (100 = continuous)' }),
    intensityWPerCm2: num('Set (effective) intensity, W/cm² (> 0)', { exclusiveMinimum: 0, maximum: L.ultrasound.maxIntensityWPerCm2 }),
    eraCm2: num('Effective radiating area of the head, cm²', { exclusiveMinimum: 0 }),
    areaCm2: num('Treatment area, cm² (at most 4 × ERA; warning above 2 × ERA)', { exclusiveMinimum: 0 }),
    doseJPerCm2: num('Dose, J/cm² = intensity × duty × time × ERA / area. Give this or durationS, not both.', { exclusiveMinimum: 0 }).optional(),
    durationS: durationS('Emission time. Give this or doseJPerCm2, not both.').optional(),
  })
  .superRefine((p, ctx) => {
    const hasDose = p.doseJPerCm2 !== undefined;
    const hasTime = p.durationS !== undefined;
    if (hasDose === hasTime) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: hasDose ? 'give exactly one of doseJPerCm2 or durationS, not both' : 'give exactly one of doseJPerCm2 or durationS (neither is set)',
        input: p,
      });
    }
  })
  .meta({ description: 'A therapeutic ultrasound program (one head). Exactly one of doseJPerCm2 / durationS.' });

export type UltrasoundProgram = z.infer<typeof UltrasoundProgramSchema>;

export type PlannedUltrasound = Omit<UltrasoundProgram, 'doseJPerCm2'> & {
  modality: 'ultrasound';
  programIndex: number;
  durationMs: number;
  energyJ: number;
  /** resolved dose (given, or computed from durationS) */
  doseJPerCm2: number;
  averagePowerW: number;
};

/** The device profile's ultrasound section (src/protocol/profile.ts). */
interface UltrasoundProfile {
  headEraCm2: number;
  frequenciesMHz: number[];
  maxIntensityWPerCm2: number;
}

export const ultrasoundProgram = {
  key: 'ultrasound',
  schema: UltrasoundProgramSchema,
  check(u, at, kit, pu) {
    const { add, byProfile, max, positive, wire, wireDurations } = kit;
    const S = STANDARDS.ultrasound;
    if (!pu) {
      add(at, { message: 'this device has no ultrasound head', ...byProfile });
      return;
    }
    positive([...at, 'intensityWPerCm2'], u.intensityWPerCm2, 'W/cm²', S);
    max([...at, 'intensityWPerCm2'], u.intensityWPerCm2, 'W/cm²', L.ultrasound.maxIntensityWPerCm2, S, pu.maxIntensityWPerCm2);
    if (!(pu.frequenciesMHz as number[]).includes(u.frequencyMHz))
      add([...at, 'frequencyMHz'], {
        value: u.frequencyMHz,
        limit: `one of ${pu.frequenciesMHz.join(', ')} MHz`,
        message: `the head does not support ${u.frequencyMHz} MHz (supports ${pu.frequenciesMHz.join(', ')} MHz)`,
        ...byProfile,
      });
    positive([...at, 'eraCm2'], u.eraCm2, 'cm²');
    if (u.eraCm2 > pu.headEraCm2)
      add([...at, 'eraCm2'], {
        value: u.eraCm2,
        limit: `= ${pu.headEraCm2} cm²`,
        message: `exceeds the fitted head's ERA of ${pu.headEraCm2} cm²`,
        ...byProfile,
      });
    else if (u.eraCm2 > 0 && u.eraCm2 < pu.headEraCm2)
      add([...at, 'eraCm2'], {
        value: u.eraCm2,
        limit: `= ${pu.headEraCm2} cm²`,
        message: `does not match the fitted head's ERA of ${pu.headEraCm2} cm² (the dose is computed from the ERA, so it must be the head's)`,
        ...byProfile,
      });
    positive([...at, 'areaCm2'], u.areaCm2, 'cm²');
    if (u.doseJPerCm2 !== undefined) positive([...at, 'doseJPerCm2'], u.doseJPerCm2, 'J/cm²');
    if (u.durationS !== undefined) positive([...at, 'durationS'], u.durationS, 's');
    if (u.areaCm2 > 0 && u.eraCm2 > 0) {
      const ratio = areaToEraRatio(u);
      if (ratio > L.ultrasound.maxAreaToEraRatio)
        add([...at, 'areaCm2'], {
          value: u.areaCm2,
          limit: `≤ ${L.ultrasound.maxAreaToEraRatio} × ERA = ${round(L.ultrasound.maxAreaToEraRatio * u.eraCm2)} cm²`,
          message: `treatment area is ${round(ratio, 2)} × the ERA, above ${L.ultrasound.maxAreaToEraRatio} × ERA (${round(L.ultrasound.maxAreaToEraRatio * u.eraCm2)} cm²): too large to treat with this head`,
          layer: 'absolute',
          setBy: 'absolute limit, dose rule',
        });
      else if (ratio > L.ultrasound.warnAreaToEraRatio)
        add([...at, 'areaCm2'], {
          value: u.areaCm2,
          limit: `≤ ${L.ultrasound.warnAreaToEraRatio} × ERA = ${round(L.ultrasound.warnAreaToEraRatio * u.eraCm2)} cm²`,
          severity: 'warning',
          message: `treatment area is ${round(ratio, 2)} × the ERA, above ${L.ultrasound.warnAreaToEraRatio} × ERA: the dose is spread thin`,
          layer: 'absolute',
          setBy: 'dose rule',
        });
    }
    wire([...at, 'intensityWPerCm2'], u.intensityWPerCm2, WQ.usIntensityWPerCm2);
    wire([...at, 'eraCm2'], u.eraCm2, WQ.eraCm2);
    wire([...at, 'frequencyMHz'], u.frequencyMHz, WQ.usFrequencyMHz);
    wire([...at, 'dutyCyclePct'], u.dutyCyclePct, WQ.usDutyCyclePct);
    wireDurations(at, u, ['durationS']);
  },
  resource: () => 'the ultrasound head',
  plan(u, programIndex): PlannedUltrasound {
    const r = resolveUltrasound(u);
    return {
      ...u,
      modality: 'ultrasound',
      programIndex,
      durationMs: r.durationMs,
      energyJ: r.energyJ,
      doseJPerCm2: r.doseJPerCm2,
      averagePowerW: u.intensityWPerCm2 * (u.dutyCyclePct / 100) * u.eraCm2,
    };
  },
  timeline(p, push) {
    push('emission', p.durationMs, `${p.frequencyMHz} MHz, ${p.intensityWPerCm2} W/cm², ${p.dutyCyclePct} % duty`);
  },
  // "exactly one of doseJPerCm2 / durationS" is a refinement, which JSON Schema cannot see; say it explicitly.
  jsonSchema: (s) => {
    s.oneOf = [{ required: ['doseJPerCm2'] }, { required: ['durationS'] }];
  },
} satisfies ProgramKind<'ultrasound', UltrasoundProgram, PlannedUltrasound, UltrasoundProfile>;
