import { describe, expect, it } from 'vitest';
import { formatIssue, listBuiltins, loadProtocolFile, validateProtocolData, type Issue } from '../../src/protocol/index.js';
import { encodeMessage } from '../../src/drivers/wire/messages.js';
import { MESSAGES, type MessageName } from '../../src/drivers/wire/spec.js';
import { fromWire, isExact, resolution, toWire, WIRE_QUANTITIES, wireMax, wireProblem, type WireQuantity } from '../../src/drivers/wire/units.js';

const BAD = 'tests/fixtures/bad';

function errorsOf(file: string): Issue[] {
  const r = loadProtocolFile(`${BAD}/${file}`);
  expect(r.ok, `${file} should be rejected`).toBe(false);
  return r.ok ? [] : r.errors;
}

// file → path, value, resolution (or range), the wire field named
const cases: [string, string, string, string, string][] = [
  ['tens-bursts-fractional.yaml', 'steps[0].tens.burst.burstsPerS', '= 1.5', 'not a multiple of 1 Hz', 'CONFIG_TENS.burstsPerS'],
  ['tens-rate-fractional.yaml', 'steps[0].tens.rateHz', '= 2.5', 'not a multiple of 1 Hz', 'CONFIG_TENS.rateHz'],
  ['tens-amplitude-resolution.yaml', 'steps[0].tens.amplitudeMa', '= 12.34', 'not a multiple of 0.1 mA', 'use 12.3 mA or 12.4 mA'],
  ['tens-duration-resolution.yaml', 'steps[0].tens.durationS', '= 600.0005', 'not a multiple of 0.001 s', 'board milliseconds'],
  ['tens-modulation-period-resolution.yaml', 'steps[0].tens.modulation.periodS', '= 2.25', 'not a multiple of 0.1 s', 'CONFIG_TENS.modPeriodDs'],
  ['tens-modulation-pct-resolution.yaml', 'steps[0].tens.modulation.minPct', '= 50.5', 'not a multiple of 1 %', 'CONFIG_TENS.modMinPct'],
  ['tens-area-range.yaml', 'steps[0].tens.electrodeAreaCm2', '= 7000', 'exceeds 6553.5 cm²', 'CONFIG_TENS.electrodeAreaCm2x10'],
  ['tens-pulses-range.yaml', 'steps[0].tens.burst.pulsesPerBurst', '= 300', 'exceeds 255', 'CONFIG_TENS.pulsesPerBurst'],
  ['us-intensity-resolution.yaml', 'steps[0].ultrasound.intensityWPerCm2', '= 1.234', 'not a multiple of 0.01 W/cm²', 'use 1.23 W/cm² or 1.24 W/cm²'],
  ['heat-target-resolution.yaml', 'steps[0].thermal.hot.targetC', '= 38.25', 'not a multiple of 0.1 °C', 'use 38.2 °C or 38.3 °C'],
];

describe('validate rejects values the wire cannot carry exactly, naming the field, the value and the resolution', () => {
  it.each(cases)('%s → %s', (file, path, value, res, wire) => {
    const errs = errorsOf(file);
    const hit = errs.find((e) => e.path === path && e.layer === 'wire');
    expect(hit, errs.map(formatIssue).join('\n')).toBeDefined();
    const line = formatIssue(hit!);
    expect(hit!.severity).toBe('error');
    expect(hit!.limit).toBeTruthy();
    expect(line).toMatch(new RegExp(`^${BAD}/${file.replace('.', '\\.')}:\\d+:\\d+: `));
    expect(line).toContain(`${path} ${value}: `);
    expect(line).toContain(res);
    expect(line).toContain(wire);
    expect(line).toContain('(wire protocol)');
  });

  it('burstsPerS: 1.5 (which used to pass and then fault the session at start) is refused before any session', () => {
    const r = validateProtocolData({
      id: 'b',
      name: 'b',
      indication: 'b',
      steps: [
        {
          tens: {
            channel: 1,
            waveform: 'symmetric-biphasic',
            rateHz: 100,
            pulseWidthUs: 100,
            amplitudeMa: 20,
            electrodeAreaCm2: 25,
            rampUpS: 2,
            durationS: 10,
            rampDownS: 2,
            burst: { burstsPerS: 1.5, pulsesPerBurst: 7 },
          },
        },
      ],
    });
    expect(r.ok).toBe(false);
  });

  it('a value broken against a limit is reported once, by the limit, not again by the wire', () => {
    const r = validateProtocolData({
      id: 'b',
      name: 'b',
      indication: 'b',
      steps: [
        {
          tens: {
            channel: 1,
            waveform: 'symmetric-biphasic',
            rateHz: 0.5,
            pulseWidthUs: 100,
            amplitudeMa: 20,
            electrodeAreaCm2: 25,
            rampUpS: 2,
            durationS: 10,
            rampDownS: 2,
          },
        },
      ],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const onRate = r.errors.filter((e) => e.path === 'steps[0].tens.rateHz');
    expect(onRate.length).toBe(1);
    expect(onRate[0]!.layer).toBe('absolute');
  });

  it('values at the resolution pass, floating-point noise included (1.15 W/cm² × 100 is 114.99999999999999)', () => {
    expect(1.15 * 100).not.toBe(115);
    expect(wireProblem(WIRE_QUANTITIES.usIntensityWPerCm2, 1.15)).toBeNull();
    expect(wireProblem(WIRE_QUANTITIES.usIntensityWPerCm2, 2.675)?.kind).toBe('resolution');
    expect(wireProblem(WIRE_QUANTITIES.tensAmplitudeMa, 0.3)).toBeNull();
    expect(wireProblem(WIRE_QUANTITIES.padTargetC, 37.1)).toBeNull();
    expect(wireProblem(WIRE_QUANTITIES.durationS, 1.001)).toBeNull();
    expect(wireProblem(WIRE_QUANTITIES.tensAmplitudeMa, 0.35)?.kind).toBe('resolution');
  });

  it('every built-in protocol and example still validates, with no wire issue', () => {
    const files = [...listBuiltins().map((b) => b.file), 'examples/tens-10s.yaml', 'examples/short-tens.yaml', 'examples/upper-back-combo.json'];
    for (const f of files) {
      const r = loadProtocolFile(f);
      expect(r.ok, r.ok ? f : r.errors.map(formatIssue).join('\n')).toBe(true);
      if (r.ok) expect(r.plan.warnings.filter((w) => w.layer === 'wire')).toEqual([]);
    }
  });
});

describe("one table for the driver's scaling and the validator's check", () => {
  const entries = Object.entries(WIRE_QUANTITIES) as [string, WireQuantity][];

  it.each(entries)('%s names a real wire field of its type', (_name, q) => {
    const m = /^([A-Z_]+)\.(\w+)$/.exec(q.wire);
    if (!m) return; // SET/RAMP values and board milliseconds: checked below
    const spec = MESSAGES[m[1] as MessageName];
    expect(spec, q.wire).toBeDefined();
    const field = spec.fields.find(([f]) => f === m[2]);
    expect(field, q.wire).toBeDefined();
    expect(field![1]).toBe(q.type);
  });

  it('SET/RAMP value and the board times are the fields the table says', () => {
    const type = (msg: MessageName, f: string) => MESSAGES[msg].fields.find(([n]) => n === f)?.[1];
    for (const q of [WIRE_QUANTITIES.tensAmplitudeMa, WIRE_QUANTITIES.usIntensityWPerCm2, WIRE_QUANTITIES.padTargetC]) {
      expect(type('SET', 'value')).toBe(q.type);
      expect(type('RAMP', 'to')).toBe(q.type);
    }
    expect(type('RAMP', 'durationMs')).toBe(WIRE_QUANTITIES.durationS.type);
    expect(type('SET', 'atMs')).toBe(WIRE_QUANTITIES.durationS.type);
  });

  it.each(entries)('%s: what passes the check encodes exactly and decodes back', (_name, q) => {
    const step = 1 / q.scale;
    for (const v of [step, 7 * step, 123 * step, wireMax(q) / q.scale]) {
      if (!isExact(q, v) || wireProblem(q, v)) continue;
      const w = toWire(q, v);
      expect(Number.isInteger(w)).toBe(true);
      expect(w).toBeLessThanOrEqual(wireMax(q));
      expect(fromWire(q, w)).toBeCloseTo(v, 9);
    }
    expect(wireProblem(q, (wireMax(q) + 1) / q.scale)?.kind).toBe('range');
    expect(resolution(q)).toMatch(/^[\d.]+/);
  });

  it('the largest CONFIG_TENS the check lets through encodes', () => {
    const Q = WIRE_QUANTITIES;
    expect(() =>
      encodeMessage('CONFIG_TENS', {
        output: 0,
        rateHz: toWire(Q.tensRateHz, 150),
        pulseWidthUs: toWire(Q.tensPulseWidthUs, 500),
        waveform: 1,
        electrodeAreaCm2x10: toWire(Q.electrodeAreaCm2, 6553.5),
        flags: 0,
        burstsPerS: toWire(Q.burstsPerS, 255),
        pulsesPerBurst: toWire(Q.pulsesPerBurst, 255),
        modKind: 1,
        modMinPct: toWire(Q.modMinPct, 99),
        modPeriodDs: toWire(Q.modPeriodS, 6553.5),
      }),
    ).not.toThrow();
  });
});
