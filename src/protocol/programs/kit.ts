/**
 * What a program module (tens.ts, ultrasound.ts, thermal.ts beside this file)
 * is, and the checks it is given. A leaf: the modules import only this file's
 * types, so validate.ts, schema.ts and plan.ts can iterate over them without
 * an import cycle.
 */
import type { ZodType } from 'zod';
import type { WireQuantity } from '../../drivers/wire/units.js';

export type Segment = string | number;

/** The fields of an issue a check reports (validate.ts adds the file, the path and the position). */
export interface CheckFields {
  message: string;
  value?: unknown;
  limit?: string;
  layer?: 'absolute' | 'profile' | 'schema' | 'syntax' | 'wire';
  severity?: 'error' | 'warning';
  setBy?: string;
}

/** The two limit layers and the wire, as validate.ts checks them; `at` is the program's path in the file. */
export interface CheckKit {
  add(segs: readonly Segment[], fields: CheckFields): void;
  /** The layer and source of an absolute limit (`standard` names it), or of the device profile. */
  absolute(standard?: string): { layer: 'absolute'; setBy: string };
  readonly byProfile: { layer: 'profile'; setBy: string };
  /** value ≤ absMax (and ≤ profMax when the profile narrows it); min likewise. */
  max(segs: Segment[], value: number, unit: string, absMax: number, standard: string, profMax?: number): void;
  min(segs: Segment[], value: number, unit: string, absMin: number, standard: string, profMin?: number): void;
  positive(segs: Segment[], value: number, unit: string, standard?: string): void;
  nonNegative(segs: Segment[], value: number, unit: string): void;
  /** The value must be one the wire carries exactly (checked after the limits; a field already reported is not reported twice). */
  wire(segs: Segment[], value: unknown, q: WireQuantity): void;
  wireDurations(at: Segment[], o: object, keys: string[]): void;
}

/** One phase of a program on the timeline `show` prints (ms from the program's start; `push` advances). */
export type PushPhase = (phase: string, ms: number, label: string, estimated?: boolean) => void;

/**
 * A kind of program a protocol step can name: its zod schema (every field's
 * name carrying its unit), the checks zod cannot make, its plan (times in ms
 * and derived quantities), what a parallel group may hold once, and its
 * phases on the timeline.
 */
export interface ProgramKind<K extends string, Program, Planned extends { modality: K; programIndex: number; durationMs: number }, Profile> {
  readonly key: K;
  /** The zod schema of the program in a protocol file (`- <key>: { … }`). */
  readonly schema: ZodType<Program, unknown>;
  /** Check a program against the absolute limits, the device profile's section for it (undefined: the device has none) and the wire. */
  check(p: Program, at: Segment[], kit: CheckKit, profile: Profile | undefined): void;
  /** What a parallel group may use only once ("TENS channel 2", "the ultrasound head"). */
  resource(p: Program): string;
  plan(p: Program, programIndex: number): Planned;
  timeline(p: Planned, push: PushPhase): void;
  /** Amend the program's published JSON Schema (what a zod refinement says and JSON Schema cannot see). */
  jsonSchema?(s: Record<string, unknown>): void;
}
