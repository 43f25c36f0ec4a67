/**
 * Export of one session record. JSON: the whole record (session row, resolved
 * protocol, plan, summary, every stored event). CSV: one row per stored event,
 * in order; the common fields get their own columns, the rest of the event is
 * in the last column as JSON.
 */
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
  usWPerCm2: 'us_w_per_cm2',
  coupled: 'coupled',
  padC: 'pad_c',
  padTargetC: 'pad_target_c',
  headC: 'head_c',
};

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
      if (k === 'tensMa' && Array.isArray(v)) {
        cells['tens1_ma'] = v[0];
        cells['tens2_ma'] = v[1];
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
