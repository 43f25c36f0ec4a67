/**
 * TENS in a protocol: the program's schema, its checks, its plan and its
 * timeline (the descriptor, src/modalities/tens.ts, is the rest of it).
 */
import { z } from 'zod';
import { WIRE_QUANTITIES as WQ } from '../../drivers/wire/units.js';
import { roundTo } from '../../util/number.js';
import { secondsToMs, tensCurrentDensityMaPerCm2, tensEffectivePulseRateHz, tensRmsCurrentMa } from '../dose.js';
import { ABSOLUTE_LIMITS as L, ACKNOWLEDGEMENTS, HIGH_CURRENT_DENSITY_ACK, STANDARDS } from '../limits.js';
import { durationS, num } from './fields.js';
import type { ProgramKind } from './kit.js';

const round = (x: number, digits = 3) => roundTo(x, digits);

export const TensProgramSchema = z
  .strictObject({
    channel: z.int().meta({ description: 'TENS output channel (1-based); the device profile lists the channels the board has', minimum: 1 }),
    waveform: z.enum(['symmetric-biphasic', 'asymmetric-biphasic']).meta({
      description: 'Pulse shape. For symmetric biphasic the phase is counted twice in the RMS current.',
    }),
    rateHz: num('Pulse rate, Hz (in burst mode: the pulse rate inside a burst)', { minimum: L.tens.minRateHz, maximum: L.tens.maxRateHz }),
    pulseWidthUs: num('Phase (pulse) width, µs', { minimum: L.tens.minPulseWidthUs, maximum: L.tens.maxPulseWidthUs }),
    amplitudeMa: num('Peak current, mA (> 0)', { exclusiveMinimum: 0, maximum: L.tens.maxAmplitudeMa }),
    electrodeAreaCm2: num('Area of the smaller electrode, cm² (used for current density)', { exclusiveMinimum: 0 }),
    rampUpS: num('Ramp from 0 to amplitudeMa, seconds (≥ 0)', { minimum: 0 }),
    durationS: durationS('Treatment time at amplitude, between the ramps'),
    rampDownS: num('Ramp from amplitudeMa to 0, seconds (≥ 0)', { minimum: 0 }),
    burst: z
      .strictObject({
        burstsPerS: num('Bursts per second, Hz (> 0)', { exclusiveMinimum: 0 }),
        pulsesPerBurst: z.int().meta({ description: 'Pulses in each burst, at rateHz', minimum: 1 }),
      })
      .optional()
      .meta({ description: 'Burst mode: trains of pulsesPerBurst pulses at rateHz, burstsPerS times a second' }),
    modulation: z
      .strictObject({
        kind: z.enum(['rate', 'width', 'amplitude']),
        minPct: num('Lowest point of the sweep, percent of the set value (0 < minPct < 100)', { exclusiveMinimum: 0, exclusiveMaximum: 100 }),
        periodS: durationS('One full sweep (down and back up)'),
      })
      .optional()
      .meta({ description: 'Sweeps rate, pulse width or amplitude between minPct % and 100 % of the set value' }),
    acknowledge: z
      .array(z.enum(ACKNOWLEDGEMENTS))
      .optional()
      .meta({ description: 'Operator acknowledgements, e.g. high-current-density for more than 2 mA/cm² RMS' }),
  })
  .meta({ description: 'A TENS program on one channel: ramp up, time at amplitude, ramp down' });

export type TensProgram = z.infer<typeof TensProgramSchema>;

export type PlannedTens = TensProgram & {
  modality: 'tens';
  programIndex: number;
  rampUpMs: number;
  plateauMs: number;
  rampDownMs: number;
  /** rampUpMs + plateauMs + rampDownMs */
  durationMs: number;
  effectivePulseRateHz: number;
  rmsCurrentMa: number;
  currentDensityMaPerCm2: number;
};

/** The device profile's TENS section (src/protocol/profile.ts). */
interface TensProfile {
  channels: number[];
  maxAmplitudeMa: number;
  minRateHz?: number | undefined;
  maxRateHz?: number | undefined;
  minPulseWidthUs?: number | undefined;
  maxPulseWidthUs?: number | undefined;
}

export const tensProgram = {
  key: 'tens',
  schema: TensProgramSchema,
  check(t, at, kit, pt) {
    const { add, absolute, byProfile, max, min, positive, nonNegative, wire, wireDurations } = kit;
    const S = STANDARDS.tens;
    if (!pt) {
      add(at, { message: 'this device has no TENS outputs', ...byProfile });
      return;
    }
    if (!pt.channels.includes(t.channel))
      add([...at, 'channel'], {
        value: t.channel,
        limit: `one of ${pt.channels.join(', ')}`,
        message: `no such TENS channel on this device (channels: ${pt.channels.join(', ')})`,
        ...byProfile,
      });
    min([...at, 'rateHz'], t.rateHz, 'Hz', L.tens.minRateHz, S, pt.minRateHz);
    max([...at, 'rateHz'], t.rateHz, 'Hz', L.tens.maxRateHz, S, pt.maxRateHz);
    min([...at, 'pulseWidthUs'], t.pulseWidthUs, 'µs', L.tens.minPulseWidthUs, S, pt.minPulseWidthUs);
    max([...at, 'pulseWidthUs'], t.pulseWidthUs, 'µs', L.tens.maxPulseWidthUs, S, pt.maxPulseWidthUs);
    positive([...at, 'amplitudeMa'], t.amplitudeMa, 'mA', S);
    max([...at, 'amplitudeMa'], t.amplitudeMa, 'mA', L.tens.maxAmplitudeMa, S, pt.maxAmplitudeMa);
    positive([...at, 'electrodeAreaCm2'], t.electrodeAreaCm2, 'cm²');
    nonNegative([...at, 'rampUpS'], t.rampUpS, 's');
    positive([...at, 'durationS'], t.durationS, 's');
    nonNegative([...at, 'rampDownS'], t.rampDownS, 's');
    if (t.burst) {
      const b = t.burst;
      positive([...at, 'burst', 'burstsPerS'], b.burstsPerS, 'Hz');
      if (b.pulsesPerBurst < 1)
        add([...at, 'burst', 'pulsesPerBurst'], { value: b.pulsesPerBurst, limit: '≥ 1', message: 'must be at least 1', ...absolute() });
      if (b.burstsPerS > 0 && t.rateHz > 0 && b.pulsesPerBurst / t.rateHz > 1 / b.burstsPerS)
        add([...at, 'burst'], {
          value: b,
          layer: 'schema',
          message: `a burst of ${b.pulsesPerBurst} pulses at ${t.rateHz} Hz lasts ${round((1000 * b.pulsesPerBurst) / t.rateHz, 1)} ms, longer than the ${round(1000 / b.burstsPerS, 1)} ms between bursts`,
        });
    }
    if (t.modulation) {
      const m = t.modulation;
      if (!(m.minPct > 0 && m.minPct < 100))
        add([...at, 'modulation', 'minPct'], { value: m.minPct, limit: '0 < minPct < 100 %', message: 'must be between 0 and 100 %', layer: 'schema' });
      positive([...at, 'modulation', 'periodS'], m.periodS, 's');
      const lowest = (v: number) => (v * m.minPct) / 100;
      if (m.kind === 'rate') {
        const lo = lowest(t.rateHz);
        const limit = Math.max(L.tens.minRateHz, pt.minRateHz ?? 0);
        if (lo < limit)
          add([...at, 'modulation', 'minPct'], {
            value: m.minPct,
            limit: `≥ ${limit} Hz`,
            message: `the sweep reaches ${round(lo)} Hz, below ${limit} Hz`,
            ...(lo < L.tens.minRateHz ? absolute(S) : byProfile),
          });
      } else if (m.kind === 'width') {
        const lo = lowest(t.pulseWidthUs);
        const limit = Math.max(L.tens.minPulseWidthUs, pt.minPulseWidthUs ?? 0);
        if (lo < limit)
          add([...at, 'modulation', 'minPct'], {
            value: m.minPct,
            limit: `≥ ${limit} µs`,
            message: `the sweep reaches ${round(lo)} µs, below ${limit} µs`,
            ...(lo < L.tens.minPulseWidthUs ? absolute(S) : byProfile),
          });
      }
    }
    if (t.amplitudeMa > 0 && t.amplitudeMa <= L.tens.maxAmplitudeMa && t.rampUpS >= 0) {
      const slew = L.tens.maxSlewMaPerS;
      const minRampS = t.amplitudeMa / slew;
      if (t.rampUpS < minRampS)
        add([...at, 'rampUpS'], {
          value: t.rampUpS,
          limit: `≥ ${round(minRampS, 2)} s (${slew} mA/s slew limit)`,
          message: `a ${t.rampUpS} s ramp to ${t.amplitudeMa} mA rises faster than the ${slew} mA/s slew limit; ramp for at least ${round(minRampS, 2)} s`,
          ...absolute(S),
        });
    }
    if (t.electrodeAreaCm2 > 0 && t.amplitudeMa > 0 && t.pulseWidthUs > 0 && t.rateHz > 0) {
      const density = tensCurrentDensityMaPerCm2(t);
      const lim = L.tens.maxCurrentDensityMaPerCm2;
      const ackLim = L.tens.maxAcknowledgedDensityMaPerCm2;
      if (density > ackLim) {
        add(at, {
          value: round(density),
          limit: `≤ ${ackLim} mA/cm² RMS even when acknowledged`,
          message: `RMS current density ${round(density)} mA/cm² exceeds ${ackLim} mA/cm², the ceiling even with acknowledge: [${HIGH_CURRENT_DENSITY_ACK}]; use a larger electrode or a lower amplitude`,
          ...absolute(S),
        });
      } else if (density > lim) {
        const acked = t.acknowledge?.includes(HIGH_CURRENT_DENSITY_ACK) ?? false;
        add(at, {
          value: round(density),
          limit: `≤ ${lim} mA/cm² RMS unless acknowledged`,
          severity: acked ? 'warning' : 'error',
          message: acked
            ? `RMS current density ${round(density)} mA/cm² is above ${lim} mA/cm² (acknowledged: ${HIGH_CURRENT_DENSITY_ACK})`
            : `RMS current density ${round(density)} mA/cm² exceeds ${lim} mA/cm²; use a larger electrode, or add acknowledge: [${HIGH_CURRENT_DENSITY_ACK}]`,
          ...absolute(S),
        });
      }
    }
    wire([...at, 'rateHz'], t.rateHz, WQ.tensRateHz);
    wire([...at, 'pulseWidthUs'], t.pulseWidthUs, WQ.tensPulseWidthUs);
    wire([...at, 'amplitudeMa'], t.amplitudeMa, WQ.tensAmplitudeMa);
    wire([...at, 'electrodeAreaCm2'], t.electrodeAreaCm2, WQ.electrodeAreaCm2);
    wireDurations(at, t, ['rampUpS', 'durationS', 'rampDownS']);
    if (t.burst) {
      wire([...at, 'burst', 'burstsPerS'], t.burst.burstsPerS, WQ.burstsPerS);
      wire([...at, 'burst', 'pulsesPerBurst'], t.burst.pulsesPerBurst, WQ.pulsesPerBurst);
    }
    if (t.modulation) {
      wire([...at, 'modulation', 'minPct'], t.modulation.minPct, WQ.modMinPct);
      wire([...at, 'modulation', 'periodS'], t.modulation.periodS, WQ.modPeriodS);
    }
  },
  resource: (t) => `TENS channel ${t.channel}`,
  plan(t, programIndex): PlannedTens {
    const rampUpMs = secondsToMs(t.rampUpS);
    const plateauMs = secondsToMs(t.durationS);
    const rampDownMs = secondsToMs(t.rampDownS);
    return {
      ...t,
      modality: 'tens',
      programIndex,
      rampUpMs,
      plateauMs,
      rampDownMs,
      durationMs: rampUpMs + plateauMs + rampDownMs,
      effectivePulseRateHz: tensEffectivePulseRateHz(t),
      rmsCurrentMa: tensRmsCurrentMa(t),
      currentDensityMaPerCm2: tensCurrentDensityMaPerCm2(t),
    };
  },
  timeline(p, push) {
    push('ramp-up', p.rampUpMs, `ch${p.channel} 0 → ${p.amplitudeMa} mA`);
    push(
      'plateau',
      p.plateauMs,
      `ch${p.channel} ${p.amplitudeMa} mA, ${p.rateHz} Hz, ${p.pulseWidthUs} µs${p.burst ? `, burst ${p.burst.burstsPerS}/s × ${p.burst.pulsesPerBurst}` : ''}${p.modulation ? `, ${p.modulation.kind} modulation ${p.modulation.minPct}–100 % / ${p.modulation.periodS} s` : ''}`,
    );
    push('ramp-down', p.rampDownMs, `ch${p.channel} ${p.amplitudeMa} → 0 mA`);
  },
} satisfies ProgramKind<'tens', TensProgram, PlannedTens, TensProfile>;
