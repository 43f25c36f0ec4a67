/**
 * The sources the descriptors' checklists cite (each item names its table).
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
 */
export const HOUGHTON = 'Houghton PE et al., Electrophysical Agents: Contraindications and Precautions, Physiotherapy Canada 2010;62(5)';
export const JOHNSON = 'Johnson MI, TENS: Research to Support Clinical Practice, OUP 2014, ch. 6';
export const WATSON = 'Watson T, Electrotherapy: Evidence-Based Practice, 12th ed., 2008';
