import { describe, expect, it } from 'vitest';
import {
  ABSOLUTE_LIMITS,
  formatIssue,
  loadProfile,
  loadProtocolFile,
  ProfileError,
  tryLoadProfile,
  validateProtocolData,
  type Issue,
} from '../../src/protocol/index.js';

const BAD = 'tests/fixtures/bad';
const PROFILES = 'tests/fixtures/profiles';

function errorsOf(file: string, profilePath?: string): Issue[] {
  const r = loadProtocolFile(`${BAD}/${file}`, profilePath ? loadProfile(profilePath) : undefined);
  expect(r.ok, `${file} should be rejected`).toBe(false);
  return r.ok ? [] : r.errors;
}

// file → the one error expected: field path, layer, and a fragment of the formatted line
const cases: [string, string, Issue['layer'], string][] = [
  ['tens-amplitude-high.yaml', 'steps[0].tens.amplitudeMa', 'absolute', '= 95: exceeds 80 mA (absolute limit, IEC 60601-2-10)'],
  ['tens-amplitude-zero.yaml', 'steps[0].tens.amplitudeMa', 'absolute', '= 0: must be greater than 0 mA'],
  ['tens-amplitude-profile.yaml', 'steps[0].tens.amplitudeMa', 'profile', '= 70: exceeds 60 mA (device profile default)'],
  ['tens-rate-high.yaml', 'steps[0].tens.rateHz', 'absolute', '= 200: exceeds 150 Hz (absolute limit, IEC 60601-2-10)'],
  ['tens-rate-low.yaml', 'steps[0].tens.rateHz', 'absolute', '= 0.5: below 1 Hz (absolute limit, IEC 60601-2-10)'],
  ['tens-width-high.yaml', 'steps[0].tens.pulseWidthUs', 'absolute', '= 600: exceeds 500 µs'],
  ['tens-width-low.yaml', 'steps[0].tens.pulseWidthUs', 'absolute', '= 10: below 20 µs'],
  ['tens-duration-zero.yaml', 'steps[0].tens.durationS', 'absolute', '= 0: must be greater than 0 s'],
  ['tens-ramp-negative.yaml', 'steps[0].tens.rampUpS', 'absolute', '= -1: must not be negative'],
  ['tens-channel-3.yaml', 'steps[0].tens.channel', 'profile', '= 3: no such TENS channel'],
  ['tens-high-density.yaml', 'steps[0].tens', 'absolute', 'RMS current density 3.464 mA/cm² exceeds 2 mA/cm²'],
  ['us-intensity-high.yaml', 'steps[0].ultrasound.intensityWPerCm2', 'absolute', '= 3.5: exceeds 3 W/cm² (absolute limit, IEC 60601-2-5)'],
  ['us-intensity-zero.yaml', 'steps[0].ultrasound.intensityWPerCm2', 'absolute', '= 0: must be greater than 0 W/cm²'],
  ['us-intensity-profile.yaml', 'steps[0].ultrasound.intensityWPerCm2', 'profile', '= 2.8: exceeds 2.5 W/cm² (device profile default)'],
  ['us-area-too-large.yaml', 'steps[0].ultrasound.areaCm2', 'absolute', 'above 4 × ERA'],
  ['us-era-mismatch.yaml', 'steps[0].ultrasound.eraCm2', 'profile', "exceeds the fitted head's ERA of 5 cm²"],
  ['us-freq-invalid.yaml', 'steps[0].ultrasound.frequencyMHz', 'schema', 'must be one of 1, 3'],
  ['heat-too-hot.yaml', 'steps[0].thermal.hot.targetC', 'absolute', '= 45: exceeds 40 °C'],
  ['cold-too-cold.yaml', 'steps[0].thermal.cold.targetC', 'absolute', '= 5: below 10 °C'],
  ['json-amplitude-high.json', 'steps[0].tens.amplitudeMa', 'absolute', 'exceeds 80 mA'],
];

describe('every limit is rejected naming the path, limit and layer', () => {
  it.each(cases)('%s → %s', (file, path, layer, fragment) => {
    const errs = errorsOf(file);
    const hit = errs.find((e) => e.path === path);
    expect(hit, errs.map(formatIssue).join('\n')).toBeDefined();
    expect(hit!.layer).toBe(layer);
    expect(hit!.severity).toBe('error');
    expect(formatIssue(hit!)).toContain(`${path} `);
    expect(formatIssue(hit!)).toContain(fragment);
    expect(formatIssue(hit!)).toMatch(new RegExp(`^${BAD}/${file.replace('.', '\\.')}:\\d+:\\d+: `));
    if (layer === 'absolute' || layer === 'profile') expect(hit!.limit).toBeTruthy();
  });
});

describe('structural errors become issues naming the field', () => {
  it.each([
    ['tens-wrong-type.yaml', 'steps[0].tens.amplitudeMa', 'wrong type: expected number, got string'],
    ['tens-missing-field.yaml', 'steps[0].tens.pulseWidthUs', 'missing required field'],
    ['tens-unknown-key.yaml', 'steps[0].tens.amplitudeMA', "unknown field 'amplitudeMA' (did you mean 'amplitudeMa'?)"],
    ['us-both-dose-duration.yaml', 'steps[0].ultrasound', 'exactly one of doseJPerCm2 or durationS, not both'],
    ['us-neither-dose-duration.yaml', 'steps[0].ultrasound', 'neither is set'],
    ['unknown-modality.yaml', 'steps[0].laser', "unknown modality 'laser'"],
    ['parallel-clash.yaml', 'steps[0].parallel[1]', 'parallel clash: TENS channel 1 is already used by steps[0].parallel[0]'],
    ['parallel-prompt.yaml', 'steps[0].parallel[0]', "may contain only tens, ultrasound, thermal programs, not 'prompt'"],
    ['heat-missing-hot.yaml', 'steps[0].thermal.hot', 'missing required field'],
    ['thermal-bad-mode.yaml', 'steps[0].thermal.mode', 'must be one of heat, cold, contrast'],
  ])('%s → %s', (file, path, fragment) => {
    const errs = errorsOf(file);
    const hit = errs.find((e) => e.path === path && formatIssue(e).includes(fragment));
    expect(hit, errs.map(formatIssue).join('\n')).toBeDefined();
  });

  it.each([
    ['malformed.yaml', 'malformed YAML'],
    ['malformed.json', 'malformed JSON'],
    ['empty.yaml', 'file is empty'],
  ])('%s → syntax issue with position', (file, fragment) => {
    const [e] = errorsOf(file);
    expect(e!.layer).toBe('syntax');
    expect(e!.message).toContain(fragment);
    if (file !== 'empty.yaml') expect(e!.line).toBeGreaterThan(0);
  });

  it('a missing file is an issue, not a throw', () => {
    const r = loadProtocolFile(`${BAD}/does-not-exist.yaml`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toBe('file not found');
  });

  it('lists every violation, not just the first', () => {
    const data = {
      id: 'many',
      name: 'many',
      indication: 'x',
      steps: [
        {
          tens: {
            channel: 1,
            waveform: 'symmetric-biphasic',
            rateHz: 200,
            pulseWidthUs: 600,
            amplitudeMa: 95,
            electrodeAreaCm2: 25,
            rampUpS: 1,
            durationS: 10,
            rampDownS: 1,
          },
        },
        { thermal: { mode: 'heat', hot: { targetC: 50, durationS: 10 } } },
      ],
    };
    const r = validateProtocolData(data, { file: 'many.yaml' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['steps[0].tens.rateHz', 'steps[0].tens.pulseWidthUs', 'steps[0].tens.amplitudeMa', 'steps[1].thermal.hot.targetC']),
    );
  });
});

const tens = {
  channel: 1,
  waveform: 'symmetric-biphasic',
  rateHz: 100,
  pulseWidthUs: 100,
  amplitudeMa: 25,
  electrodeAreaCm2: 25,
  rampUpS: 10,
  durationS: 10,
  rampDownS: 1,
};
const proto = (...steps: unknown[]) => ({ id: 't', name: 't', indication: 't', steps });

describe('device profile narrows limits', () => {
  const narrow = loadProfile(`${PROFILES}/narrow.json`);
  const errs = (data: unknown) => {
    const r = validateProtocolData(data, { file: 'p.yaml', profile: narrow });
    return r.ok ? [] : r.errors;
  };
  it.each([
    [{ tens: { ...tens, amplitudeMa: 35 } }, 'steps[0].tens.amplitudeMa', 'exceeds 30 mA (device profile narrow)'],
    [{ tens: { ...tens, rateHz: 130 } }, 'steps[0].tens.rateHz', 'exceeds 120 Hz (device profile narrow)'],
    [{ tens: { ...tens, rateHz: 1.5 } }, 'steps[0].tens.rateHz', 'below 2 Hz (device profile narrow)'],
    [{ tens: { ...tens, pulseWidthUs: 350 } }, 'steps[0].tens.pulseWidthUs', 'exceeds 300 µs (device profile narrow)'],
    [{ tens: { ...tens, pulseWidthUs: 40 } }, 'steps[0].tens.pulseWidthUs', 'below 50 µs (device profile narrow)'],
    [{ tens: { ...tens, channel: 2 } }, 'steps[0].tens.channel', 'no such TENS channel on this device (channels: 1)'],
    [
      { ultrasound: { frequencyMHz: 1, dutyCyclePct: 100, intensityWPerCm2: 1.5, eraCm2: 5, areaCm2: 10, durationS: 60 } },
      'steps[0].ultrasound.intensityWPerCm2',
      'exceeds 1.2 W/cm² (device profile narrow)',
    ],
    [
      { ultrasound: { frequencyMHz: 3, dutyCyclePct: 100, intensityWPerCm2: 1, eraCm2: 5, areaCm2: 10, durationS: 60 } },
      'steps[0].ultrasound.frequencyMHz',
      'does not support 3 MHz',
    ],
    [
      { ultrasound: { frequencyMHz: 1, dutyCyclePct: 100, intensityWPerCm2: 1, eraCm2: 4, areaCm2: 10, durationS: 60 } },
      'steps[0].ultrasound.eraCm2',
      "does not match the fitted head's ERA of 5 cm²",
    ],
    [{ thermal: { mode: 'heat', hot: { targetC: 39, durationS: 60 } } }, 'steps[0].thermal.hot.targetC', 'exceeds 38 °C (device profile narrow)'],
    [{ thermal: { mode: 'cold', cold: { targetC: 12, durationS: 60 } } }, 'steps[0].thermal.cold.targetC', 'below 14 °C (device profile narrow)'],
    [
      { tens: { ...tens, rateHz: 100, modulation: { kind: 'rate', minPct: 1.5, periodS: 10 } } },
      'steps[0].tens.modulation.minPct',
      'the sweep reaches 1.5 Hz, below 2 Hz (device profile narrow)',
    ],
  ])('%j → %s', (step, path, fragment) => {
    const e = errs(proto(step));
    const hit = e.find((i) => i.path === path);
    expect(hit, e.map(formatIssue).join('\n')).toBeDefined();
    expect(formatIssue(hit!)).toContain(fragment);
  });
  it('the absolute layer still wins above the absolute limit', () => {
    const e = errs(proto({ tens: { ...tens, amplitudeMa: 90 } }));
    expect(e[0]!.layer).toBe('absolute');
    expect(formatIssue(e[0]!)).toContain('exceeds 80 mA (absolute limit, IEC 60601-2-10)');
  });
  it('a profile without a modality rejects steps using it', () => {
    const r = validateProtocolData(proto({ thermal: { mode: 'heat', hot: { targetC: 38, durationS: 60 } } }), {
      profile: loadProfile(`${PROFILES}/tens-only.json`),
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toBe('this device has no thermal pad');
  });
});

describe('profiles may only narrow', () => {
  it('rejects a widening profile with a clear message per field', () => {
    const r = tryLoadProfile(`${PROFILES}/wide.json`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const lines = r.errors.map(formatIssue);
    for (const p of [
      'tens.maxAmplitudeMa = 100',
      'tens.maxRateHz = 200',
      'tens.minPulseWidthUs = 10',
      'ultrasound.maxIntensityWPerCm2 = 4',
      'thermal.maxHotC = 45',
      'thermal.minColdC = 5',
    ]) {
      expect(
        lines.some((l) => l.includes(p) && l.includes('may only narrow')),
        `${p}\n${lines.join('\n')}`,
      ).toBe(true);
    }
    expect(() => loadProfile(`${PROFILES}/wide.json`)).toThrow(ProfileError);
  });
  it('the default profile loads and only narrows', () => {
    const p = loadProfile();
    expect(p.name).toBe('default');
    expect(p.tens!.maxAmplitudeMa).toBeLessThanOrEqual(ABSOLUTE_LIMITS.tens.maxAmplitudeMa);
    expect(p.ultrasound!.maxIntensityWPerCm2).toBeLessThanOrEqual(ABSOLUTE_LIMITS.ultrasound.maxIntensityWPerCm2);
  });
});

describe('warnings and acknowledgements', () => {
  it('treatment area over 2 × ERA is a warning, not an error', () => {
    const r = validateProtocolData(proto({ ultrasound: { frequencyMHz: 1, dutyCyclePct: 100, intensityWPerCm2: 1, eraCm2: 5, areaCm2: 15, durationS: 300 } }));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.plan.warnings).toHaveLength(1);
      expect(r.plan.warnings[0]!.severity).toBe('warning');
      expect(r.plan.warnings[0]!.path).toBe('steps[0].ultrasound.areaCm2');
    }
  });
  it('high current density passes with acknowledge: [high-current-density] (as a warning)', () => {
    const hi = { ...tens, rateHz: 150, pulseWidthUs: 400, amplitudeMa: 40, electrodeAreaCm2: 4 };
    expect(validateProtocolData(proto({ tens: hi })).ok).toBe(false);
    const r = validateProtocolData(proto({ tens: { ...hi, acknowledge: ['high-current-density'] } }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.plan.warnings[0]!.message).toContain('acknowledged');
  });
  it('burst density uses the effective pulse rate', () => {
    // 60 mA, 500 µs symmetric over 2 cm²: at 150 Hz continuous = 10.95 mA/cm² (rejected);
    // in bursts of 3 at 2/s (6 pulses/s) = 2.32 mA/cm² (still rejected); at 1/s (3 pulses/s) = 1.64 (ok)
    const base = { ...tens, rateHz: 150, pulseWidthUs: 500, amplitudeMa: 60, electrodeAreaCm2: 2 };
    expect(validateProtocolData(proto({ tens: { ...base, burst: { burstsPerS: 2, pulsesPerBurst: 3 } } })).ok).toBe(false);
    expect(validateProtocolData(proto({ tens: { ...base, burst: { burstsPerS: 1, pulsesPerBurst: 3 } } })).ok).toBe(true);
  });
  it('a burst longer than the burst period is rejected', () => {
    const r = validateProtocolData(proto({ tens: { ...tens, rateHz: 10, burst: { burstsPerS: 5, pulsesPerBurst: 7 } } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.path).toBe('steps[0].tens.burst');
  });
  it('non-finite numbers are rejected by the schema', () => {
    const r = validateProtocolData(proto({ tens: { ...tens, durationS: Infinity } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.path).toBe('steps[0].tens.durationS');
  });
});
