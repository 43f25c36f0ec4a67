/**
 * Who, where and why: the clinical context a treatment record carries, and how
 * a session ran (board, speed, injected faults), which decides whether the
 * record is a treatment or a simulation. One zod schema, used by `modality run`
 * and by the cart's API.
 */
import { z } from 'zod';

export const SIDES = ['left', 'right', 'both', 'midline'] as const;

export const ContraindicationAnswerSchema = z.strictObject({
  /** Stable id of the checklist item (src/cart/checklist.ts). */
  id: z.string().min(1).max(80),
  /** The question as the clinician saw it. */
  text: z.string().min(1).max(300),
  /** true: the contraindication or precaution is present. */
  present: z.boolean(),
});

export const SessionContextSchema = z.strictObject({
  patient: z.string().trim().min(1).max(80).optional(),
  clinician: z.string().trim().min(1).max(80).optional(),
  site: z.string().trim().min(1).max(120).optional(),
  side: z.enum(SIDES).optional(),
  notes: z.string().trim().max(2000).optional(),
  contraindications: z.array(ContraindicationAnswerSchema).max(100).optional(),
});

export type SessionContext = z.infer<typeof SessionContextSchema>;
export type ContraindicationAnswer = z.infer<typeof ContraindicationAnswerSchema>;

/** How the session ran: on what, how fast, with which injected faults. */
export interface RunConditions {
  /** Virtual-clock speed against real time; 1 = real time, Infinity = "max". */
  speed: number;
  /** Fault specs injected into a simulated board, as written (e.g. "lead-off@5m+30s"). */
  injectedFaults: string[];
}

export const REAL_TIME: RunConditions = { speed: 1, injectedFaults: [] };

/** A session on a simulated board, not at real time, or with injected faults is a simulation, never a treatment. */
export function isSimulated(boardSpec: string, boardKind: string | undefined, run: RunConditions): boolean {
  return boardSpec === 'sim' || boardKind === 'simulated' || run.speed !== 1 || run.injectedFaults.length > 0;
}

/** Which sessions a listing shows: treatments only unless `all`; one patient's with `patient`. */
export interface ListFilter {
  all?: boolean;
  patient?: string;
}
