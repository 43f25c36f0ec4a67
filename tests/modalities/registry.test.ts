/**
 * The modality registry is complete: every modality a protocol can name has a
 * descriptor (src/modalities/) with every part filled in, and a machine
 * (src/machines/programs.ts); each part works on a real planned program.
 */
import { describe, expect, it } from 'vitest';
import { boardInfo } from '../helpers.js';
import { OUTPUT_NAMES, type BoardInfo, type OutputTelemetry } from '../../src/drivers/board.js';
import { en } from '../../src/messages/en.js';
import { PROGRAM_MACHINES } from '../../src/machines/programs.js';
import { MODALITIES, modalityOf, type DeliveredAcc } from '../../src/modalities/index.js';
import type { CartText } from '../../src/modalities/types.js';
import { listBuiltins, resolveProtocol, type PlannedProgram } from '../../src/protocol/index.js';
import { ABSOLUTE_LIMITS, STANDARDS } from '../../src/protocol/limits.js';
import { PROGRAMS } from '../../src/protocol/programs/index.js';
import type { CheckKit, ProgramKind } from '../../src/protocol/programs/kit.js';
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
/** The same programs as the protocol file gives them (before planning). */
const sources = new Map<string, unknown>();
for (const b of listBuiltins()) {
  const r = resolveProtocol(b.id);
  if (!r.ok) continue;
  for (const s of r.plan.steps) for (const p of s.programs) if (!samples.has(p.modality)) samples.set(p.modality, p);
  for (const step of r.plan.protocol.steps)
    for (const item of 'parallel' in step ? step.parallel : [step])
      for (const [k, v] of Object.entries(item)) if (k in PROGRAMS && !sources.has(k)) sources.set(k, v);
}

const roomyBoard: BoardInfo = boardInfo({ maxPadC: 45, minPadC: 5 });
const bareBoard: BoardInfo = { ...roomyBoard, tensChannels: 0, hasUltrasound: false, hasPad: false, maxTensMa: 0, maxUsWPerCm2: 0, maxPadC: 0, minPadC: 0 };

const emptyAcc = (): DeliveredAcc => ({ onMs: 0, integralMs: 0, peak: 0, phaseMs: {}, completedPhases: [], maxC: null, minC: null });

describe('the modality registry', () => {
  it('has a descriptor and a machine for every modality a protocol step can name, and nothing else', () => {
    expect(Object.keys(MODALITIES).sort()).toEqual([...PARALLEL_KEYS].sort());
    expect(Object.keys(PROGRAM_MACHINES).sort()).toEqual([...PARALLEL_KEYS].sort());
    expect(Object.keys(PROGRAMS).sort()).toEqual([...PARALLEL_KEYS].sort());
  });

  it.each([...PARALLEL_KEYS])('%s: every part is there, named and sourced', (name) => {
    const m = MODALITIES[name];
    expect(m.name).toBe(name);
    expect(m.label).not.toBe('');
    expect(m.standard).toBe(STANDARDS[name]);
    expect(m.limits).toBe(ABSOLUTE_LIMITS[name]);
    // a protocol step `- <name>: { … }` has a schema
    const step = ParallelItemSchema.options.find((o) => name in o.shape);
    expect(step && (step.shape as Record<string, unknown>)[name]).toBeDefined();
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
    if (m.showLines) for (const l of m.showLines([p])) expect(l).toMatch(/\w+: +\S/);
    const rows = m.deliveredRows(d);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toHaveLength(3);
  });

  /** Telemetry in which every output reads `v` (its value, and its sensors something else). */
  const reading = (v: number): OutputTelemetry => ({
    tens1: { value: v, electrodeOhm: null },
    tens2: { value: v, electrodeOhm: null },
    ultrasound: { value: v, coupled: false, tempC: 21 },
    pad: { value: v, tempC: 21 },
  });
  const text: CartText = { M: en, duration: (ms) => `${ms / 1000}s`, num: (x, digits = 1) => String(Number(x.toFixed(digits))) };

  it.each([...PARALLEL_KEYS])('%s: the report chart draws the output the program drives', (name) => {
    const p = samples.get(name);
    if (!p) return expect.unreachable(`a built-in protocol with a ${name} step`);
    const c = modalityOf(p).chart;
    expect(c.title).not.toBe('');
    expect(c.unit).not.toBe('');
    const series = c.series([p]);
    expect(series.length).toBeGreaterThan(0);
    for (const se of series) expect(Object.keys(c.colours)).toContain(se.colour);
    // one of its lines plots its own output's value, and nothing when the output is not reported
    const own = modalityOf(p).output(p);
    const only: OutputTelemetry = { [own]: reading(12.5)[own] };
    expect(series.some((se) => se.at(only) === 12.5)).toBe(true);
    for (const se of series) expect(se.at({})).toBeNull();
    for (const v of c.planned(p)) expect(Number.isFinite(v)).toBe(true);
    expect(c.planned(p).length).toBeGreaterThan(0);
    if (c.strip) expect(Object.keys(c.colours)).toContain(c.strip(reading(1)));
  });

  it.each([...PARALLEL_KEYS])('%s: the cart names it, says its plan, and shows its output live', (name) => {
    const p = samples.get(name);
    if (!p) return expect.unreachable(`a built-in protocol with a ${name} step`);
    const cart = modalityOf(p).cart;
    expect(cart.label(p, text)).toContain(en.modality[name]);
    const lines = cart.planLines(p, text);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).not.toMatch(/\{\w+\}|undefined|NaN/); // every placeholder filled
    const live = cart.tile(p, reading(12.5), text, false);
    expect(live.rows.length).toBeGreaterThan(0);
    expect(live.rows.some((r) => r.value.includes('12.5'))).toBe(true);
    // no telemetry yet: no reading shown as if it were one
    expect(cart.tile(p, undefined, text, false).rows.some((r) => r.value.includes('12.5'))).toBe(false);
    for (const r of live.rows) expect(r.label).not.toBe('');
  });

  it.each([...PARALLEL_KEYS])('%s: its checklist items apply to its programs, cite a source and have a question', (name) => {
    const p = samples.get(name);
    if (!p) return expect.unreachable(`a built-in protocol with a ${name} step`);
    const cl = modalityOf(p).checklist;
    const groups = cl.groups(p);
    expect(groups).toContain(name);
    const asked = cl.items.filter((i) => groups.includes(i.modality));
    expect(asked.some((i) => i.kind === 'contraindication')).toBe(true);
    for (const i of cl.items) {
      expect(i.source).toMatch(/\w/);
      expect(en.checklist[i.id], i.id).toBeDefined();
    }
  });

  it('checklist ids are unique across the registry', () => {
    const ids = Object.values(MODALITIES).flatMap((m) => m.checklist.items.map((i) => i.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each([...PARALLEL_KEYS])('%s: its program kind (src/protocol/programs/) parses, checks, plans and times the library program', (name) => {
    const raw = sources.get(name);
    const planned = samples.get(name);
    if (raw === undefined || !planned) return expect.unreachable(`a built-in protocol with a ${name} step`);
    const kind = PROGRAMS[name] as unknown as ProgramKind<string, unknown, PlannedProgram, unknown>;
    expect(kind.key).toBe(name);
    // the schema a step `- <name>: { … }` is checked against is the kind's
    const step = ParallelItemSchema.options.find((o) => name in o.shape);
    expect(step && (step.shape as Record<string, unknown>)[name]).toBe(kind.schema);
    const parsed = kind.schema.parse(raw);
    // planning the file's program gives the library's plan of it
    expect(kind.plan(parsed, planned.programIndex)).toEqual(planned);
    expect(kind.resource(parsed)).toMatch(/\w/);
    // its timeline covers the program's planned length, phase after phase
    const phases: number[] = [];
    kind.timeline(planned, (_phase, ms) => void phases.push(ms));
    expect(phases.length).toBeGreaterThan(0);
    expect(phases.reduce((a, b) => a + b, 0)).toBe(planned.durationMs);
    // checked on a device without this output: one error, from the profile
    const issues: unknown[] = [];
    const kit = { add: (_segs: unknown, f: unknown) => void issues.push(f), byProfile: { layer: 'profile', setBy: 'test' } } as unknown as CheckKit;
    kind.check(parsed, ['steps', 0, name], kit, undefined);
    expect(issues).toEqual([expect.objectContaining({ layer: 'profile' })]);
  });
});
