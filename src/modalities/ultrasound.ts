/** Therapeutic ultrasound: a dose timer on one head (machine: src/machines/ultrasound.machine.ts). */
import type { PlannedUltrasound } from '../protocol/index.js';
import { ABSOLUTE_LIMITS, STANDARDS } from '../protocol/limits.js';
import { roundTo } from '../util/number.js';
import { formatMs } from '../util/time.js';
import { fmt } from '../messages/index.js';
import { HOUGHTON, WATSON } from './sources.js';
import type { ModalityDescriptor } from './types.js';

export interface DeliveredUltrasound {
  modality: 'ultrasound';
  program: number;
  energyJ: number;
  doseJPerCm2: number;
  coupledMs: number;
  uncoupledMs: number;
  planned: { energyJ: number; doseJPerCm2: number; durationMs: number };
}

const n = (x: number, digits = 2) => String(roundTo(x, digits));

export const ultrasound: ModalityDescriptor<PlannedUltrasound, DeliveredUltrasound> = {
  name: 'ultrasound',
  label: 'Ultrasound',
  standard: STANDARDS.ultrasound,
  limits: ABSOLUTE_LIMITS.ultrasound,
  output: () => 'ultrasound',
  preCheck(p, i, where) {
    const problems: string[] = [];
    if (!i.hasUltrasound) problems.push(`${where}: the board has no ultrasound head`);
    if (p.intensityWPerCm2 > i.maxUsWPerCm2) problems.push(`${where}: ${p.intensityWPerCm2} W/cm² is above the board's ${i.maxUsWPerCm2} W/cm²`);
    return problems;
  },
  delivered(p, acc) {
    // the intensity integrated over the time the board applied it, at the head's duty cycle, over its ERA
    const energyJ = (acc.integralMs / 1000) * (p.dutyCyclePct / 100) * p.eraCm2;
    return {
      modality: 'ultrasound',
      program: p.programIndex,
      energyJ: roundTo(energyJ, 3),
      doseJPerCm2: roundTo(energyJ / p.areaCm2, 4),
      coupledMs: Math.round(acc.onMs),
      uncoupledMs: Math.round(acc.phaseMs['uncoupled'] ?? 0),
      planned: { energyJ: roundTo(p.energyJ, 3), doseJPerCm2: roundTo(p.doseJPerCm2, 4), durationMs: p.durationMs },
    };
  },
  progressMs: (d) => d.coupledMs,
  plannedProgressMs: (p) => p.durationMs,
  remainingMs: (p, phase, doneMs) => (phase === null ? p.durationMs : Math.max(0, p.durationMs - doneMs)),
  phaseLengthMs: (p, phase) => (phase === 'sonating' ? p.durationMs : null),
  describe: (p) =>
    `Ultrasound ${p.frequencyMHz} MHz, ${p.dutyCyclePct} % duty, ${p.intensityWPerCm2} W/cm², ERA ${p.eraCm2} cm², area ${p.areaCm2} cm²` +
    `; time ${formatMs(p.durationMs)}, dose ${roundTo(p.doseJPerCm2, 2)} J/cm², energy ${roundTo(p.energyJ, 1)} J (${roundTo(p.averagePowerW, 2)} W average)`,
  deliveredLine: (d) =>
    `Ultrasound: dose ${n(d.doseJPerCm2)} of ${n(d.planned.doseJPerCm2)} J/cm² (energy ${n(d.energyJ, 1)} of ${n(d.planned.energyJ, 1)} J), coupled ${formatMs(d.coupledMs)} of ${formatMs(d.planned.durationMs)}, uncoupled ${formatMs(d.uncoupledMs)}`,
  programName: () => 'Ultrasound',
  deliveredRows: (d) => [
    ['dose (J/cm²)', n(d.planned.doseJPerCm2), n(d.doseJPerCm2)],
    ['energy (J)', n(d.planned.energyJ, 1), n(d.energyJ, 1)],
    ['coupled time', formatMs(d.planned.durationMs), formatMs(d.coupledMs)],
    ['uncoupled time', '', formatMs(d.uncoupledMs)],
  ],
  summaryLine: (d) =>
    `ultrasound: ${d.doseJPerCm2} J/cm² (planned ${d.planned.doseJPerCm2}), ${d.energyJ} J, coupled ${formatMs(d.coupledMs)}, uncoupled ${formatMs(d.uncoupledMs)}`,
  chart: {
    key: 'ultrasound',
    title: 'Ultrasound intensity (strip: coupling)',
    unit: 'W/cm²',
    colours: { ultrasound: '#9467bd', coupled: '#2ca02c', uncoupled: '#ff7f0e' },
    series: () => [{ colour: 'ultrasound', at: (o) => o.ultrasound?.value ?? null }],
    planned: (p) => [p.intensityWPerCm2],
    axis: { from: 'zero', atLeast: 0.5 },
    // the head's coupling along the panel's foot: green coupled, orange uncoupled
    strip: (o) => (o.ultrasound === undefined ? null : o.ultrasound.coupled ? 'coupled' : 'uncoupled'),
  },
  cart: {
    label: (_p, { M }) => M.modality['ultrasound'] ?? 'Ultrasound',
    planLines: (p, { M, duration, num }) => [
      fmt(M.detail.us, {
        freq: p.frequencyMHz,
        duty: p.dutyCyclePct,
        intensity: p.intensityWPerCm2,
        era: p.eraCm2,
        area: p.areaCm2,
        time: duration(p.durationMs),
      }),
      fmt(M.detail.usDose, { dose: num(p.doseJPerCm2, 2), energy: num(p.energyJ, 1), power: num(p.averagePowerW, 2) }),
    ],
    tilesFor: 'session',
    tile(_p, o, { M, num }) {
      const us = o?.ultrasound;
      return {
        kind: 'ultrasound',
        rows: [
          { label: M.session.intensity, value: us ? `${num(us.value, 2)} W/cm²` : '—' },
          { label: M.session.coupling, value: us ? (us.coupled ? M.session.coupled : M.session.uncoupled) : '—', state: us && !us.coupled ? 'bad' : 'good' },
        ],
      };
    },
  },
  checklist: {
    items: [
      { id: 'us-malignancy', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, malignancy); ${WATSON}` },
      { id: 'us-laminectomy', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, spinal cord after laminectomy)` },
      { id: 'us-dvt', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, active DVT); ${WATSON}` },
      { id: 'us-pregnancy', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, pregnant uterus)` },
      { id: 'us-implant', modality: 'ultrasound', kind: 'contraindication', source: `${HOUGHTON} (ultrasound, implants, eyes, gonads)` },
      { id: 'us-infection', modality: 'ultrasound', kind: 'precaution', source: `${HOUGHTON} (ultrasound, active infection, haemorrhage)` },
    ],
    groups: () => ['ultrasound'],
  },
};
