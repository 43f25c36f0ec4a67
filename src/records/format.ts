/** Text for delivered values: one line per program (history, report table). */
import type { Delivered } from '../engine/events.js';
import { formatMs } from '../util/time.js';

const n = (x: number, digits = 2) => String(Number(x.toFixed(digits)));

export function deliveredLine(d: Delivered): string {
  switch (d.modality) {
    case 'tens':
      return `TENS ch${d.channel}: at amplitude ${formatMs(d.plateauMs)} of ${formatMs(d.planned.plateauMs)}, peak ${n(d.peakMa, 1)} of ${n(d.planned.amplitudeMa, 1)} mA, stimulating ${formatMs(d.stimulationMs)}`;
    case 'ultrasound':
      return `Ultrasound: dose ${n(d.doseJPerCm2)} of ${n(d.planned.doseJPerCm2)} J/cm² (energy ${n(d.energyJ, 1)} of ${n(d.planned.energyJ, 1)} J), coupled ${formatMs(d.coupledMs)} of ${formatMs(d.planned.durationMs)}, uncoupled ${formatMs(d.uncoupledMs)}`;
    case 'thermal':
      return `Thermal: hot ${formatMs(d.hotMs)} of ${formatMs(d.planned.hotMs)}, cold ${formatMs(d.coldMs)} of ${formatMs(d.planned.coldMs)}, cycles ${d.cycles} of ${d.planned.cycles}` +
        (d.maxC !== null && d.minC !== null ? `, pad ${n(d.minC, 1)}–${n(d.maxC, 1)} °C` : '');
  }
}

/** Rows of the planned-against-delivered table: [program, quantity, planned, delivered]. */
export function deliveredTable(list: Delivered[]): [string, string, string, string][] {
  const rows: [string, string, string, string][] = [];
  for (const d of list) {
    const name = `${d.program + 1}. ${d.modality === 'tens' ? `TENS ch${d.channel}` : d.modality === 'ultrasound' ? 'Ultrasound' : 'Thermal'}`;
    if (d.modality === 'tens') {
      rows.push([name, 'time at amplitude', formatMs(d.planned.plateauMs), formatMs(d.plateauMs)]);
      rows.push([name, 'amplitude (mA)', n(d.planned.amplitudeMa, 1), n(d.peakMa, 1)]);
      rows.push([name, 'stimulating (incl. ramps)', '', formatMs(d.stimulationMs)]);
    } else if (d.modality === 'ultrasound') {
      rows.push([name, 'dose (J/cm²)', n(d.planned.doseJPerCm2), n(d.doseJPerCm2)]);
      rows.push([name, 'energy (J)', n(d.planned.energyJ, 1), n(d.energyJ, 1)]);
      rows.push([name, 'coupled time', formatMs(d.planned.durationMs), formatMs(d.coupledMs)]);
      rows.push([name, 'uncoupled time', '', formatMs(d.uncoupledMs)]);
    } else {
      rows.push([name, 'time hot', formatMs(d.planned.hotMs), formatMs(d.hotMs)]);
      rows.push([name, 'time cold', formatMs(d.planned.coldMs), formatMs(d.coldMs)]);
      rows.push([name, 'cycles', String(d.planned.cycles), String(d.cycles)]);
      rows.push([name, 'pad temperature (°C)', '', d.minC !== null && d.maxC !== null ? `${n(d.minC, 1)}–${n(d.maxC, 1)}` : '—']);
    }
  }
  return rows;
}
