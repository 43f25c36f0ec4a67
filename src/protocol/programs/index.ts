/**
 * The program kinds a protocol step can name, by key: one module each (its
 * schema, checks, plan and timeline). schema.ts builds the protocol's steps,
 * validate.ts checks them and plan.ts plans them by iterating over this list;
 * its order is the order of the step schema's options.
 */
import { tensProgram } from './tens.js';
import { thermalProgram } from './thermal.js';
import { ultrasoundProgram } from './ultrasound.js';

export const PROGRAMS = { tens: tensProgram, ultrasound: ultrasoundProgram, thermal: thermalProgram } as const;

/** The key and the program of a one-program step (`{ <key>: program }`), typed loosely for the loops that handle every kind alike. */
export function programOf(item: object): [keyof typeof PROGRAMS, unknown] {
  const key = (Object.keys(PROGRAMS) as (keyof typeof PROGRAMS)[]).find((k) => k in item);
  if (!key) throw new Error(`not a program step: ${Object.keys(item).join(', ')}`);
  return [key, (item as Record<string, unknown>)[key]];
}

/** The schemas of the programs, by key (what a step `- <key>: { … }` is checked against). */
export { TensProgramSchema } from './tens.js';
export { UltrasoundProgramSchema } from './ultrasound.js';
export { ThermalProgramSchema, HotPhaseSchema, ColdPhaseSchema, thermalPhases } from './thermal.js';
export type { TensProgram, PlannedTens } from './tens.js';
export type { UltrasoundProgram, PlannedUltrasound } from './ultrasound.js';
export type { ThermalProgram, PlannedThermal } from './thermal.js';
