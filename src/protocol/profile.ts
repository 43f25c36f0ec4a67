/**
 * Device profiles: the inner limit layer. A profile describes one cart (which
 * TENS channels it has, its ultrasound head, its pad) and may only narrow the
 * absolute limits in limits.ts. A profile that tries to widen one is rejected.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ABSOLUTE_LIMITS as L, STANDARDS } from './limits.js';
import { type Issue, zodIssuesToIssues } from './issues.js';
import { describeJsonError } from './text.js';
import { packagePath } from '../util/package-root.js';

export const DEFAULT_PROFILE_PATH = packagePath('profiles', 'default.json');

const pos = (d: string) => z.number().positive().meta({ description: d });

export const DeviceProfileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  tens: z
    .strictObject({
      channels: z.array(z.int().min(1)).min(1).meta({ description: 'TENS channels the board has, e.g. [1, 2]' }),
      maxAmplitudeMa: pos('Board maximum peak current, mA'),
      minRateHz: pos('Lowest pulse rate, Hz').optional(),
      maxRateHz: pos('Highest pulse rate, Hz').optional(),
      minPulseWidthUs: pos('Narrowest pulse, µs').optional(),
      maxPulseWidthUs: pos('Widest pulse, µs').optional(),
    })
    .optional()
    .meta({ description: 'Absent: the cart has no TENS outputs' }),
  ultrasound: z
    .strictObject({
      headEraCm2: pos('Effective radiating area of the fitted head, cm²'),
      frequenciesMHz: z
        .array(z.literal([1, 3]))
        .min(1)
        .meta({ description: 'Frequencies the head supports, MHz' }),
      maxIntensityWPerCm2: pos('Highest intensity the generator allows, W/cm²'),
    })
    .optional()
    .meta({ description: 'Absent: the cart has no ultrasound head' }),
  thermal: z
    .strictObject({
      maxHotC: z.number().meta({ description: 'Highest hot target, °C' }),
      minColdC: z.number().meta({ description: 'Lowest cold target, °C' }),
    })
    .optional()
    .meta({ description: 'Absent: the cart has no thermal pad' }),
});

export type DeviceProfile = z.infer<typeof DeviceProfileSchema>;

export class ProfileError extends Error {
  constructor(public readonly issues: Issue[]) {
    super(issues.map((i) => `${i.file}: ${i.path}: ${i.message}`).join('\n'));
    this.name = 'ProfileError';
  }
}

/** Check that a parsed profile only narrows the absolute limits. */
export function checkProfileNarrows(p: DeviceProfile, file: string): Issue[] {
  const out: Issue[] = [];
  const widen = (path: string, value: number, limit: string, standard: string) =>
    out.push({
      file,
      path,
      value,
      limit,
      layer: 'absolute',
      setBy: `absolute limit, ${standard}`,
      severity: 'error',
      message: `a device profile may only narrow the absolute limits; this widens it (absolute limit ${limit})`,
    });
  if (p.tens) {
    const t = p.tens;
    if (t.maxAmplitudeMa > L.tens.maxAmplitudeMa) widen('tens.maxAmplitudeMa', t.maxAmplitudeMa, `≤ ${L.tens.maxAmplitudeMa} mA`, STANDARDS.tens);
    if (t.maxRateHz !== undefined && t.maxRateHz > L.tens.maxRateHz) widen('tens.maxRateHz', t.maxRateHz, `≤ ${L.tens.maxRateHz} Hz`, STANDARDS.tens);
    if (t.minRateHz !== undefined && t.minRateHz < L.tens.minRateHz) widen('tens.minRateHz', t.minRateHz, `≥ ${L.tens.minRateHz} Hz`, STANDARDS.tens);
    if (t.maxPulseWidthUs !== undefined && t.maxPulseWidthUs > L.tens.maxPulseWidthUs)
      widen('tens.maxPulseWidthUs', t.maxPulseWidthUs, `≤ ${L.tens.maxPulseWidthUs} µs`, STANDARDS.tens);
    if (t.minPulseWidthUs !== undefined && t.minPulseWidthUs < L.tens.minPulseWidthUs)
      widen('tens.minPulseWidthUs', t.minPulseWidthUs, `≥ ${L.tens.minPulseWidthUs} µs`, STANDARDS.tens);
    if (new Set(t.channels).size !== t.channels.length)
      out.push({ file, path: 'tens.channels', value: t.channels, severity: 'error', layer: 'schema', message: 'channels are listed more than once' });
  }
  if (p.ultrasound && p.ultrasound.maxIntensityWPerCm2 > L.ultrasound.maxIntensityWPerCm2)
    widen('ultrasound.maxIntensityWPerCm2', p.ultrasound.maxIntensityWPerCm2, `≤ ${L.ultrasound.maxIntensityWPerCm2} W/cm²`, STANDARDS.ultrasound);
  if (p.thermal) {
    if (p.thermal.maxHotC > L.thermal.maxHotTargetC) widen('thermal.maxHotC', p.thermal.maxHotC, `≤ ${L.thermal.maxHotTargetC} °C`, STANDARDS.thermal);
    if (p.thermal.minColdC < L.thermal.minColdTargetC) widen('thermal.minColdC', p.thermal.minColdC, `≥ ${L.thermal.minColdTargetC} °C`, STANDARDS.thermal);
  }
  return out;
}

export type ProfileResult = { ok: true; profile: DeviceProfile; file: string } | { ok: false; errors: Issue[] };

/** Parse and check a profile object (already read from JSON). */
export function parseProfile(data: unknown, file: string): ProfileResult {
  const r = DeviceProfileSchema.safeParse(data, { reportInput: true });
  if (!r.success) return { ok: false, errors: zodIssuesToIssues(r.error.issues, file) };
  const errors = checkProfileNarrows(r.data, file);
  return errors.length ? { ok: false, errors } : { ok: true, profile: r.data, file };
}

/** Load a profile as a value; errors never throw. */
export function tryLoadProfile(path: string = DEFAULT_PROFILE_PATH): ProfileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      errors: [
        {
          file: path,
          path: '',
          severity: 'error',
          message: code === 'ENOENT' ? 'device profile not found' : `cannot read device profile (${code ?? 'error'})`,
        },
      ],
    };
  }
  if (text.trim() === '') return { ok: false, errors: [{ file: path, path: '', severity: 'error', layer: 'syntax', message: 'device profile is empty' }] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const d = describeJsonError(text, e);
    const issue: Issue = { file: path, path: '', severity: 'error', layer: 'syntax', message: d.message };
    if (d.line !== undefined) {
      issue.line = d.line;
      issue.column = d.column ?? 1;
    }
    return { ok: false, errors: [issue] };
  }
  return parseProfile(data, path);
}

let defaultCache: DeviceProfile | undefined;

/** Load and validate a device profile (default: profiles/default.json). Throws ProfileError with the issues if it is invalid. */
export function loadProfile(path?: string): DeviceProfile {
  if (path === undefined && defaultCache) return defaultCache;
  const r = tryLoadProfile(path);
  if (!r.ok) throw new ProfileError(r.errors);
  if (path === undefined) defaultCache = r.profile;
  return r.profile;
}
