/**
 * The thermal pad in a protocol: the program's schema, its checks, its plan
 * (with the estimated transitions, thermal-estimate.ts) and its timeline (the
 * descriptor, src/modalities/thermal.ts, is the rest of it).
 */
import { z } from 'zod';
import { WIRE_QUANTITIES as WQ } from '../../drivers/wire/units.js';
import { secondsToMs } from '../dose.js';
import { ABSOLUTE_LIMITS as L, STANDARDS } from '../limits.js';
import { estimateTransitionsMs, type ThermalPhase } from '../thermal-estimate.js';
import { durationS, num } from './fields.js';
import type { ProgramKind } from './kit.js';

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

export type ThermalProgram = z.infer<typeof ThermalProgramSchema>;

export type PlannedThermal = ThermalProgram & {
  modality: 'thermal';
  programIndex: number;
  phases: ThermalPhase[];
  /** sum of the phases' time at target */
  atTargetMs: number;
  /** sum of the estimated transitions */
  transitionMs: number;
  /** atTargetMs + transitionMs: the program's estimated length */
  durationMs: number;
};

export function thermalPhases(t: ThermalProgram): ThermalPhase[] {
  const hot = (h: { targetC: number; durationS: number }): ThermalPhase => ({ kind: 'hot', targetC: h.targetC, durationMs: secondsToMs(h.durationS) });
  const cold = (c: { targetC: number; durationS: number }): ThermalPhase => ({ kind: 'cold', targetC: c.targetC, durationMs: secondsToMs(c.durationS) });
  if (t.mode === 'heat') return [hot(t.hot)];
  if (t.mode === 'cold') return [cold(t.cold)];
  const out: ThermalPhase[] = [];
  for (let c = 0; c < t.cycles; c++) {
    if (t.startWith === 'cold') out.push(cold(t.cold), hot(t.hot));
    else out.push(hot(t.hot), cold(t.cold));
  }
  return out;
}

/** The device profile's thermal section (src/protocol/profile.ts). */
interface ThermalProfile {
  maxHotC: number;
  minColdC: number;
}

export const thermalProgram = {
  key: 'thermal',
  schema: ThermalProgramSchema,
  check(th, at, kit, pth) {
    const { add, absolute, byProfile, max, min, positive, wire, wireDurations } = kit;
    const S = STANDARDS.thermal;
    if (!pth) {
      add(at, { message: 'this device has no thermal pad', ...byProfile });
      return;
    }
    if (th.mode === 'heat' || th.mode === 'contrast') {
      max([...at, 'hot', 'targetC'], th.hot.targetC, '°C', L.thermal.maxHotTargetC, `${S}, pad surface max ${L.thermal.padSurfaceMaxC} °C`, pth.maxHotC);
      positive([...at, 'hot', 'durationS'], th.hot.durationS, 's');
    }
    if (th.mode === 'cold' || th.mode === 'contrast') {
      min([...at, 'cold', 'targetC'], th.cold.targetC, '°C', L.thermal.minColdTargetC, 'cold floor', pth.minColdC);
      positive([...at, 'cold', 'durationS'], th.cold.durationS, 's');
    }
    if (th.mode === 'contrast') {
      if (th.cycles < 1) add([...at, 'cycles'], { value: th.cycles, limit: '≥ 1', message: 'must be at least 1', ...absolute() });
      if (th.hot.targetC <= th.cold.targetC)
        add([...at, 'hot', 'targetC'], {
          value: th.hot.targetC,
          layer: 'schema',
          message: `the hot target must be above the cold target (${th.cold.targetC} °C)`,
        });
    }
    for (const kind of ['hot', 'cold'] as const) {
      const ph = (th as Partial<Record<'hot' | 'cold', { targetC: number; durationS: number }>>)[kind];
      if (!ph) continue;
      wire([...at, kind, 'targetC'], ph.targetC, WQ.padTargetC);
      wireDurations([...at, kind], ph, ['durationS']);
    }
  },
  resource: () => 'the thermal pad',
  plan(t, programIndex): PlannedThermal {
    const bare = thermalPhases(t);
    const transitions = estimateTransitionsMs(bare);
    const phases = bare.map((p, i) => ({ ...p, transitionMs: transitions[i] ?? 0 }));
    const atTargetMs = phases.reduce((s, p) => s + p.durationMs, 0);
    const transitionMs = phases.reduce((s, p) => s + p.transitionMs, 0);
    return { ...t, modality: 'thermal', programIndex, phases, atTargetMs, transitionMs, durationMs: atTargetMs + transitionMs };
  },
  timeline(p, push) {
    for (const ph of p.phases) {
      push(ph.kind === 'hot' ? 'to-hot' : 'to-cold', ph.transitionMs ?? 0, `pad to ${ph.targetC} °C (estimated)`, true);
      push(ph.kind, ph.durationMs, `${ph.kind} ${ph.targetC} °C`);
    }
  },
} satisfies ProgramKind<'thermal', ThermalProgram, PlannedThermal, ThermalProfile>;
