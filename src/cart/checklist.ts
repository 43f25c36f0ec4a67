/**
 * The contraindication and precaution checklist the clinician answers before
 * Start, per modality in the protocol. Every item cites where it comes from.
 *
 * HOUGHTON: Houghton PE, Nussbaum EL, Hoens AM. Electrophysical Agents:
 *   Contraindications and Precautions: An Evidence-Based Approach to Clinical
 *   Decision Making in Physical Therapy. Physiotherapy Canada 2010;62(5):1-80
 *   (doi:10.3138/ptc.62.5). Its tables list, per agent and per body region,
 *   what is contraindicated and what calls for precaution.
 * JOHNSON: Johnson MI. Transcutaneous Electrical Nerve Stimulation (TENS):
 *   Research to Support Clinical Practice. Oxford University Press 2014, ch. 6.
 * WATSON: Watson T (ed.). Electrotherapy: Evidence-Based Practice, 12th ed.
 *   Churchill Livingstone 2008, ch. 12 (ultrasound) and ch. 9 (heat and cold).
 *
 * A contraindication answered "present" blocks Start; a precaution answered
 * "present" is recorded and shown, and the clinician decides.
 */
import type { Plan } from '../protocol/index.js';

export type ChecklistModality = 'tens' | 'ultrasound' | 'thermal' | 'heat' | 'cold';

export interface ChecklistItem {
  /** The question's text is in the message catalogue: src/cart/ui/messages/en.ts, `checklist[id]`. */
  id: string;
  modality: ChecklistModality;
  kind: 'contraindication' | 'precaution';
  source: string;
}

const HOUGHTON = 'Houghton PE et al., Electrophysical Agents: Contraindications and Precautions, Physiotherapy Canada 2010;62(5)';
const JOHNSON = 'Johnson MI, TENS: Research to Support Clinical Practice, OUP 2014, ch. 6';
const WATSON = 'Watson T, Electrotherapy: Evidence-Based Practice, 12th ed., 2008';

export const CHECKLIST: readonly ChecklistItem[] = [
  // TENS
  { id: 'tens-implant', modality: 'tens', kind: 'contraindication', source: `${HOUGHTON} (electrical stimulation, implanted electronic devices); ${JOHNSON}` },
  { id: 'tens-anterior-neck', modality: 'tens', kind: 'contraindication', source: `${HOUGHTON} (electrical stimulation, anterior neck)` },
  { id: 'tens-pregnancy', modality: 'tens', kind: 'contraindication', source: `${HOUGHTON} (electrical stimulation, pregnant uterus); ${JOHNSON}` },
  { id: 'tens-epilepsy', modality: 'tens', kind: 'precaution', source: `${HOUGHTON} (electrical stimulation over the head or neck in epilepsy); ${JOHNSON}` },
  { id: 'tens-dvt', modality: 'tens', kind: 'contraindication', source: `${HOUGHTON} (electrical stimulation, active DVT)` },
  { id: 'tens-skin', modality: 'tens', kind: 'precaution', source: `${HOUGHTON} (electrical stimulation, impaired sensation, damaged skin)` },
  // Therapeutic ultrasound
  { id: 'us-malignancy', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, malignancy); ${WATSON}` },
  { id: 'us-laminectomy', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, spinal cord after laminectomy)` },
  { id: 'us-dvt', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, active DVT); ${WATSON}` },
  { id: 'us-pregnancy', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, pregnant uterus)` },
  { id: 'us-implant', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, implants, eyes, gonads)` },
  { id: 'us-infection', modality: 'ultrasound', kind: 'precaution', source: `${HOUGHTON} (ultrasound, active infection, haemorrhage)` },
  // Heat and cold pad
  { id: 'thermal-sensation', modality: 'thermal', kind: 'contraindication', source: `${HOUGHTON} (thermal agents, impaired sensation); ${WATSON}` },
  { id: 'thermal-circulation', modality: 'thermal', kind: 'contraindication', source: `${HOUGHTON} (thermal agents, impaired circulation)` },
  { id: 'thermal-wounds', modality: 'thermal', kind: 'precaution', source: `${HOUGHTON} (thermal agents, open wounds, fragile skin)` },
  { id: 'thermal-communication', modality: 'thermal', kind: 'precaution', source: `${HOUGHTON} (thermal agents, impaired cognition or communication)` },
  { id: 'heat-acute', modality: 'heat', kind: 'contraindication', source: `${HOUGHTON} (superficial heat, acute inflammation, haemorrhage)` },
  { id: 'cold-hypersensitivity', modality: 'cold', kind: 'contraindication', source: `${HOUGHTON} (cryotherapy, cold hypersensitivity, Raynaud's)` },
];

/** The items for a plan's modalities, in checklist order. */
export function checklistFor(plan: Plan): ChecklistItem[] {
  const mods = new Set<ChecklistModality>();
  for (const s of plan.steps)
    for (const p of s.programs) {
      mods.add(p.modality);
      if (p.modality === 'thermal') for (const ph of p.phases) mods.add(ph.kind === 'hot' ? 'heat' : 'cold');
    }
  return CHECKLIST.filter((i) => mods.has(i.modality));
}
