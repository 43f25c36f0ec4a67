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
import { ABSOLUTE_LIMITS as L, ACKNOWLEDGEMENTS } from './limits.js';

const num = (description: string, extra: Record<string, unknown> = {}) => z.number().meta({ description, ...extra });

const durationS = (what: string) => num(`${what}, seconds (> 0)`, { exclusiveMinimum: 0 });

export const TensProgramSchema = z
  .strictObject({
    channel: z.int().meta({ description: 'TENS output channel (1-based); the device profile lists the channels the board has', minimum: 1 }),
    waveform: z.enum(['symmetric-biphasic', 'asymmetric-biphasic']).meta({
      description: 'Pulse shape. For symmetric biphasic the phase is counted twice in the RMS current.',
    }),
    rateHz: num('Pulse rate, Hz (in burst mode: the pulse rate inside a burst)', { minimum: L.tens.minRateHz, maximum: L.tens.maxRateHz }),
    pulseWidthUs: num('Phase (pulse) width, µs', { minimum: L.tens.minPulseWidthUs, maximum: L.tens.maxPulseWidthUs }),
    amplitudeMa: num('Peak current, mA (> 0)', { exclusiveMinimum: 0, maximum: L.tens.maxAmplitudeMa }),
    electrodeAreaCm2: num('Area of the smaller electrode, cm² (used for current density)', { exclusiveMinimum: 0 }),
    rampUpS: num('Ramp from 0 to amplitudeMa, seconds (≥ 0)', { minimum: 0 }),
    durationS: durationS('Treatment time at amplitude, between the ramps'),
    rampDownS: num('Ramp from amplitudeMa to 0, seconds (≥ 0)', { minimum: 0 }),
    burst: z
      .strictObject({
        burstsPerS: num('Bursts per second, Hz (> 0)', { exclusiveMinimum: 0 }),
        pulsesPerBurst: z.int().meta({ description: 'Pulses in each burst, at rateHz', minimum: 1 }),
      })
      .optional()
      .meta({ description: 'Burst mode: trains of pulsesPerBurst pulses at rateHz, burstsPerS times a second' }),
    modulation: z
      .strictObject({
        kind: z.enum(['rate', 'width', 'amplitude']),
        minPct: num('Lowest point of the sweep, percent of the set value (0 < minPct < 100)', { exclusiveMinimum: 0, exclusiveMaximum: 100 }),
        periodS: durationS('One full sweep (down and back up)'),
      })
      .optional()
      .meta({ description: 'Sweeps rate, pulse width or amplitude between minPct % and 100 % of the set value' }),
    acknowledge: z
      .array(z.enum(ACKNOWLEDGEMENTS))
      .optional()
      .meta({ description: 'Operator acknowledgements, e.g. high-current-density for more than 2 mA/cm² RMS' }),
  })
  .meta({ description: 'A TENS program on one channel: ramp up, time at amplitude, ramp down' });

export const UltrasoundProgramSchema = z
  .strictObject({
    frequencyMHz: z.literal(L.ultrasound.frequenciesMHz as [number, ...number[]]).meta({ description: 'Frequency, MHz: 1 (deep) or 3 (superficial)' }),
    dutyCyclePct: z.literal(L.ultrasound.dutyCyclesPct as [number, ...number[]]).meta({ description: 'Duty cycle, percent (100 = continuous)' }),
    intensityWPerCm2: num('Set (effective) intensity, W/cm² (> 0)', { exclusiveMinimum: 0, maximum: L.ultrasound.maxIntensityWPerCm2 }),
    eraCm2: num('Effective radiating area of the head, cm²', { exclusiveMinimum: 0 }),
    areaCm2: num('Treatment area, cm² (at most 4 × ERA; warning above 2 × ERA)', { exclusiveMinimum: 0 }),
    doseJPerCm2: num('Dose, J/cm² = intensity × duty × time × ERA / area. Give this or durationS, not both.', { exclusiveMinimum: 0 }).optional(),
    durationS: durationS('Emission time. Give this or doseJPerCm2, not both.').optional(),
  })
  .superRefine((p, ctx) => {
    const hasDose = p.doseJPerCm2 !== undefined;
    const hasTime = p.durationS !== undefined;
    if (hasDose === hasTime) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: hasDose ? 'give exactly one of doseJPerCm2 or durationS, not both' : 'give exactly one of doseJPerCm2 or durationS (neither is set)',
        input: p,
      });
    }
  })
  .meta({ description: 'A therapeutic ultrasound program (one head). Exactly one of doseJPerCm2 / durationS.' });

const PhaseSchema = (kind: 'hot' | 'cold') =>
  z.strictObject({
    targetC:
      kind === 'hot'
        ? num('Pad target for the hot phase, °C', { maximum: L.thermal.maxHotTargetC })
        : num('Pad target for the cold phase, °C', { minimum: L.thermal.minColdTargetC }),
    durationS: durationS(`Time at target for the ${kind} phase (the engine adds a transition before it)`),
  });

export const HotPhaseSchema = PhaseSchema('hot');
export const ColdPhaseSchema = PhaseSchema('cold');

export const ThermalProgramSchema = z
  .discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('heat'), hot: HotPhaseSchema }),
    z.strictObject({ mode: z.literal('cold'), cold: ColdPhaseSchema }),
    z.strictObject({
      mode: z.literal('contrast'),
      hot: HotPhaseSchema,
      cold: ColdPhaseSchema,
      cycles: z.int().meta({ description: 'Number of cycles; one cycle is one hot and one cold phase', minimum: 1 }),
      startWith: z.enum(['hot', 'cold']).default('hot').meta({ description: 'Which phase each cycle starts with (default hot)' }),
    }),
  ])
  .meta({ description: 'Thermal pad program: heat, cold, or contrast (alternating hot and cold)' });

export const PromptStepSchema = z
  .strictObject({
    text: z.string().min(1).meta({ description: 'Instruction shown to the operator' }),
    durationS: durationS('How long the prompt step lasts'),
  })
  .meta({ description: 'An operator instruction with a fixed time, no output' });

export const TensStepSchema = z.strictObject({ tens: TensProgramSchema });
export const UltrasoundStepSchema = z.strictObject({ ultrasound: UltrasoundProgramSchema });
export const ThermalStepSchema = z.strictObject({ thermal: ThermalProgramSchema });
export const PromptStepWrapperSchema = z.strictObject({ prompt: PromptStepSchema });

/** Keys a parallel group may contain, in the order of ParallelItemSchema's options. */
export const PARALLEL_KEYS = ['tens', 'ultrasound', 'thermal'] as const;
export const ParallelItemSchema = z.union([TensStepSchema, UltrasoundStepSchema, ThermalStepSchema]);

export const ParallelStepSchema = z.strictObject({
  parallel: z
    .array(ParallelItemSchema)
    .min(1)
    .meta({ description: 'Programs that run at the same time: at most one per TENS channel, one ultrasound, one thermal' }),
});

/** Keys a step may have, in the order of StepSchema's options. */
export const STEP_KEYS = ['tens', 'ultrasound', 'thermal', 'parallel', 'prompt'] as const;
export const StepSchema = z.union([TensStepSchema, UltrasoundStepSchema, ThermalStepSchema, ParallelStepSchema, PromptStepWrapperSchema]);

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
export type TensProgram = z.infer<typeof TensProgramSchema>;
export type UltrasoundProgram = z.infer<typeof UltrasoundProgramSchema>;
export type ThermalProgram = z.infer<typeof ThermalProgramSchema>;
export type PromptStep = z.infer<typeof PromptStepSchema>;
export type Step = z.infer<typeof StepSchema>;
export type ParallelItem = z.infer<typeof ParallelItemSchema>;
export type ProgramModality = (typeof PARALLEL_KEYS)[number];

/** The JSON Schema published at schema/protocol.schema.json. */
export function protocolJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ProtocolSchema, {
    target: 'draft-2020-12',
    io: 'input',
    override: (ctx) => {
      // "exactly one of doseJPerCm2 / durationS" is a refinement, which JSON Schema cannot see; say it explicitly.
      if (ctx.zodSchema === UltrasoundProgramSchema) {
        ctx.jsonSchema.oneOf = [{ required: ['doseJPerCm2'] }, { required: ['durationS'] }];
      }
    },
  }) as Record<string, unknown>;
  return { $id: 'https://modality.local/schema/protocol.schema.json', ...schema };
}
