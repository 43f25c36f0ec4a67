/** TENS: one channel, ramp up, time at amplitude, ramp down (machine: src/machines/tens.machine.ts). */
import type { OutputTelemetry } from '../drivers/board.js';
import type { PlannedTens } from '../protocol/index.js';
import { ABSOLUTE_LIMITS, STANDARDS } from '../protocol/limits.js';
import { roundTo } from '../util/number.js';
import { formatMs } from '../util/time.js';
import { fmt } from '../messages/index.js';
import { HOUGHTON, JOHNSON } from './sources.js';
import type { ModalityDescriptor } from './types.js';

export interface DeliveredTens {
  modality: 'tens';
  program: number;
  channel: number;
  stimulationMs: number;
  plateauMs: number;
  peakMa: number;
  planned: { plateauMs: number; amplitudeMa: number };
}

const n = (x: number, digits = 2) => String(roundTo(x, digits));

export const tens: ModalityDescriptor<PlannedTens, DeliveredTens> = {
  name: 'tens',
  label: 'TENS',
  standard: STANDARDS.tens,
  limits: ABSOLUTE_LIMITS.tens,
  output: (p) => (p.channel === 2 ? 'tens2' : 'tens1'),
  preCheck(p, i, where) {
    const problems: string[] = [];
    if (p.channel > i.tensChannels) problems.push(`${where}: the board has ${i.tensChannels} TENS channel(s), the protocol uses channel ${p.channel}`);
    if (p.amplitudeMa > i.maxTensMa) problems.push(`${where}: ${p.amplitudeMa} mA is above the board's ${i.maxTensMa} mA`);
    const slewMs = (p.amplitudeMa / i.maxTensSlewMaPerS) * 1000;
    if (p.rampUpMs < slewMs)
      problems.push(`${where}: a ${p.rampUpMs / 1000} s ramp to ${p.amplitudeMa} mA is steeper than the board's ${i.maxTensSlewMaPerS} mA/s slew limit`);
    return problems;
  },
  delivered: (p, acc) => ({
    modality: 'tens',
    program: p.programIndex,
    channel: p.channel,
    stimulationMs: Math.round(acc.onMs),
    plateauMs: Math.round(acc.phaseMs['plateau'] ?? 0),
    peakMa: roundTo(acc.peak, 1),
    planned: { plateauMs: p.plateauMs, amplitudeMa: p.amplitudeMa },
  }),
  progressMs: (d) => d.plateauMs,
  plannedProgressMs: (p) => p.plateauMs,
  remainingMs(p, phase, doneMs, inPhaseMs) {
    const plateauLeft = Math.max(0, p.plateauMs - doneMs);
    if (phase === null) return p.rampUpMs + p.plateauMs + p.rampDownMs;
    if (phase === 'ramp-down') return Math.max(0, p.rampDownMs - inPhaseMs);
    if (phase === 'ramp-up') return Math.max(0, p.rampUpMs - inPhaseMs) + plateauLeft + p.rampDownMs;
    if (phase === 'plateau') return plateauLeft + p.rampDownMs;
    return p.rampUpMs + plateauLeft + p.rampDownMs; // halted: re-ramps from zero
  },
  phaseLengthMs: (p, phase) => (phase === 'plateau' ? p.plateauMs : phase === 'ramp-up' ? p.rampUpMs : phase === 'ramp-down' ? p.rampDownMs : null),
  describe: (p) =>
    `TENS ch${p.channel} ${p.waveform}, ${p.rateHz} Hz, ${p.pulseWidthUs} µs, ${p.amplitudeMa} mA` +
    (p.burst ? `, burst ${p.burst.burstsPerS}/s × ${p.burst.pulsesPerBurst} pulses (${roundTo(p.effectivePulseRateHz, 1)} pulses/s)` : '') +
    (p.modulation ? `, ${p.modulation.kind} modulation down to ${p.modulation.minPct} % every ${p.modulation.periodS} s` : '') +
    `; ramp ${formatMs(p.rampUpMs)} / at amplitude ${formatMs(p.plateauMs)} / ramp ${formatMs(p.rampDownMs)}` +
    `; ${roundTo(p.rmsCurrentMa, 2)} mA RMS over ${p.electrodeAreaCm2} cm² = ${roundTo(p.currentDensityMaPerCm2, 3)} mA/cm²`,
  deliveredLine: (d) =>
    `TENS ch${d.channel}: at amplitude ${formatMs(d.plateauMs)} of ${formatMs(d.planned.plateauMs)}, peak ${n(d.peakMa, 1)} of ${n(d.planned.amplitudeMa, 1)} mA, stimulating ${formatMs(d.stimulationMs)}`,
  programName: (d) => `TENS ch${d.channel}`,
  deliveredRows: (d) => [
    ['time at amplitude', formatMs(d.planned.plateauMs), formatMs(d.plateauMs)],
    ['amplitude (mA)', n(d.planned.amplitudeMa, 1), n(d.peakMa, 1)],
    ['stimulating (incl. ramps)', '', formatMs(d.stimulationMs)],
  ],
  summaryLine: (d) =>
    `TENS ch${d.channel}: ${formatMs(d.plateauMs)} at amplitude (planned ${formatMs(d.planned.plateauMs)}), stimulation ${formatMs(d.stimulationMs)}, peak ${d.peakMa} mA`,
  chart: {
    key: 'tens',
    title: 'TENS amplitude',
    unit: 'mA',
    colours: { tens1: '#1f77b4', tens2: '#17becf' },
    // a line per channel the plan uses (channel 1 when none says otherwise)
    series(programs) {
      const ch2 = programs.some((p) => p.channel === 2);
      const ch1 = programs.some((p) => p.channel !== 2) || !ch2;
      return [
        ...(ch1 ? [{ colour: 'tens1', at: (o: OutputTelemetry) => o.tens1?.value ?? null }] : []),
        ...(ch2 ? [{ colour: 'tens2', at: (o: OutputTelemetry) => o.tens2?.value ?? null }] : []),
      ];
    },
    planned: (p) => [p.amplitudeMa],
    axis: { from: 'zero', atLeast: 1 },
  },
  cart: {
    label: (p, { M }) => `${M.modality['tens']} ${p.channel}`,
    planLines: (p, { M, duration, num }) => [
      fmt(M.detail.tens, {
        channel: p.channel,
        waveform: p.waveform,
        rate: p.rateHz,
        width: p.pulseWidthUs,
        amplitude: p.amplitudeMa,
        up: duration(p.rampUpMs),
        plateau: duration(p.plateauMs),
        down: duration(p.rampDownMs),
      }),
      ...(p.burst ? [fmt(M.detail.tensBurst, { bursts: p.burst.burstsPerS, pulses: p.burst.pulsesPerBurst })] : []),
      fmt(M.detail.tensDensity, { density: num(p.currentDensityMaPerCm2, 3), rms: num(p.rmsCurrentMa, 2), area: p.electrodeAreaCm2 }),
    ],
    tilesFor: 'step',
    tile(p, o, { M, num }, many) {
      const ch = o?.[p.channel === 2 ? 'tens2' : 'tens1'];
      const which = many ? ` ${p.channel}` : '';
      return {
        kind: 'tens',
        rows: [
          {
            label: `${M.session.amplitude}${which}`,
            value: `${num(ch?.value ?? 0)} mA`,
            adjust: { channel: p.channel, decrease: `${M.session.decrease}${which}`, increase: `${M.session.increase}${which}` },
          },
          {
            label: M.session.contact,
            value: ch ? (ch.electrodeOhm === null ? M.session.open : M.session.good) : '—',
            state: ch?.electrodeOhm === null ? 'bad' : 'good',
          },
        ],
      };
    },
  },
  checklist: {
    items: [
      {
        id: 'tens-implant',
        modality: 'tens',
        kind: 'contraindication',
        source: `${HOUGHTON} (electrical stimulation, implanted electronic devices); ${JOHNSON}`,
      },
      { id: 'tens-anterior-neck', modality: 'tens', kind: 'contraindication', source: `${HOUGHTON} (electrical stimulation, anterior neck)` },
      { id: 'tens-pregnancy', modality: 'tens', kind: 'contraindication', source: `${HOUGHTON} (electrical stimulation, pregnant uterus); ${JOHNSON}` },
      {
        id: 'tens-epilepsy',
        modality: 'tens',
        kind: 'precaution',
        source: `${HOUGHTON} (electrical stimulation over the head or neck in epilepsy); ${JOHNSON}`,
      },
      { id: 'tens-dvt', modality: 'tens', kind: 'contraindication', source: `${HOUGHTON} (electrical stimulation, active DVT)` },
      { id: 'tens-skin', modality: 'tens', kind: 'precaution', source: `${HOUGHTON} (electrical stimulation, impaired sensation, damaged skin)` },
    ],
    groups: () => ['tens'],
  },
};
