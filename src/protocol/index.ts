/**
 * Protocol layer public API. Pure apart from file reading in load.ts/profile.ts.
 * The engine depends on these names.
 */
export type { Protocol, TensProgram, UltrasoundProgram, ThermalProgram, PromptStep, Step, ParallelItem, ProgramModality } from './schema.js';
export {
  ProtocolSchema,
  StepSchema,
  TensProgramSchema,
  UltrasoundProgramSchema,
  ThermalProgramSchema,
  PromptStepSchema,
  protocolJsonSchema,
} from './schema.js';
export type {
  Plan,
  PlanStep,
  PlannedProgram,
  ModalityName,
  PlannedTens,
  PlannedUltrasound,
  PlannedThermal,
  ThermalPhase,
  TimelineEntry,
  BuildPlanOptions,
} from './plan.js';
export { buildPlan, planTimeline, protocolHash, canonicalJson, thermalPhases, THERMAL_PLAN_NOTE } from './plan.js';
export { estimateTransitionsMs, REFERENCE_PAD, type PadModel } from './thermal-estimate.js';
export type { Issue, IssueLayer } from './issues.js';
export { formatIssue, pathToString } from './issues.js';
export { ABSOLUTE_LIMITS, STANDARDS, HIGH_CURRENT_DENSITY_ACK } from './limits.js';
export type { DeviceProfile, ProfileResult } from './profile.js';
export { loadProfile, tryLoadProfile, parseProfile, DEFAULT_PROFILE_PATH, ProfileError, DeviceProfileSchema } from './profile.js';
export type { ProtocolResult, BuiltinEntry } from './load.js';
export { loadProtocolFile, resolveProtocol, listBuiltins, parseProtocolText, validateProtocolData, BUILTIN_DIR } from './load.js';
export { checkProtocol } from './validate.js';
export * as dose from './dose.js';
