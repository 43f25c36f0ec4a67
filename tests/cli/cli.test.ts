import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const BAD = 'tests/fixtures/bad';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`), err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`) });
  return { code, out, err };
}

const noStack = (text: string) => {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/^\w*Error:/m);
};

describe('validate rejects bad input with exit 2, the field path and the limit, no stack', () => {
  it.each([
    ['tens-amplitude-high.yaml', 'steps[0].tens.amplitudeMa = 95: exceeds 80 mA (absolute limit, IEC 60601-2-10)'],
    ['tens-amplitude-profile.yaml', 'steps[0].tens.amplitudeMa = 70: exceeds 60 mA (device profile default)'],
    ['tens-amplitude-zero.yaml', 'steps[0].tens.amplitudeMa = 0: must be greater than 0 mA'],
    ['tens-rate-high.yaml', 'steps[0].tens.rateHz = 200: exceeds 150 Hz'],
    ['tens-rate-low.yaml', 'steps[0].tens.rateHz = 0.5: below 1 Hz'],
    ['tens-width-high.yaml', 'steps[0].tens.pulseWidthUs = 600: exceeds 500 µs'],
    ['tens-width-low.yaml', 'steps[0].tens.pulseWidthUs = 10: below 20 µs'],
    ['tens-duration-zero.yaml', 'steps[0].tens.durationS = 0: must be greater than 0 s'],
    ['tens-ramp-negative.yaml', 'steps[0].tens.rampUpS = -1: must not be negative'],
    ['tens-channel-3.yaml', 'steps[0].tens.channel = 3: no such TENS channel'],
    ['tens-high-density.yaml', 'steps[0].tens = 3.464: RMS current density 3.464 mA/cm² exceeds 2 mA/cm²'],
    ['us-intensity-high.yaml', 'steps[0].ultrasound.intensityWPerCm2 = 3.5: exceeds 3 W/cm² (absolute limit, IEC 60601-2-5)'],
    ['us-intensity-zero.yaml', 'steps[0].ultrasound.intensityWPerCm2 = 0: must be greater than 0'],
    ['us-intensity-profile.yaml', 'steps[0].ultrasound.intensityWPerCm2 = 2.8: exceeds 2.5 W/cm² (device profile default)'],
    ['us-area-too-large.yaml', 'steps[0].ultrasound.areaCm2 = 25'],
    ['us-era-mismatch.yaml', 'steps[0].ultrasound.eraCm2 = 6'],
    ['heat-too-hot.yaml', 'steps[0].thermal.hot.targetC = 45: exceeds 40 °C'],
    ['cold-too-cold.yaml', 'steps[0].thermal.cold.targetC = 5: below 10 °C'],
    ['tens-wrong-type.yaml', 'steps[0].tens.amplitudeMa = "twenty": wrong type: expected number, got string'],
    ['tens-missing-field.yaml', 'steps[0].tens.pulseWidthUs: missing required field'],
    ['us-both-dose-duration.yaml', 'steps[0].ultrasound: give exactly one of doseJPerCm2 or durationS, not both'],
    ['us-neither-dose-duration.yaml', 'steps[0].ultrasound: give exactly one of doseJPerCm2 or durationS (neither is set)'],
    ['unknown-modality.yaml', "steps[0].laser: unknown modality 'laser'"],
    ['parallel-clash.yaml', 'steps[0].parallel[1]: parallel clash: TENS channel 1'],
    ['malformed.yaml', 'malformed YAML'],
    ['malformed.json', 'malformed JSON'],
    ['empty.yaml', 'file is empty'],
    ['does-not-exist.yaml', 'file not found'],
  ])('%s', async (file, fragment) => {
    const r = await run('validate', `${BAD}/${file}`);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${BAD}/${file}`);
    expect(r.err).toContain(fragment);
    noStack(r.out + r.err);
  });

  it('lists every error of every file, one line each, and fails if any file is bad', async () => {
    const r = await run('validate', 'examples/short-tens.yaml', `${BAD}/tens-rate-high.yaml`, `${BAD}/cold-too-cold.yaml`);
    expect(r.code).toBe(2);
    expect(r.out).toContain('ok examples/short-tens.yaml');
    expect(r.err.split('\n').filter((l) => l.startsWith(BAD))).toHaveLength(2);
  });

  it('a narrower --profile narrows; a widening --profile is itself rejected', async () => {
    const n = await run('validate', 'tens-conventional', '--profile', 'tests/fixtures/profiles/narrow.json');
    expect(n.code).toBe(0);
    const a = await run('validate', 'tens-acupuncture-like', '--profile', 'tests/fixtures/profiles/narrow.json');
    expect(a.code).toBe(2);
    expect(a.err).toContain('steps[0].tens.amplitudeMa = 40: exceeds 30 mA (device profile narrow)');
    const w = await run('validate', 'examples/short-tens.yaml', '--profile', 'tests/fixtures/profiles/wide.json');
    expect(w.code).toBe(2);
    expect(w.err).toContain('tens.maxAmplitudeMa = 100: a device profile may only narrow');
    noStack(w.err);
    const m = await run('validate', 'examples/short-tens.yaml', '--profile', `${BAD}/malformed.json`);
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/malformed\.json:2:14: malformed JSON: Unexpected token '\}'\n/);
    const missing = await run('protocols', '--profile', 'nope.json');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.json: device profile not found');
  });
});

describe('validate, show and protocols on good input', () => {
  it('validate prints ok per file and exits 0 (warnings too)', async () => {
    const r = await run('validate', 'examples/short-tens.yaml', 'examples/tens-10s.yaml', 'examples/upper-back-combo.json');
    expect(r.code).toBe(0);
    expect(r.out.match(/^ok /gm)).toHaveLength(3);
  });
  it('protocols --json lists at least 9 with id, name, modalities, plannedMs, source', async () => {
    const r = await run('protocols', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { id: string; name: string; modalities: string[]; plannedMs: number; source: string }[];
    expect(rows.length).toBeGreaterThanOrEqual(9);
    for (const row of rows) {
      expect(row).toMatchObject({ id: expect.any(String), name: expect.any(String), plannedMs: expect.any(Number), source: `builtin:${row.id}` });
      expect(row.modalities.length).toBeGreaterThan(0);
    }
    expect(rows.find((x) => x.id === 'upper-back-heat-us-tens')!.modalities).toEqual(['thermal', 'ultrasound', 'tens']);
  });
  it('protocols prints a table', async () => {
    const r = await run('protocols');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ID\s+NAME\s+MODALITIES\s+PLANNED/);
    expect(r.out).toContain('upper-back-heat-us-tens');
  });
  it('show gives ultrasound time/energy/dose, TENS density and the timeline', async () => {
    const r = await run('show', 'upper-back-heat-us-tens');
    expect(r.code).toBe(0);
    expect(r.out).toContain('time 5:00, dose 150 J/cm², energy 1500 J');
    expect(r.out).toContain('mA/cm²');
    expect(r.out).toMatch(/15:19 –\s+15:29\s+step 3\s+tens\s+ramp-up/); // after the estimated 19 s for the pad to reach 40 °C
    expect(r.out).toContain('thermal:    10:00 at target + ~0:19 estimated transitions');
    expect(r.out).toContain('transition');
  });
  it('show --json gives the plan and timeline', async () => {
    const r = await run('show', 'examples/short-tens.yaml', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { totalMs: number; source: string; timeline: unknown[]; hash: string };
    expect(j.totalMs).toBe(30000);
    expect(j.source).toBe('examples/short-tens.yaml');
    expect(j.timeline).toHaveLength(3);
  });
  it('show of an unknown id exits 2 naming the built-ins', async () => {
    const r = await run('show', 'no-such-protocol');
    expect(r.code).toBe(2);
    expect(r.err).toContain("no built-in protocol 'no-such-protocol'");
  });
  it('usage errors exit 2; --help exits 0 and teaches the format', async () => {
    expect((await run('validate')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    const h = await run('validate', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toContain('Examples:');
    expect(h.out).toContain('amplitudeMa');
    expect(h.out).toContain('WPerCm2 = W/cm²');
  });
});

describe('the real binary (two spawns)', () => {
  it('bin/modality.js --help works', () => {
    const r = spawnSync(process.execPath, ['bin/modality.js', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: modality');
    expect(r.stdout).toContain('validate');
  });
  it('bin/modality.js validate on bad files exits 2 with no stack trace', () => {
    const r = spawnSync(process.execPath, ['bin/modality.js', 'validate', `${BAD}/tens-amplitude-high.yaml`, `${BAD}/malformed.json`, `${BAD}/empty.yaml`], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('steps[0].tens.amplitudeMa = 95: exceeds 80 mA (absolute limit, IEC 60601-2-10)');
    expect(r.stderr).toContain('malformed JSON');
    expect(r.stderr).toContain('file is empty');
    noStack(r.stdout + r.stderr);
  });
});

describe('the command table in main.ts', () => {
  it('gives each command the help line its own definition has (the table is what `modality --help` shows before any command loads)', async () => {
    const { Help } = await import('commander');
    const { buildProgram, COMMANDS } = await import('../../src/cli/main.js');
    const program = await buildProgram('all');
    const help = new Help();
    const defined = Object.fromEntries(
      program.commands.filter((c) => c.name() !== 'help').map((c) => [c.name(), { term: help.subcommandTerm(c), summary: c.description() }]),
    );
    const table = Object.fromEntries(Object.entries(COMMANDS).map(([name, e]) => [name, { term: e.term, summary: e.summary }]));
    expect(table).toEqual(defined);
  });

  it('`modality --help` and `modality help run` print the same command lines with only one command loaded or none', async () => {
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    expect(await main(['--help'], io)).toBe(0);
    const lazy = out.join('');
    out.length = 0;
    const { buildProgram } = await import('../../src/cli/main.js');
    expect(lazy.startsWith((await buildProgram('all')).helpInformation())).toBe(true);
    expect(await main(['help', 'run'], io)).toBe(0);
    expect(out.join('')).toContain('Usage: modality run [options] <protocol>');
  });
});
