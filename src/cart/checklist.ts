/**
 * The contraindication and precaution checklist the clinician answers before
 * Start, per modality in the protocol. The items are each modality's
 * descriptor's (src/modalities/<name>.ts, `checklist`); every item cites
 * where it comes from (src/modalities/sources.ts).
 *
 * A contraindication answered "present" blocks Start; a precaution answered
 * "present" is recorded and shown, and the clinician decides.
 */
import { MODALITIES, modalityOf } from '../modalities/index.js';
import type { ChecklistItem } from '../modalities/types.js';
import type { Plan } from '../protocol/index.js';

export type { ChecklistItem };

/** Every item, in checklist order (the registry's order, then each descriptor's). */
export const CHECKLIST: readonly ChecklistItem[] = Object.values(MODALITIES).flatMap((m) => m.checklist.items);

/** The items for a plan's modalities, in checklist order. */
export function checklistFor(plan: Plan): ChecklistItem[] {
  const groups = new Set<string>();
  for (const s of plan.steps) for (const p of s.programs) for (const g of modalityOf(p).checklist.groups(p)) groups.add(g);
  return CHECKLIST.filter((i) => groups.has(i.modality));
}
