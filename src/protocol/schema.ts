/**
 * The protocol format: the single source of truth. The JSON Schema in
 * schema/protocol.schema.json is generated from this file (npm run schema).
 *
 * The zod schema checks structure: types, enums, required and unknown keys.
 * Numeric ranges (the two limit layers) are checked in validate.ts against
 * ABSOLUTE_LIMITS and the device profile, so each violation can name the layer
 * that set it. The absolute ranges are copied into the JSON Schema as
 * annotations (minimum/maximum) so editors flag them too.
 *
 * Every numeric field name carries its unit: S (seconds), Hz, Us (µs), Ma (mA),
 * Cm2 (cm²), MHz, Pct (%), WPerCm2 (W/cm²), JPerCm2 (J/cm²), C (°C).
 */
import { z } from 'zod';
import { durationS } from './programs/fields.js';
import { PROGRAMS } from './programs/index.js';

export const PromptStepSchema = z
  .strictObject({
    text: z.string().min(1).meta({ description: 'Instruction shown to the operator' }),
    durationS: durationS('How long the prompt step lasts'),
  })
  .meta({ description: 'An operator instruction with a fixed time, no output' });

export const PromptStepWrapperSchema = z.strictObject({ prompt: PromptStepSchema });

/** Keys a parallel group may contain: the program kinds (programs/index.ts), in the order of ParallelItemSchema's options. */
export const PARALLEL_KEYS = Object.keys(PROGRAMS) as ProgramModality[];

/** A step of one program: `- <key>: { … }`, for each program kind. */
type ProgramStepSchema = { [K in ProgramModality]: z.ZodObject<{ [P in K]: (typeof PROGRAMS)[P]['schema'] }, z.core.$strict> }[ProgramModality];
const programStep = (k: ProgramModality) => z.strictObject({ [k]: PROGRAMS[k].schema }) as ProgramStepSchema;
const PROGRAM_STEPS = PARALLEL_KEYS.map(programStep);

export const ParallelItemSchema = z.union(PROGRAM_STEPS);

export const ParallelStepSchema = z.strictObject({
  parallel: z
    .array(ParallelItemSchema)
    .min(1)
    .meta({ description: 'Programs that run at the same time: at most one per TENS channel, one ultrasound, one thermal' }),
});

/** Keys a step may have, in the order of StepSchema's options. */
export const STEP_KEYS = [...PARALLEL_KEYS, 'parallel', 'prompt'] as const;
export const StepSchema = z.union([...PROGRAM_STEPS, ParallelStepSchema, PromptStepWrapperSchema]);

export const ProtocolSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'id must be lower-case letters, digits and dashes')
      .meta({ description: 'Stable identifier, e.g. upper-back-combo' }),
    name: z.string().min(1).meta({ description: 'Human name' }),
    indication: z.string().min(1).meta({ description: 'What the protocol is for' }),
    source: z.string().min(1).optional().meta({ description: 'Where the parameters come from (required for built-in protocols)' }),
    notes: z.string().optional().meta({ description: 'Free-text notes for the clinician' }),
    steps: z.array(StepSchema).min(1).meta({ description: 'Steps run in order' }),
  })
  .meta({
    title: 'modality treatment protocol',
    description: 'A timed physiotherapy protocol (TENS, therapeutic ultrasound, thermal pad). YAML or JSON.',
  });

export type Protocol = z.infer<typeof ProtocolSchema>;
export type PromptStep = z.infer<typeof PromptStepSchema>;
export type Step = z.infer<typeof StepSchema>;
export type ParallelItem = z.infer<typeof ParallelItemSchema>;
export type ProgramModality = keyof typeof PROGRAMS;
export type { TensProgram, UltrasoundProgram, ThermalProgram } from './programs/index.js';
export { TensProgramSchema, UltrasoundProgramSchema, ThermalProgramSchema, HotPhaseSchema, ColdPhaseSchema } from './programs/index.js';

/** The JSON Schema published at schema/protocol.schema.json. */
export function protocolJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ProtocolSchema, {
    target: 'draft-2020-12',
    io: 'input',
    override: (ctx) => {
      for (const k of PARALLEL_KEYS) {
        const kind = PROGRAMS[k];
        if (ctx.zodSchema === kind.schema && 'jsonSchema' in kind) kind.jsonSchema(ctx.jsonSchema);
      }
    },
  }) as Record<string, unknown>;
  return { $id: 'https://modality.local/schema/protocol.schema.json', ...schema };
}
