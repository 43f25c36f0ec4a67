/** Request bodies of the cart's API, validated with zod (the records' context schema is the single source). */
import { z } from 'zod';
import { SessionContextSchema } from '../records/context.js';

const FileSchema = z.strictObject({ name: z.string().min(1).max(200), text: z.string().min(1).max(500_000) });

/** A protocol file uploaded at the cart, to check and describe before the start form. */
export const UploadSchema = z.strictObject({ file: FileSchema });

export const StartSchema = z.strictObject({
  protocol: z.union([z.strictObject({ key: z.string().min(1).max(200) }), UploadSchema]),
  // At the cart, who, where and the checklist are required; notes are not.
  context: SessionContextSchema.required({ patient: true, clinician: true, site: true, contraindications: true }),
});
export type StartBody = z.infer<typeof StartSchema>;

export const ActionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.enum(['pause', 'resume', 'continue', 'stop', 'emergency-stop', 'acknowledge']) }),
  z.strictObject({
    action: z.literal('adjust'),
    deltaMa: z
      .number()
      .min(-10)
      .max(10)
      .refine((x) => x !== 0, 'deltaMa must not be 0'),
    channel: z.union([z.literal(1), z.literal(2)]).optional(),
  }),
]);

/** Simulated board only: inject a fault now, written as for `modality run --fault` with times from now, e.g. "lead-off@0s+20s". */
export const SimFaultSchema = z.union([
  z.strictObject({ fault: z.string().min(1).max(100) }),
  /** ...or end one: electrode contact back on a channel, or the head coupled again. */
  z.strictObject({ restore: z.enum(['contact:1', 'contact:2', 'coupling']) }),
]);

export const HistoryQuerySchema = z.strictObject({
  patient: z.string().min(1).max(80).optional(),
  all: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** Zod issues as one line for an API error. */
export function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}
