/**
 * Protocol layer public API. Pure apart from file reading in load.ts/profile.ts.
 * The engine depends on these names.
 */
export type { Protocol, TensProgram, UltrasoundProgram, ThermalProgram, PromptStep, Step, ParallelItem, ProgramModality } from './schema.ts';
export { ProtocolSchema, StepSchema, TensProgramSchema, UltrasoundProgramSchema, ThermalProgramSchema, PromptStepSchema, protocolJsonSchema } from './schema.ts';
export type { Plan, PlanStep, PlannedProgram, PlannedTens, PlannedUltrasound, PlannedThermal, ThermalPhase, TimelineEntry, BuildPlanOptions } from './plan.ts';
export { buildPlan, planTimeline, protocolHash, canonicalJson, thermalPhases, THERMAL_PLAN_NOTE } from './plan.ts';
export { estimateTransitionsMs, REFERENCE_PAD, type PadModel } from './thermal-estimate.ts';
export type { Issue, IssueLayer } from './issues.ts';
export { formatIssue, pathToString } from './issues.ts';
export { ABSOLUTE_LIMITS, STANDARDS, HIGH_CURRENT_DENSITY_ACK } from './limits.ts';
export type { DeviceProfile, ProfileResult } from './profile.ts';
export { loadProfile, tryLoadProfile, parseProfile, DEFAULT_PROFILE_PATH, ProfileError, DeviceProfileSchema } from './profile.ts';
export type { ProtocolResult, BuiltinEntry } from './load.ts';
export { loadProtocolFile, resolveProtocol, listBuiltins, parseProtocolText, validateProtocolData, BUILTIN_DIR } from './load.ts';
export { checkProtocol } from './validate.ts';
export * as dose from './dose.ts';
