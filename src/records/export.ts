/**
 * Export of one session record. JSON: the whole record (session row, resolved
 * protocol, plan, summary, every stored event). CSV: one row per stored event,
 * in order; the common fields get their own columns, the rest of the event is
 * in the last column as JSON.
 */
import type { OutputName, OutputReading, OutputTelemetry } from '../drivers/board.js';
import type { SessionRecord } from './store.js';

export function exportJson(rec: SessionRecord): string {
  return `${JSON.stringify({ format: 'modality-record', version: 1, ...rec }, null, 2)}\n`;
}

export const CSV_COLUMNS = [
  'session_id',
  'seq',
  't_ms',
  'board_ms',
  'written_at',
  'type',
  'program',
  'modality',
  'phase',
  'output',
  'action',
  'value',
  'duration_ms',
  'code',
  'source',
  'kind',
  'tens1_ma',
  'tens2_ma',
  'us_w_per_cm2',
  'coupled',
  'pad_c',
  'pad_target_c',
  'head_c',
  'detail',
] as const;

/** Keys that have a column of their own (everything else goes to detail). */
const OWN: Record<string, string> = {
  program: 'program',
  modality: 'modality',
  phase: 'phase',
  output: 'output',
  action: 'action',
  value: 'value',
  durationMs: 'duration_ms',
  code: 'code',
  source: 'source',
  kind: 'kind',
};

/**
 * A telemetry event's output readings that have a column: [column, output,
 * field of its reading]. Other readings (the electrodes' impedance) go to
 * detail, as `{ output: { field: value } }`.
 */
const READING_COLUMNS: readonly [string, OutputName, string][] = [
  ['tens1_ma', 'tens1', 'value'],
  ['tens2_ma', 'tens2', 'value'],
  ['us_w_per_cm2', 'ultrasound', 'value'],
  ['coupled', 'ultrasound', 'coupled'],
  ['pad_c', 'pad', 'tempC'],
  ['pad_target_c', 'pad', 'value'],
  ['head_c', 'ultrasound', 'tempC'],
];

/** The columns and the rest (for detail) of a telemetry event's readings. */
function readingCells(outputs: OutputTelemetry, cells: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const rest: Record<string, Record<string, unknown>> = {};
  for (const [output, reading] of Object.entries(outputs) as [OutputName, OutputReading][]) {
    for (const [field, v] of Object.entries(reading)) {
      const col = READING_COLUMNS.find(([, o, f]) => o === output && f === field);
      if (col) cells[col[0]] = v;
      else {
        const r = rest[output] ?? {};
        r[field] = v;
        rest[output] = r;
      }
    }
  }
  return rest;
}

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function exportCsv(rec: SessionRecord): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of rec.events) {
    const cells: Record<string, unknown> = {
      session_id: rec.id,
      seq: e.seq,
      t_ms: e.t,
      board_ms: e.boardMs,
      written_at: new Date(e.wallMs).toISOString(),
      type: e.type,
    };
    const detail: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e.event)) {
      if (k === 'type' || k === 't' || k === 'boardMs') continue;
      if (k === 'outputs' && e.event.type === 'telemetry') {
        const rest = readingCells(e.event.outputs, cells);
        if (Object.keys(rest).length) detail['outputs'] = rest;
        continue;
      }
      const col = OWN[k];
      if (col) cells[col] = v;
      else detail[k] = v;
    }
    if (Object.keys(detail).length) cells['detail'] = detail;
    lines.push(CSV_COLUMNS.map((c) => csvCell(cells[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
