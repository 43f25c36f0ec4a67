/**
 * Every clinical quantity that reaches the wire, with its field and its scale:
 * the one table the driver scales with (`toWire`) and the protocol validator
 * checks against (`wireProblem`), so what `modality validate` accepts is what
 * the wire carries exactly.
 *
 * wire value = clinical value × scale, an integer in the field's range.
 */
import type { FieldType } from './spec.js';

export interface WireQuantity {
  /** Where it goes on the wire (for messages): MESSAGE.field. */
  readonly wire: string;
  readonly type: Exclude<FieldType, 'i16'>;
  /** Wire units per clinical unit. */
  readonly scale: number;
  /** The clinical unit ('' for a count). */
  readonly unit: string;
}

export const WIRE_QUANTITIES = {
  tensAmplitudeMa: { wire: 'SET/RAMP value', type: 'u16', scale: 10, unit: 'mA' },
  usIntensityWPerCm2: { wire: 'SET value', type: 'u16', scale: 100, unit: 'W/cm²' },
  padTargetC: { wire: 'SET value', type: 'u16', scale: 10, unit: '°C' },
  tensRateHz: { wire: 'CONFIG_TENS.rateHz', type: 'u16', scale: 1, unit: 'Hz' },
  tensPulseWidthUs: { wire: 'CONFIG_TENS.pulseWidthUs', type: 'u16', scale: 1, unit: 'µs' },
  electrodeAreaCm2: { wire: 'CONFIG_TENS.electrodeAreaCm2x10', type: 'u16', scale: 10, unit: 'cm²' },
  burstsPerS: { wire: 'CONFIG_TENS.burstsPerS', type: 'u8', scale: 1, unit: 'Hz' },
  pulsesPerBurst: { wire: 'CONFIG_TENS.pulsesPerBurst', type: 'u8', scale: 1, unit: '' },
  modMinPct: { wire: 'CONFIG_TENS.modMinPct', type: 'u8', scale: 1, unit: '%' },
  modPeriodS: { wire: 'CONFIG_TENS.modPeriodDs', type: 'u16', scale: 10, unit: 's' },
  usFrequencyMHz: { wire: 'CONFIG_US.frequencyMHz', type: 'u8', scale: 1, unit: 'MHz' },
  usDutyCyclePct: { wire: 'CONFIG_US.dutyCyclePct', type: 'u8', scale: 1, unit: '%' },
  eraCm2: { wire: 'CONFIG_US.eraCm2x10', type: 'u16', scale: 10, unit: 'cm²' },
  /** Phase and ramp lengths: board milliseconds (SET/RAMP/OFF atMs, RAMP durationMs). */
  durationS: { wire: 'board milliseconds (atMs, RAMP durationMs)', type: 'u32', scale: 1000, unit: 's' },
} as const satisfies Record<string, WireQuantity>;

export type WireQuantityName = keyof typeof WIRE_QUANTITIES;

const MAX: Record<WireQuantity['type'], number> = { u8: 0xff, u16: 0xffff, u32: 0xffffffff };

/** The largest wire value of a quantity's field. */
export function wireMax(q: WireQuantity): number {
  return MAX[q.type];
}

/** The step of a quantity in its clinical unit, e.g. "0.1 mA", "1 Hz", "0.001 s", "1". */
export function resolution(q: WireQuantity): string {
  const step = Number((1 / q.scale).toPrecision(6));
  return q.unit ? `${step} ${q.unit}` : `${step}`;
}

/** Clinical value → wire integer (rounded to the nearest step; callers with checked values lose nothing). */
export function toWire(q: WireQuantity, value: number): number {
  return Math.round(value * q.scale);
}

/** Wire integer → clinical value. */
export function fromWire(q: WireQuantity, wire: number): number {
  return wire / q.scale;
}

/** True when value × scale is an integer (up to floating-point noise: 2.675 × 100 is 267.49999999999997). */
export function isExact(q: WireQuantity, value: number): boolean {
  const w = value * q.scale;
  return Number.isFinite(w) && Math.abs(w - Math.round(w)) <= 1e-9 * Math.max(1, Math.abs(w));
}

export interface WireProblem {
  kind: 'resolution' | 'range';
  message: string;
  /** e.g. "a multiple of 0.1 mA" or "≤ 25.5 Hz". */
  limit: string;
}

/**
 * Why the wire cannot carry this value exactly, or null when it can. Negative
 * values and zero are left to the limit checks (every quantity here has one).
 */
export function wireProblem(q: WireQuantity, value: number): WireProblem | null {
  if (!Number.isFinite(value) || value < 0) return null;
  const res = resolution(q);
  const u = q.unit ? ` ${q.unit}` : '';
  const field = `${q.type}${q.scale === 1 ? '' : `, ×${q.scale}`}`;
  if (!isExact(q, value)) {
    const lo = Math.floor(value * q.scale) / q.scale;
    const hi = Math.ceil(value * q.scale) / q.scale;
    const use = lo > 0 ? `${fmt(lo)}${u} or ${fmt(hi)}${u}` : `${fmt(hi)}${u}`;
    return {
      kind: 'resolution',
      limit: `a multiple of ${res}`,
      message: `not a multiple of ${res}, the resolution of ${q.wire} on the wire (${field}); use ${use}`,
    };
  }
  const max = MAX[q.type] / q.scale;
  if (value * q.scale > MAX[q.type] + 1e-9) {
    return { kind: 'range', limit: `≤ ${fmt(max)}${u}`, message: `exceeds ${fmt(max)}${u}, the most ${q.wire} carries on the wire (${field})` };
  }
  return null;
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(12)));
}
