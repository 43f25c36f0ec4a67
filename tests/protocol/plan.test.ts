import { describe, expect, it } from 'vitest';
import { buildPlan, planTimeline, protocolHash, resolveProtocol, validateProtocolData, type Plan, type Protocol } from '../../src/protocol/index.js';

const plan = (data: unknown): Plan => {
  const r = validateProtocolData(data, { file: 'inline.yaml' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
};
const proto = (...steps: unknown[]) => ({ id: 't', name: 't', indication: 't', steps });
const hot = { targetC: 40, durationS: 240 };
const cold = { targetC: 12, durationS: 60 };

describe('thermal phases', () => {
  it('contrast expands cycles in order, starting hot by default', () => {
    const p = plan(proto({ thermal: { mode: 'contrast', hot, cold, cycles: 3 } }));
    const prog = p.steps[0]!.programs[0]!;
    expect(prog.modality).toBe('thermal');
    if (prog.modality !== 'thermal') return;
    expect(prog.phases.map(({ transitionMs: _, ...x }) => x)).toEqual([
      { kind: 'hot', targetC: 40, durationMs: 240000 },
      { kind: 'cold', targetC: 12, durationMs: 60000 },
      { kind: 'hot', targetC: 40, durationMs: 240000 },
      { kind: 'cold', targetC: 12, durationMs: 60000 },
      { kind: 'hot', targetC: 40, durationMs: 240000 },
      { kind: 'cold', targetC: 12, durationMs: 60000 },
    ]);
    // Time at target as asked, plus an estimated transition before every phase (the pad has to get there).
    expect(prog.atTargetMs).toBe(900000);
    for (const ph of prog.phases) expect(ph.transitionMs).toBeGreaterThan(0);
    expect(prog.phases[2]!.transitionMs).toBe(prog.phases[4]!.transitionMs); // every cold → hot alike
    expect(p.totalMs).toBe(900000 + prog.transitionMs);
    expect(p.protocol.steps[0]).toMatchObject({ thermal: { startWith: 'hot' } });
  });
  it('startWith cold puts cold first in every cycle', () => {
    const p = plan(proto({ thermal: { mode: 'contrast', hot, cold, cycles: 2, startWith: 'cold' } }));
    const prog = p.steps[0]!.programs[0]!;
    if (prog.modality !== 'thermal') throw new Error('not thermal');
    expect(prog.phases.map((x) => x.kind)).toEqual(['cold', 'hot', 'cold', 'hot']);
  });
  it('heat and cold are one phase each', () => {
    const p = plan(
      proto({ thermal: { mode: 'heat', hot: { targetC: 39, durationS: 600 } } }, { thermal: { mode: 'cold', cold: { targetC: 15, durationS: 300 } } }),
    );
    expect(p.steps.map((s) => (s.programs[0]!.modality === 'thermal' ? s.programs[0]!.phases : []))).toEqual([
      [{ kind: 'hot', targetC: 39, durationMs: 600000, transitionMs: expect.any(Number) }],
      [{ kind: 'cold', targetC: 15, durationMs: 300000, transitionMs: expect.any(Number) }],
    ]);
  });
});

describe('ultrasound and TENS resolution', () => {
  it('dose → duration, energy and dose in the plan', () => {
    const p = plan(proto({ ultrasound: { frequencyMHz: 1, dutyCyclePct: 100, intensityWPerCm2: 1.5, eraCm2: 5, areaCm2: 10, doseJPerCm2: 135 } }));
    const u = p.steps[0]!.programs[0]!;
    expect(u).toMatchObject({ modality: 'ultrasound', durationMs: 180000, energyJ: 1350, doseJPerCm2: 135, programIndex: 0 });
    expect(p.totalMs).toBe(180000);
  });
  it('duration → dose', () => {
    const p = plan(proto({ ultrasound: { frequencyMHz: 3, dutyCyclePct: 20, intensityWPerCm2: 0.5, eraCm2: 5, areaCm2: 10, durationS: 480 } }));
    const u = p.steps[0]!.programs[0]!;
    if (u.modality !== 'ultrasound') throw new Error();
    expect(u.durationMs).toBe(480000);
    expect(u.doseJPerCm2).toBeCloseTo(24, 9);
    expect(u.energyJ).toBeCloseTo(240, 9);
  });
  it('TENS ramps and plateau in integer ms', () => {
    const p = plan(
      proto({
        tens: {
          channel: 2,
          waveform: 'asymmetric-biphasic',
          rateHz: 80,
          pulseWidthUs: 100,
          amplitudeMa: 10,
          electrodeAreaCm2: 25,
          rampUpS: 2.5,
          durationS: 6.004,
          rampDownS: 0,
        },
      }),
    );
    expect(p.steps[0]!.programs[0]).toMatchObject({ modality: 'tens', rampUpMs: 2500, plateauMs: 6004, rampDownMs: 0, durationMs: 8504, channel: 2 });
    expect(p.totalMs).toBe(8504);
    // (a sub-millisecond duration is refused by validate: the board schedules in whole ms; see wire.test.ts)
  });
});

describe('plan structure', () => {
  it('sequence, parallel and prompt: kinds, offsets, programIndex flattened in order, total', () => {
    const t = {
      channel: 1,
      waveform: 'symmetric-biphasic',
      rateHz: 100,
      pulseWidthUs: 100,
      amplitudeMa: 20,
      electrodeAreaCm2: 25,
      rampUpS: 10,
      durationS: 460,
      rampDownS: 10,
    };
    const p = plan(
      proto(
        { thermal: { mode: 'heat', hot: { targetC: 40, durationS: 600 } } },
        {
          parallel: [
            { ultrasound: { frequencyMHz: 1, dutyCyclePct: 50, intensityWPerCm2: 1, eraCm2: 5, areaCm2: 10, durationS: 480 } },
            { tens: t },
            { tens: { ...t, channel: 2, durationS: 100 } },
          ],
        },
        { prompt: { text: 'Stretch', durationS: 60 } },
        { tens: t },
      ),
    );
    expect(p.steps.map((s) => s.kind)).toEqual(['program', 'parallel', 'prompt', 'program']);
    const heat = p.steps[0]!.programs[0]!;
    if (heat.modality !== 'thermal') throw new Error('not thermal');
    const tr = heat.transitionMs; // the pad heating to 40 °C before its 10 minutes at target
    expect(tr).toBeGreaterThan(0);
    expect(p.steps.map((s) => s.plannedMs)).toEqual([600000 + tr, 480000, 60000, 480000]);
    expect(p.steps.map((s) => s.startMs)).toEqual([0, 600000 + tr, 1080000 + tr, 1140000 + tr]);
    expect(p.steps.flatMap((s) => s.programs.map((x) => x.programIndex))).toEqual([0, 1, 2, 3, 4]);
    expect(p.steps[2]!.prompt).toEqual({ text: 'Stretch', durationMs: 60000 });
    expect(p.totalMs).toBe(1620000 + tr);
    for (const s of p.steps) for (const x of s.programs) for (const v of Object.entries(x)) if (v[0].endsWith('Ms')) expect(Number.isInteger(v[1])).toBe(true);
    const tl = planTimeline(p);
    expect(tl[0]).toMatchObject({ startMs: 0, endMs: tr, modality: 'thermal', phase: 'to-hot', estimated: true });
    expect(tl[1]).toMatchObject({ startMs: tr, endMs: 600000 + tr, modality: 'thermal', phase: 'hot' });
    expect(tl.filter((e) => e.stepIndex === 1).map((e) => [e.programIndex, e.phase, e.startMs - tr])).toEqual([
      [1, 'emission', 600000],
      [2, 'ramp-up', 600000],
      [3, 'ramp-up', 600000],
      [2, 'plateau', 610000],
      [3, 'plateau', 610000],
      [3, 'ramp-down', 710000],
      [2, 'ramp-down', 1070000],
    ]);
  });
  it('hash is sha256 of canonical JSON: key order does not matter, content does', () => {
    const a = plan(proto({ prompt: { text: 'x', durationS: 1 } }));
    const b = plan({ steps: [{ prompt: { durationS: 1, text: 'x' } }], indication: 't', name: 't', id: 't' });
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).toBe(b.hash);
    expect(plan(proto({ prompt: { text: 'y', durationS: 1 } })).hash).not.toBe(a.hash);
    expect(buildPlan(a.protocol as Protocol).hash).toBe(protocolHash(a.protocol));
  });
  it('built-ins carry builtin:<id> as source; files carry their path', () => {
    const r = resolveProtocol('upper-back-heat-us-tens');
    expect(r.ok && r.plan.source).toBe('builtin:upper-back-heat-us-tens');
    const f = resolveProtocol('examples/short-tens.yaml');
    expect(f.ok && f.plan.source).toBe('examples/short-tens.yaml');
    expect(f.ok && f.plan.totalMs).toBe(30000);
  });
});
