/** Text for delivered values: one line per program (history, report table), from each modality's descriptor (src/modalities/). */
import type { Delivered } from '../engine/events.js';
import { modalityOfDelivered } from '../modalities/index.js';

export function deliveredLine(d: Delivered): string {
  return modalityOfDelivered(d).deliveredLine(d);
}

/** Rows of the planned-against-delivered table: [program, quantity, planned, delivered]. */
export function deliveredTable(list: Delivered[]): [string, string, string, string][] {
  return list.flatMap((d) => {
    const m = modalityOfDelivered(d);
    const name = `${d.program + 1}. ${m.programName(d)}`;
    return m.deliveredRows(d).map(([quantity, planned, delivered]): [string, string, string, string] => [name, quantity, planned, delivered]);
  });
}
