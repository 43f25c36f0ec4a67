/**
 * The modality registry is complete: every modality a protocol can name has a
 * descriptor (src/modalities/) with every part filled in, and a machine
 * (src/machines/programs.ts); each part works on a real planned program.
 */
import { describe, expect, it } from 'vitest';
import { OUTPUT_NAMES, type BoardInfo } from '../../src/drivers/board.js';
import { PROGRAM_MACHINES } from '../../src/machines/programs.js';
import { MODALITIES, modalityOf, type DeliveredAcc } from '../../src/modalities/index.js';
import { listBuiltins, resolveProtocol, type PlannedProgram } from '../../src/protocol/index.js';
import { ABSOLUTE_LIMITS, STANDARDS } from '../../src/protocol/limits.js';
import { PARALLEL_KEYS, ParallelItemSchema } from '../../src/protocol/schema.js';

const PARTS = [
  'output',
  'preCheck',
  'delivered',
  'progressMs',
  'plannedProgressMs',
  'remainingMs',
  'phaseLengthMs',
  'describe',
  'deliveredLine',
  'deliveredRows',
  'programName',
  'summaryLine',
] as const;

/** One planned program of each modality, from the built-in library. */
const samples = new Map<string, PlannedProgram>();
for (const b of listBuiltins()) {
  const r = resolveProtocol(b.id);
  if (!r.ok) continue;
  for (const s of r.plan.steps) for (const p of s.programs) if (!samples.has(p.modality)) samples.set(p.modality, p);
}

const roomyBoard: BoardInfo = {
  protocolVersion: 1,
  firmware: 'test',
  kind: 'simulated',
  tensChannels: 2,
  hasUltrasound: true,
  hasPad: true,
  maxTensMa: 80,
  maxTensSlewMaPerS: 10,
  maxUsWPerCm2: 3,
  maxPadC: 45,
  minPadC: 5,
  leaseMs: 400,
  maxTensDensityAckMaPerCm2: 4,
  runawayHysteresisC: 4,
  runawayPeriodMs: 40_000,
  timing: 'board',
};
const bareBoard: BoardInfo = { ...roomyBoard, tensChannels: 0, hasUltrasound: false, hasPad: false, maxTensMa: 0, maxUsWPerCm2: 0, maxPadC: 0, minPadC: 0 };

const emptyAcc = (): DeliveredAcc => ({ onMs: 0, integralMs: 0, peak: 0, phaseMs: {}, completedPhases: [], maxC: null, minC: null });

describe('the modality registry', () => {
  it('has a descriptor and a machine for every modality a protocol step can name, and nothing else', () => {
    expect(Object.keys(MODALITIES).sort()).toEqual([...PARALLEL_KEYS].sort());
    expect(Object.keys(PROGRAM_MACHINES).sort()).toEqual([...PARALLEL_KEYS].sort());
  });

  it.each([...PARALLEL_KEYS])('%s: every part is there, named and sourced', (name) => {
    const m = MODALITIES[name];
    expect(m.name).toBe(name);
    expect(m.label).not.toBe('');
    expect(m.standard).toBe(STANDARDS[name]);
    expect(m.limits).toBe(ABSOLUTE_LIMITS[name]);
    // the schema a protocol step `- <name>: { … }` is checked against
    const step = ParallelItemSchema.options.find((o) => name in o.shape);
    expect(step && (step.shape as Record<string, unknown>)[name]).toBe(m.schema);
    for (const part of PARTS) expect(typeof m[part], `${name}.${part}`).toBe('function');
    expect(PROGRAM_MACHINES[name].id).toBe(name);
  });

  it.each([...PARALLEL_KEYS])('%s: each part works on a planned program from the library', (name) => {
    const p = samples.get(name);
    expect(p, `a built-in protocol with a ${name} step`).toBeDefined();
    if (!p) return;
    const m = modalityOf(p);
    expect(m).toBe(MODALITIES[name]);
    expect(OUTPUT_NAMES).toContain(m.output(p));
    expect(m.preCheck(p, roomyBoard, 'here')).toEqual([]);
    expect(m.preCheck(p, bareBoard, 'here').length).toBeGreaterThan(0);
    expect(m.describe(p)).toMatch(new RegExp(m.label, 'i'));
    const d = m.delivered(p, emptyAcc());
    expect(d).toMatchObject({ modality: name, program: p.programIndex });
    expect(m.deliveredLine(d)).toMatch(new RegExp(m.label, 'i'));
    expect(m.summaryLine(d)).toMatch(new RegExp(m.label, 'i'));
    expect(m.programName(d)).toMatch(new RegExp(m.label, 'i'));
    expect(m.progressMs(d)).toBe(0);
    expect(m.plannedProgressMs(p)).toBeGreaterThan(0);
    expect(m.remainingMs(p, null, 0, 0)).toBeGreaterThanOrEqual(m.plannedProgressMs(p));
    const rows = m.deliveredRows(d);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toHaveLength(3);
  });
});
