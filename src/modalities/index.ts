/**
 * The modality registry: every modality modality can deliver, by name. Adding
 * one is a descriptor file beside these and one line here, and its machine in
 * src/machines/programs.ts (docs/extending.md); the type checker then points at
 * every table still missing it.
 */
import type { ModalityName, PlannedProgram } from '../protocol/index.js';
import { tens, type DeliveredTens } from './tens.js';
import { thermal, type DeliveredThermal } from './thermal.js';
import type { ModalityDescriptor } from './types.js';
import { ultrasound, type DeliveredUltrasound } from './ultrasound.js';

export type { DeliveredAcc, ModalityDescriptor } from './types.js';
export type { DeliveredTens, DeliveredThermal, DeliveredUltrasound };

/** What was delivered by one program, per modality (the summary's and the record's `delivered`). */
export type Delivered = DeliveredTens | DeliveredUltrasound | DeliveredThermal;

export const MODALITIES = { tens, ultrasound, thermal } as const satisfies {
  [N in ModalityName]: ModalityDescriptor<Extract<PlannedProgram, { modality: N }>, Extract<Delivered, { modality: N }>>;
};

/** The descriptor of a planned program's modality, typed loosely for code that handles every modality alike. */
export const modalityOf = (p: PlannedProgram): ModalityDescriptor => MODALITIES[p.modality] as unknown as ModalityDescriptor;

/** The descriptor a delivered value belongs to. */
export const modalityOfDelivered = (d: Delivered): ModalityDescriptor<PlannedProgram, Delivered> =>
  MODALITIES[d.modality] as unknown as ModalityDescriptor<PlannedProgram, Delivered>;
