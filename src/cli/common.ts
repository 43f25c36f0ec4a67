/** Shared bits for CLI commands: the --profile option, formatting helpers, help text. */
import type { Command } from 'commander';
import { type DeviceProfile, formatIssue, tryLoadProfile, type Plan, type PlannedProgram } from '../protocol/index.js';
import { CliExit, EXIT, io } from './io.js';
import { US_DUTY_CYCLES_PCT, US_FREQUENCIES_MHZ } from '../drivers/wire/spec.js';
import { modalityOf } from '../modalities/index.js';

export function addProfileOption(cmd: Command): Command {
  return cmd.option('--profile <file>', 'device profile JSON that narrows the limits (default: profiles/default.json)');
}

/** Load the profile named by --profile (or the default); on error print every issue and exit 2. */
export function profileFrom(cmd: Command): DeviceProfile {
  const path = (cmd.optsWithGlobals() as { profile?: string }).profile;
  const r = tryLoadProfile(path);
  if (!r.ok) {
    for (const i of r.errors) io().err(formatIssue(i));
    io().err(`modality: the device profile ${path ?? '(default)'} is not valid`);
    throw new CliExit(EXIT.badInput);
  }
  return r.profile;
}

export function modalitiesOf(plan: Plan): string[] {
  const set = new Set<string>();
  for (const s of plan.steps) {
    for (const p of s.programs) set.add(p.modality);
    if (s.prompt) set.add('prompt');
  }
  return [...set];
}

export function describeProgram(p: PlannedProgram): string {
  return modalityOf(p).describe(p);
}

const orList = (xs: readonly number[]) => `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;

export const FORMAT_HELP = `
A protocol file (YAML or JSON) lists steps that run in order. Every number's
field name carries its unit:
  S = seconds, Hz, Us = µs, Ma = mA, Cm2 = cm², MHz, Pct = %,
  WPerCm2 = W/cm², JPerCm2 = J/cm², C = °C.

  id: upper-back-combo
  name: "Upper back: heat, then ultrasound, then TENS"
  indication: Upper back muscle spasm from postural strain
  source: "where the parameters come from"
  steps:
    - thermal: { mode: heat, hot: { targetC: 40, durationS: 600 } }
    - ultrasound:
        frequencyMHz: 1          # ${orList(US_FREQUENCIES_MHZ)}
        dutyCyclePct: 100        # ${orList(US_DUTY_CYCLES_PCT)}
        intensityWPerCm2: 1.5    # > 0 and ≤ 3 (IEC 60601-2-5)
        eraCm2: 5                # the head's effective radiating area
        areaCm2: 10              # treatment area, ≤ 4 × ERA
        doseJPerCm2: 135         # or durationS; exactly one (here: 180 s)
    - tens:
        channel: 1
        waveform: symmetric-biphasic   # or asymmetric-biphasic
        rateHz: 100              # 1–150 Hz
        pulseWidthUs: 100        # 20–500 µs
        amplitudeMa: 25          # > 0, ≤ 80 mA
        electrodeAreaCm2: 25     # > 2 mA/cm² RMS needs acknowledge: [high-current-density]
        rampUpS: 10
        durationS: 1200          # time at amplitude, between the ramps
        rampDownS: 5
    - parallel:                  # programs at the same time (one per channel/head/pad)
        - tens: { ... }
        - thermal: { mode: contrast, hot: { targetC: 40, durationS: 240 },
                     cold: { targetC: 12, durationS: 60 }, cycles: 4, startWith: hot }
    - prompt: { text: "Stretch the upper trapezius", durationS: 60 }

Hot targets ≤ 40 °C (pad surface max 41 °C), cold targets ≥ 10 °C. A device
profile (--profile) may narrow these limits, never widen them.
JSON Schema: schema/protocol.schema.json. Built-ins: protocols/*.yaml.
`;
