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

/** The schemas of the programs, by key (what a step `- <key>: { … }` is checked against). */
export { TensProgramSchema } from './tens.js';
export { UltrasoundProgramSchema } from './ultrasound.js';
export { ThermalProgramSchema, HotPhaseSchema, ColdPhaseSchema, thermalPhases } from './thermal.js';
export type { TensProgram, PlannedTens } from './tens.js';
export type { UltrasoundProgram, PlannedUltrasound } from './ultrasound.js';
export type { ThermalProgram, PlannedThermal } from './thermal.js';
