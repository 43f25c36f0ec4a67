/**
 * The pin map of a Firmata bench board: which Arduino pin carries which
 * output or input. Validated with zod; the default lives in
 * profiles/firmata-pins.json (docs/firmata.md shows the wiring).
 *
 * Also the one thermistor conversion, shared by the driver and the simulated
 * Firmata board so both assume the same wiring.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { packagePath } from '../util/package-root.js';

const pin = z.number().int().min(0).max(127);
const analogPin = z.number().int().min(0).max(15);

const thermistor = z
  .object({
    /** A-channel the divider midpoint goes to (0 = A0). */
    analogPin,
    /** Fixed resistor from the midpoint to GND (Ω). The NTC sits between +5 V (AREF) and the midpoint. */
    seriesOhm: z.number().positive().default(10000),
    /** NTC resistance at nominalC (Ω). */
    nominalOhm: z.number().positive().default(10000),
    nominalC: z.number().default(25),
    /** NTC beta constant (K). */
    beta: z.number().positive().default(3950),
  })
  .strict();

const electrodeSense = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('digital'),
      pin,
      pullup: z.boolean().default(true),
      /** Pin level that means "no contact". With the pull-up, a broken wire reads high: keep 'high' so it fails safe. */
      leadOffWhen: z.enum(['high', 'low']).default('high'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('analog'),
      analogPin,
      /** Reference resistor from +5 V to the pin; the electrode pair goes from the pin to GND. */
      refOhm: z.number().positive().default(10000),
    })
    .strict(),
]);

export const FirmataPinMapSchema = z
  .object({
    $comment: z.string().optional(),
    tens: z
      .array(
        z
          .object({
            /** A PWM pin: duty = mA / maxMa. */
            pin,
            /** Amplitude at full duty (mA). */
            maxMa: z.number().positive().max(80).default(80),
          })
          .strict(),
      )
      .min(1)
      .max(2),
    ultrasound: z
      .object({
        /** Digital enable (relay or LED). */
        enablePin: pin,
        /** PWM pin: duty = W/cm² / maxWPerCm2. */
        intensityPin: pin,
        maxWPerCm2: z.number().positive().max(3).default(3),
      })
      .strict()
      .optional(),
    pad: z
      .object({
        heaterPin: pin,
        coolerPin: pin.optional(),
        /** Bang-bang hysteresis around the target (°C). */
        hysteresisC: z.number().min(0).max(2).default(0.3),
        thermistor,
      })
      .strict()
      .optional(),
    stop: z
      .object({
        pin,
        pullup: z.boolean().default(true),
        /** Level that means "stop". With a normally-closed switch to GND and the pull-up, 'high' also stops on a broken wire. */
        activeWhen: z.enum(['high', 'low']).default('high'),
      })
      .strict(),
    electrodeSense: z.array(electrodeSense).max(2).default([]),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.electrodeSense.length !== 0 && m.electrodeSense.length !== m.tens.length) {
      ctx.addIssue({ code: 'custom', path: ['electrodeSense'], message: `give one electrode sense per TENS channel (${m.tens.length}), or none` });
    }
    // Digital pins may not be shared; analog channels map to pins 14+ on an Uno but are checked against the board's own mapping at connect.
    const used = new Map<number, string>();
    const claim = (p: number | undefined, what: string) => {
      if (p === undefined) return;
      const prev = used.get(p);
      if (prev) ctx.addIssue({ code: 'custom', path: [], message: `pin ${p} is used twice: ${prev} and ${what}` });
      else used.set(p, what);
    };
    m.tens.forEach((t, i) => {
      claim(t.pin, `tens[${i}].pin`);
    });
    claim(m.ultrasound?.enablePin, 'ultrasound.enablePin');
    claim(m.ultrasound?.intensityPin, 'ultrasound.intensityPin');
    claim(m.pad?.heaterPin, 'pad.heaterPin');
    claim(m.pad?.coolerPin, 'pad.coolerPin');
    claim(m.stop.pin, 'stop.pin');
    m.electrodeSense.forEach((e, i) => {
      if (e.kind === 'digital') claim(e.pin, `electrodeSense[${i}].pin`);
    });
    const analog = new Map<number, string>();
    const claimA = (a: number | undefined, what: string) => {
      if (a === undefined) return;
      const prev = analog.get(a);
      if (prev) ctx.addIssue({ code: 'custom', path: [], message: `analog pin A${a} is used twice: ${prev} and ${what}` });
      else analog.set(a, what);
    };
    claimA(m.pad?.thermistor.analogPin, 'pad.thermistor.analogPin');
    m.electrodeSense.forEach((e, i) => {
      if (e.kind === 'analog') claimA(e.analogPin, `electrodeSense[${i}].analogPin`);
    });
  });

export type FirmataPinMap = z.output<typeof FirmataPinMapSchema>;
export type ThermistorSpec = FirmataPinMap extends { pad?: infer P } ? (NonNullable<P> extends { thermistor: infer T } ? T : never) : never;
export type ElectrodeSense = FirmataPinMap['electrodeSense'][number];

export class FirmataPinMapError extends Error {}

export const DEFAULT_FIRMATA_PINS_PATH = packagePath('profiles', 'firmata-pins.json');

export function parseFirmataPins(json: unknown, source = 'the pin map'): FirmataPinMap {
  const r = FirmataPinMapSchema.safeParse(json);
  if (!r.success) throw new FirmataPinMapError(`${source} is not a valid Firmata pin map:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** Read and validate a pin map file (default: profiles/firmata-pins.json). */
export function loadFirmataPins(path = DEFAULT_FIRMATA_PINS_PATH): FirmataPinMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FirmataPinMapError(`cannot read the Firmata pin map ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FirmataPinMapError(`${path}: JSON syntax error: ${(e as Error).message}`);
  }
  return parseFirmataPins(json, path);
}

// ------------------------------------------------------------------ conversions

/** Full scale of the 10-bit ADC of an Uno. */
export const ADC_MAX = 1023;
/** Full scale of an 8-bit PWM duty. */
export const PWM_MAX = 255;

/**
 * Thermistor reading to °C. Wiring: +5 V — NTC — Ax — seriesOhm — GND, so
 * raw = 1023·Rs/(Rntc+Rs) rises with temperature. Rntc = Rs·(1023/raw − 1);
 * then the beta equation 1/T = 1/T0 + ln(R/R0)/B. Accuracy is that of the
 * beta model and the parts (±1 °C typical for a 1 % NTC between 10 and 45 °C),
 * resolution about 0.1 °C per count near 37 °C: good enough for a bench, not
 * a calibrated clinical sensor.
 */
export function thermistorC(raw: number, t: ThermistorSpec): number {
  const r = Math.min(ADC_MAX - 0.5, Math.max(0.5, raw));
  const rNtc = t.seriesOhm * (ADC_MAX / r - 1);
  const invT = 1 / (t.nominalC + 273.15) + Math.log(rNtc / t.nominalOhm) / t.beta;
  return 1 / invT - 273.15;
}

/** The inverse of thermistorC (for the simulated board). */
export function thermistorRaw(c: number, t: ThermistorSpec): number {
  const rNtc = t.nominalOhm * Math.exp(t.beta * (1 / (c + 273.15) - 1 / (t.nominalC + 273.15)));
  return Math.max(0, Math.min(ADC_MAX, Math.round((ADC_MAX * t.seriesOhm) / (rNtc + t.seriesOhm))));
}

/** Analog electrode sense: +5 V — refOhm — Ax — electrodes — GND. null = open circuit (raw at full scale). */
export function electrodeOhm(raw: number, refOhm: number): number | null {
  if (raw >= ADC_MAX) return null;
  return (refOhm * raw) / (ADC_MAX - raw);
}

export function electrodeRaw(ohm: number | null, refOhm: number): number {
  if (ohm === null || !Number.isFinite(ohm)) return ADC_MAX;
  return Math.max(0, Math.min(ADC_MAX, Math.round((ADC_MAX * ohm) / (ohm + refOhm))));
}
