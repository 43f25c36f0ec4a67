/** Thermal: heat, cold or contrast on the pad (machine: src/machines/thermal.machine.ts). */
import type { PlannedThermal } from '../protocol/index.js';
import { ABSOLUTE_LIMITS, STANDARDS } from '../protocol/limits.js';
import { THERMAL_PLAN_NOTE } from '../protocol/thermal-estimate.js';
import { roundTo } from '../util/number.js';
import { formatMs } from '../util/time.js';
import { fmt } from '../messages/index.js';
import { HOUGHTON, WATSON } from './sources.js';
import type { ModalityDescriptor } from './types.js';

export interface DeliveredThermal {
  modality: 'thermal';
  program: number;
  hotMs: number;
  coldMs: number;
  cycles: number;
  maxC: number | null;
  minC: number | null;
  planned: { hotMs: number; coldMs: number; cycles: number };
}

const n = (x: number, digits = 2) => String(roundTo(x, digits));
const count = (list: readonly string[], name: string) => list.filter((x) => x === name).length;
const plannedMs = (p: PlannedThermal, kind: 'hot' | 'cold') => p.phases.filter((x) => x.kind === kind).reduce((s, x) => s + x.durationMs, 0);

export const thermal: ModalityDescriptor<PlannedThermal, DeliveredThermal> = {
  name: 'thermal',
  label: 'Thermal',
  standard: STANDARDS.thermal,
  limits: ABSOLUTE_LIMITS.thermal,
  output: () => 'pad',
  preCheck(p, i, where) {
    const problems: string[] = [];
    if (!i.hasPad) problems.push(`${where}: the board has no thermal pad`);
    for (const ph of p.phases)
      if (ph.targetC > i.maxPadC || ph.targetC < i.minPadC)
        problems.push(`${where}: pad target ${ph.targetC} °C is outside the board's ${i.minPadC}–${i.maxPadC} °C`);
    return problems;
  },
  telemetry(acc, pad) {
    // the pad's extremes while it holds a target (its reading: value = target °C, tempC = measured)
    if (pad.value === null || !('tempC' in pad)) return;
    acc.maxC = acc.maxC === null ? pad.tempC : Math.max(acc.maxC, pad.tempC);
    acc.minC = acc.minC === null ? pad.tempC : Math.min(acc.minC, pad.tempC);
  },
  delivered(p, acc) {
    const hot = count(acc.completedPhases, 'hot');
    const cold = count(acc.completedPhases, 'cold');
    return {
      modality: 'thermal',
      program: p.programIndex,
      hotMs: Math.round(acc.phaseMs['hot'] ?? 0),
      coldMs: Math.round(acc.phaseMs['cold'] ?? 0),
      cycles: p.mode === 'contrast' ? Math.min(hot, cold) : hot + cold,
      maxC: acc.maxC,
      minC: acc.minC,
      planned: { hotMs: plannedMs(p, 'hot'), coldMs: plannedMs(p, 'cold'), cycles: p.mode === 'contrast' ? (p.cycles ?? 0) : p.phases.length },
    };
  },
  progressMs: (d) => d.hotMs + d.coldMs,
  plannedProgressMs: (p) => p.atTargetMs,
  remainingMs: (p, phase, doneMs) => (phase === null ? p.durationMs : Math.max(0, p.durationMs - doneMs)),
  phaseLengthMs: (p, phase, number) =>
    (phase === 'hot' || phase === 'cold') && typeof number === 'number' ? (p.phases[number - 1]?.durationMs ?? null) : null,
  describe(p) {
    const ph = p.phases
      .map((x) => `${x.transitionMs ? `(~${formatMs(x.transitionMs)} to ${x.targetC} °C) ` : ''}${x.kind} ${x.targetC} °C ${formatMs(x.durationMs)}`)
      .join(' → ');
    return `Thermal ${p.mode}${p.mode === 'contrast' ? ` × ${p.cycles} cycles, starting ${p.startWith}` : ''}: ${ph}; ${formatMs(p.atTargetMs)} at target + ~${formatMs(p.transitionMs)} transitions`;
  },
  showLines(programs) {
    const atTarget = programs.reduce((n, x) => n + x.atTargetMs, 0);
    const transitions = programs.reduce((n, x) => n + x.transitionMs, 0);
    return [
      `thermal:    ${formatMs(atTarget)} at target + ~${formatMs(transitions)} estimated transitions (pad heating/cooling)`,
      `note:       ${THERMAL_PLAN_NOTE}`,
    ];
  },
  deliveredLine: (d) =>
    `Thermal: hot ${formatMs(d.hotMs)} of ${formatMs(d.planned.hotMs)}, cold ${formatMs(d.coldMs)} of ${formatMs(d.planned.coldMs)}, cycles ${d.cycles} of ${d.planned.cycles}` +
    (d.maxC !== null && d.minC !== null ? `, pad ${n(d.minC, 1)}–${n(d.maxC, 1)} °C` : ''),
  programName: () => 'Thermal',
  deliveredRows: (d) => [
    ['time hot', formatMs(d.planned.hotMs), formatMs(d.hotMs)],
    ['time cold', formatMs(d.planned.coldMs), formatMs(d.coldMs)],
    ['cycles', String(d.planned.cycles), String(d.cycles)],
    ['pad temperature (°C)', '', d.minC !== null && d.maxC !== null ? `${n(d.minC, 1)}–${n(d.maxC, 1)}` : '—'],
  ],
  summaryLine: (d) =>
    `thermal: hot ${formatMs(d.hotMs)} (planned ${formatMs(d.planned.hotMs)}), cold ${formatMs(d.coldMs)} (planned ${formatMs(d.planned.coldMs)}), ${d.cycles} cycle(s), pad ${d.minC ?? '–'}–${d.maxC ?? '–'} °C`,
  chart: {
    key: 'thermal',
    title: 'Pad temperature (dashed: target)',
    unit: '°C',
    colours: { pad: '#8c564b', padTarget: '#e377c2' },
    series: () => [
      { colour: 'pad', at: (o) => o.pad?.tempC ?? null },
      { colour: 'padTarget', dashed: true, at: (o) => o.pad?.value ?? null },
    ],
    planned: (p) => p.phases.map((ph) => ph.targetC),
    axis: { from: 'around' },
  },
  cart: {
    label: (_p, { M }) => M.modality['thermal'] ?? 'Thermal',
    planLines(p, { M, duration }) {
      const phases = p.phases
        .map((ph) => fmt(ph.kind === 'hot' ? M.detail.hot : M.detail.cold, { target: ph.targetC, time: duration(ph.durationMs) }))
        .join(' → ');
      return [fmt(M.detail.thermal, { mode: p.mode, phases })];
    },
    tilesFor: 'session',
    tile(_p, o, { M, num }) {
      const pad = o?.pad;
      return {
        kind: 'thermal',
        rows: [
          {
            label: M.session.pad,
            value: pad ? `${num(pad.tempC)} °C · ${pad.value !== null ? fmt(M.session.target, { target: pad.value }) : M.session.noTarget}` : '—',
          },
        ],
      };
    },
  },
  checklist: {
    items: [
      { id: 'thermal-sensation', modality: 'thermal', kind: 'contraindication', source: `${HOUGHTON} (thermal agents, impaired sensation); ${WATSON}` },
      { id: 'thermal-circulation', modality: 'thermal', kind: 'contraindication', source: `${HOUGHTON} (thermal agents, impaired circulation)` },
      { id: 'thermal-wounds', modality: 'thermal', kind: 'precaution', source: `${HOUGHTON} (thermal agents, open wounds, fragile skin)` },
      { id: 'thermal-communication', modality: 'thermal', kind: 'precaution', source: `${HOUGHTON} (thermal agents, impaired cognition or communication)` },
      { id: 'heat-acute', modality: 'heat', kind: 'contraindication', source: `${HOUGHTON} (superficial heat, acute inflammation, haemorrhage)` },
      { id: 'cold-hypersensitivity', modality: 'cold', kind: 'contraindication', source: `${HOUGHTON} (cryotherapy, cold hypersensitivity, Raynaud's)` },
    ],
    // heat and cold each add their own items
    groups: (p) => ['thermal', ...new Set(p.phases.map((ph) => (ph.kind === 'hot' ? 'heat' : 'cold')))],
  },
};
