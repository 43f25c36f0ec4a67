import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIssue, listBuiltins, loadProtocolFile, resolveProtocol, type Plan } from '../../src/protocol/index.js';
import { renderSchema, SCHEMA_PATH } from '../../src/protocol/write-schema.js';

const REQUIRED = [
  'tens-conventional',
  'tens-acupuncture-like',
  'tens-burst',
  'tens-modulated',
  'us-1mhz-thermal',
  'us-3mhz-pulsed',
  'heat-pack',
  'contrast-cold-finish',
  'upper-back-heat-us-tens',
  'us-tens-combined',
];

const plans = new Map<string, Plan>();
for (const b of listBuiltins()) {
  const r = resolveProtocol(b.id);
  if (r.ok) plans.set(b.id, r.plan);
}
const get = (id: string) => {
  const p = plans.get(id);
  if (!p) throw new Error(`${id} did not validate`);
  return p;
};
const min = 60000;

describe('built-in library', () => {
  it('has at least 9 protocols including every required id', () => {
    const ids = listBuiltins().map((b) => b.id);
    expect(ids.length).toBeGreaterThanOrEqual(9);
    expect(ids).toEqual(expect.arrayContaining(REQUIRED));
  });
  it.each(listBuiltins().map((b) => [b.id]))('%s validates with indication and source', (id) => {
    const r = resolveProtocol(id);
    expect(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n')).toBe(true);
    if (!r.ok) return;
    expect(r.plan.protocol.id).toBe(id);
    expect(r.plan.protocol.indication.length).toBeGreaterThan(10);
    expect(r.plan.protocol.source?.length ?? 0).toBeGreaterThan(10);
    expect(r.plan.warnings).toEqual([]);
  });
  it('durations are clinically realistic', () => {
    for (const id of ['tens-conventional', 'tens-acupuncture-like', 'tens-burst', 'tens-modulated']) {
      const t = get(id).steps[0]!.programs[0]!;
      if (t.modality !== 'tens') throw new Error(id);
      expect(t.plateauMs).toBeGreaterThanOrEqual(15 * min);
      expect(t.plateauMs).toBeLessThanOrEqual(30 * min);
    }
    for (const id of ['us-1mhz-thermal', 'us-3mhz-pulsed']) {
      const ms = get(id).totalMs;
      expect(ms).toBeGreaterThanOrEqual(5 * min);
      expect(ms).toBeLessThanOrEqual(10 * min);
    }
    expect(get('heat-pack').totalMs).toBeGreaterThanOrEqual(10 * min);
    expect(get('heat-pack').totalMs).toBeLessThanOrEqual(20 * min);
  });
  it('tens-burst, tens-modulated and tens-acupuncture-like use their modes', () => {
    expect(get('tens-burst').protocol.steps[0]).toMatchObject({ tens: { burst: { burstsPerS: 2 } } });
    expect(get('tens-modulated').protocol.steps[0]).toMatchObject({ tens: { modulation: { kind: 'rate' } } });
    expect(get('tens-acupuncture-like').protocol.steps[0]).toMatchObject({ tens: { rateHz: 2, pulseWidthUs: 250 } });
    expect(get('us-3mhz-pulsed').protocol.steps[0]).toMatchObject({ ultrasound: { frequencyMHz: 3 } });
    expect(get('us-1mhz-thermal').protocol.steps[0]).toMatchObject({ ultrasound: { frequencyMHz: 1, dutyCyclePct: 100 } });
  });
  it('contrast-cold-finish: 4 min hot / 1 min cold × 3–4, ends cold, then a stretch prompt', () => {
    const p = get('contrast-cold-finish');
    const th = p.steps[0]!.programs[0]!;
    if (th.modality !== 'thermal') throw new Error();
    expect(th.phases.at(-1)!.kind).toBe('cold');
    expect(th.phases.length / 2).toBeGreaterThanOrEqual(3);
    expect(th.phases[0]).toMatchObject({ kind: 'hot', durationMs: 4 * min });
    expect(th.phases[1]).toMatchObject({ kind: 'cold', durationMs: 1 * min });
    expect(p.steps[1]!.kind).toBe('prompt');
    expect(p.steps[1]!.prompt!.text).toMatch(/stretch/i);
  });
  it('upper-back-heat-us-tens is heat → ultrasound → TENS; us-tens-combined is one parallel step', () => {
    expect(get('upper-back-heat-us-tens').steps.map((s) => s.programs[0]!.modality)).toEqual(['thermal', 'ultrasound', 'tens']);
    const c = get('us-tens-combined');
    expect(c.steps).toHaveLength(1);
    expect(c.steps[0]!.kind).toBe('parallel');
    expect(c.steps[0]!.programs.map((p) => p.modality).sort()).toEqual(['tens', 'ultrasound']);
  });
});

describe('examples/', () => {
  const files = readdirSync('examples').filter((f) => /\.(ya?ml|json)$/.test(f));
  it('has the short TENS examples', () => {
    expect(files).toEqual(expect.arrayContaining(['short-tens.yaml', 'tens-10s.yaml']));
  });
  it.each(files.map((f) => [f]))('%s validates', (f) => {
    const r = loadProtocolFile(`examples/${f}`);
    expect(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n')).toBe(true);
  });
  it('short-tens is 5 + 20 + 5 s, tens-10s is 10 s', () => {
    const a = loadProtocolFile('examples/short-tens.yaml');
    const b = loadProtocolFile('examples/tens-10s.yaml');
    expect(a.ok && a.plan.steps[0]!.programs[0]).toMatchObject({ rampUpMs: 5000, plateauMs: 20000, rampDownMs: 5000 });
    expect(a.ok && a.plan.totalMs).toBe(30000);
    expect(b.ok && b.plan.totalMs).toBe(10000);
  });
});

describe('published JSON Schema', () => {
  it('schema/protocol.schema.json equals the one generated from the zod schema (run npm run schema)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderSchema());
  });
});
