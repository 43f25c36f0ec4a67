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
import { secondsToMs } from './dose.js';
import { PROGRAMS, programOf } from './programs/index.js';
import type { ProgramKind, PushPhase } from './programs/kit.js';
import type { ParallelItem, ProgramModality, Protocol, PromptStep } from './schema.js';

export { THERMAL_PLAN_NOTE } from './thermal-estimate.js';

export type { ThermalPhase } from './thermal-estimate.js';
export { thermalPhases } from './programs/index.js';

export type { PlannedTens, PlannedUltrasound, PlannedThermal } from './programs/index.js';

/** A planned program of any kind: what its kind's plan() returns (programs/). */
export type PlannedProgram = { [K in ProgramModality]: ReturnType<(typeof PROGRAMS)[K]['plan']> }[ProgramModality];
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

/** A program kind, typed loosely for the code that handles every kind alike. */
type AnyKind = ProgramKind<ProgramModality, unknown, PlannedProgram, unknown>;

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
  const plan1 = (item: ParallelItem): PlannedProgram => {
    const [key, program] = programOf(item);
    return (PROGRAMS[key] as AnyKind).plan(program, programIndex++);
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
  modality: ProgramModality | 'prompt';
  /** the program kind's phase (programs/<kind>.ts, timeline): 'ramp-up', 'plateau', 'emission', 'to-hot', 'hot' … or 'prompt' */
  phase: string;
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
      const push: PushPhase = (phase, ms, label, estimated = false) => {
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
      (PROGRAMS[p.modality] as AnyKind).timeline(p, push);
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs || (a.programIndex ?? -1) - (b.programIndex ?? -1));
}
