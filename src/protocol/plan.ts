/**
 * Plan building: a validated Protocol resolved to integer-millisecond timings.
 * Pure: no I/O, no clocks.
 *
 * Thermal note: a thermal phase's time AT TARGET is what the protocol asks
 * for; before each hot/cold phase the pad must first heat or cool to the
 * target. Those transitions are estimated from the reference pad model
 * (thermal-estimate.ts) and included in the program's durationMs, the step's
 * plannedMs and the plan's totalMs.
 */
import { createHash } from 'node:crypto';
import type { Issue } from './issues.js';
import type { Protocol, PromptStep, TensProgram, ThermalProgram, UltrasoundProgram } from './schema.js';
import { estimateTransitionsMs, type ThermalPhase } from './thermal-estimate.js';
import { resolveUltrasound, secondsToMs, tensCurrentDensityMaPerCm2, tensEffectivePulseRateHz, tensRmsCurrentMa } from './dose.js';

export { THERMAL_PLAN_NOTE } from './thermal-estimate.js';

export type { ThermalPhase } from './thermal-estimate.js';

export type PlannedTens = TensProgram & {
  modality: 'tens';
  programIndex: number;
  rampUpMs: number;
  plateauMs: number;
  rampDownMs: number;
  /** rampUpMs + plateauMs + rampDownMs */
  durationMs: number;
  effectivePulseRateHz: number;
  rmsCurrentMa: number;
  currentDensityMaPerCm2: number;
};

export type PlannedUltrasound = Omit<UltrasoundProgram, 'doseJPerCm2'> & {
  modality: 'ultrasound';
  programIndex: number;
  durationMs: number;
  energyJ: number;
  /** resolved dose (given, or computed from durationS) */
  doseJPerCm2: number;
  averagePowerW: number;
};

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

export type PlannedProgram = PlannedTens | PlannedUltrasound | PlannedThermal;
/** The modalities a program can be (the modality registry, src/modalities/, has one descriptor each). */
export type ModalityName = PlannedProgram['modality'];

export type PlanStep = {
  index: number;
  kind: 'program' | 'parallel' | 'prompt';
  programs: PlannedProgram[];
  prompt?: { text: string; durationMs: number };
  plannedMs: number;
  /** planned start offset from the session start (estimated thermal transitions included) */
  startMs: number;
};

export type Plan = {
  protocol: Protocol;
  source: string;
  hash: string;
  steps: PlanStep[];
  totalMs: number;
  warnings: Issue[];
};

/** JSON with object keys sorted, for hashing. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** sha256 (hex) of the canonical JSON of the parsed protocol (defaults applied). */
export function protocolHash(protocol: Protocol): string {
  return createHash('sha256').update(canonicalJson(protocol)).digest('hex');
}

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

export function planTens(t: TensProgram, programIndex: number): PlannedTens {
  const rampUpMs = secondsToMs(t.rampUpS);
  const plateauMs = secondsToMs(t.durationS);
  const rampDownMs = secondsToMs(t.rampDownS);
  return {
    ...t,
    modality: 'tens',
    programIndex,
    rampUpMs,
    plateauMs,
    rampDownMs,
    durationMs: rampUpMs + plateauMs + rampDownMs,
    effectivePulseRateHz: tensEffectivePulseRateHz(t),
    rmsCurrentMa: tensRmsCurrentMa(t),
    currentDensityMaPerCm2: tensCurrentDensityMaPerCm2(t),
  };
}

export function planUltrasound(u: UltrasoundProgram, programIndex: number): PlannedUltrasound {
  const r = resolveUltrasound(u);
  return {
    ...u,
    modality: 'ultrasound',
    programIndex,
    durationMs: r.durationMs,
    energyJ: r.energyJ,
    doseJPerCm2: r.doseJPerCm2,
    averagePowerW: u.intensityWPerCm2 * (u.dutyCyclePct / 100) * u.eraCm2,
  };
}

export function planThermal(t: ThermalProgram, programIndex: number): PlannedThermal {
  const bare = thermalPhases(t);
  const transitions = estimateTransitionsMs(bare);
  const phases = bare.map((p, i) => ({ ...p, transitionMs: transitions[i] ?? 0 }));
  const atTargetMs = phases.reduce((s, p) => s + p.durationMs, 0);
  const transitionMs = phases.reduce((s, p) => s + p.transitionMs, 0);
  return { ...t, modality: 'thermal', programIndex, phases, atTargetMs, transitionMs, durationMs: atTargetMs + transitionMs };
}

export type BuildPlanOptions = {
  /** file path, or 'builtin:<id>' (default 'inline') */
  source?: string;
  /** warnings from validation, carried in the plan */
  warnings?: Issue[];
};

/**
 * Resolve a (validated) protocol to a plan. Assumes the protocol has passed
 * validation; use loadProtocolFile / resolveProtocol to get both.
 */
export function buildPlan(protocol: Protocol, options: BuildPlanOptions = {}): Plan {
  let programIndex = 0;
  let startMs = 0;
  const plan1 = (item: { tens: TensProgram } | { ultrasound: UltrasoundProgram } | { thermal: ThermalProgram }): PlannedProgram => {
    const i = programIndex++;
    if ('tens' in item) return planTens(item.tens, i);
    if ('ultrasound' in item) return planUltrasound(item.ultrasound, i);
    return planThermal(item.thermal, i);
  };
  const steps: PlanStep[] = protocol.steps.map((step, index) => {
    let s: Omit<PlanStep, 'startMs'>;
    if ('prompt' in step) {
      const p: PromptStep = step.prompt;
      const durationMs = secondsToMs(p.durationS);
      s = { index, kind: 'prompt', programs: [], prompt: { text: p.text, durationMs }, plannedMs: durationMs };
    } else if ('parallel' in step) {
      const programs = step.parallel.map(plan1);
      s = { index, kind: 'parallel', programs, plannedMs: Math.max(0, ...programs.map((p) => p.durationMs)) };
    } else {
      const program = plan1(step);
      s = { index, kind: 'program', programs: [program], plannedMs: program.durationMs };
    }
    const out: PlanStep = { ...s, startMs };
    startMs += s.plannedMs;
    return out;
  });
  return {
    protocol,
    source: options.source ?? 'inline',
    hash: protocolHash(protocol),
    steps,
    totalMs: startMs,
    warnings: options.warnings ?? [],
  };
}

export type TimelineEntry = {
  startMs: number;
  endMs: number;
  stepIndex: number;
  programIndex?: number;
  modality: 'tens' | 'ultrasound' | 'thermal' | 'prompt';
  phase: 'ramp-up' | 'plateau' | 'ramp-down' | 'emission' | 'to-hot' | 'hot' | 'to-cold' | 'cold' | 'prompt';
  /** an estimated length (thermal transitions) */
  estimated?: boolean;
  label: string;
};

/** Flat list of phases with start offsets (ms from session start), ordered by start then by program. */
export function planTimeline(plan: Plan): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const step of plan.steps) {
    if (step.prompt) {
      out.push({
        startMs: step.startMs,
        endMs: step.startMs + step.prompt.durationMs,
        stepIndex: step.index,
        modality: 'prompt',
        phase: 'prompt',
        label: step.prompt.text,
      });
    }
    for (const p of step.programs) {
      let t = step.startMs;
      const push = (phase: TimelineEntry['phase'], ms: number, label: string, estimated = false) => {
        if (ms <= 0 && phase !== 'plateau') return;
        out.push({
          startMs: t,
          endMs: t + ms,
          stepIndex: step.index,
          programIndex: p.programIndex,
          modality: p.modality,
          phase,
          label,
          ...(estimated ? { estimated } : {}),
        });
        t += ms;
      };
      if (p.modality === 'tens') {
        push('ramp-up', p.rampUpMs, `ch${p.channel} 0 → ${p.amplitudeMa} mA`);
        push(
          'plateau',
          p.plateauMs,
          `ch${p.channel} ${p.amplitudeMa} mA, ${p.rateHz} Hz, ${p.pulseWidthUs} µs${p.burst ? `, burst ${p.burst.burstsPerS}/s × ${p.burst.pulsesPerBurst}` : ''}${p.modulation ? `, ${p.modulation.kind} modulation ${p.modulation.minPct}–100 % / ${p.modulation.periodS} s` : ''}`,
        );
        push('ramp-down', p.rampDownMs, `ch${p.channel} ${p.amplitudeMa} → 0 mA`);
      } else if (p.modality === 'ultrasound') {
        push('emission', p.durationMs, `${p.frequencyMHz} MHz, ${p.intensityWPerCm2} W/cm², ${p.dutyCyclePct} % duty`);
      } else {
        for (const ph of p.phases) {
          push(ph.kind === 'hot' ? 'to-hot' : 'to-cold', ph.transitionMs ?? 0, `pad to ${ph.targetC} °C (estimated)`, true);
          push(ph.kind, ph.durationMs, `${ph.kind} ${ph.targetC} °C`);
        }
      }
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs || (a.programIndex ?? -1) - (b.programIndex ?? -1));
}
