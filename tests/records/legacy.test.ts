/**
 * Records written before telemetry was keyed by output (flat `tensMa`,
 * `usWPerCm2`, `padC`… fields in each stored telemetry event) still read: the
 * report draws the same chart and the export writes the same rows as for the
 * same session stored in today's shape.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutputTelemetry } from '../../src/drivers/board.js';
import { exportCsv, exportJson } from '../../src/records/export.js';
import { renderSvg } from '../../src/records/report.js';
import { DB_FILE, RecordStore } from '../../src/records/store.js';
import { modality, tmp } from './helpers.js';

const now = tmp();
const old = tmp();

/** A stored telemetry event in the flat shape records had before. */
function flatten(e: { type: 'telemetry'; t: number; boardMs: number; outputs: OutputTelemetry; stopInput: boolean; faults: string[] }) {
  const { tens1, tens2, ultrasound, pad } = e.outputs;
  return {
    type: 'telemetry',
    t: e.t,
    boardMs: e.boardMs,
    tensMa: [tens1?.value, tens2?.value],
    usWPerCm2: ultrasound?.value,
    padC: pad?.tempC,
    padTargetC: pad?.value,
    headC: ultrasound?.tempC,
    coupled: ultrasound?.coupled,
    stopInput: e.stopInput,
    electrodeOhm: [tens1?.electrodeOhm, tens2?.electrodeOhm],
    faults: e.faults,
  };
}

beforeAll(() => {
  // Every modality, and a coupling loss (the report's coupling strip changes colour).
  const r = modality('run', 'upper-back-heat-us-tens', '--speed', 'max', '--json', '--data', now, '--fault', 'coupling-loss@12m+30s');
  expect(r.code, r.err).toBe(0);
  copyFileSync(join(now, DB_FILE), join(old, DB_FILE));
  const db = new Database(join(old, DB_FILE));
  const rows = db.prepare(`SELECT session_id, seq, data FROM events WHERE type = 'telemetry'`).all() as { session_id: number; seq: number; data: string }[];
  expect(rows.length).toBeGreaterThan(100);
  const put = db.prepare(`UPDATE events SET data = ? WHERE session_id = ? AND seq = ?`);
  db.transaction(() => {
    for (const row of rows) put.run(JSON.stringify(flatten(JSON.parse(row.data))), row.session_id, row.seq);
  })();
  db.close();
}, 120_000);

describe('a record with telemetry in the old flat shape', () => {
  const read = (dir: string) => {
    const store = RecordStore.open(dir);
    try {
      const rec = store.get(1);
      if (!rec) throw new Error(`no record 1 in ${dir}`);
      return rec;
    } finally {
      store.close();
    }
  };

  it('is stored flat (the conversion happens on read, nothing is rewritten)', () => {
    const db = new Database(join(old, DB_FILE), { readonly: true });
    const one = JSON.parse((db.prepare(`SELECT data FROM events WHERE type = 'telemetry' LIMIT 1`).get() as { data: string }).data);
    db.close();
    expect(one).toHaveProperty('tensMa');
    expect(one).not.toHaveProperty('outputs');
  });

  it("reads as the same events, report and export as the record in today's shape", () => {
    const a = read(now);
    const b = read(old);
    const tele = b.events.map((e) => e.event).filter((e) => e.type === 'telemetry');
    expect(tele.length).toBeGreaterThan(100);
    expect(tele.some((e) => e.outputs.ultrasound?.coupled === false)).toBe(true);
    expect(tele.some((e) => (e.outputs.tens1?.value ?? 0) > 0)).toBe(true);
    expect(b.events).toEqual(a.events);
    expect(renderSvg(b)).toBe(renderSvg(a));
    expect(exportCsv(b)).toBe(exportCsv(a));
    expect(exportJson(b)).toBe(exportJson(a));
  });

  it('exports its readings in the telemetry columns', () => {
    const lines = exportCsv(read(old)).trim().split('\n');
    const cols = lines[0]!.split(',');
    const rows = lines.slice(1).map((l) => l.split(','));
    const tele = rows.filter((r) => r[cols.indexOf('type')] === 'telemetry');
    const col = (r: string[], name: string) => r[cols.indexOf(name)];
    expect(tele.some((r) => Number(col(r, 'tens1_ma')) > 0)).toBe(true);
    expect(tele.some((r) => Number(col(r, 'us_w_per_cm2')) > 0)).toBe(true);
    expect(tele.some((r) => col(r, 'coupled') === 'false')).toBe(true);
    expect(tele.every((r) => Number(col(r, 'pad_c')) > 0)).toBe(true);
    expect(tele.some((r) => Number(col(r, 'pad_target_c')) > 30)).toBe(true);
    expect(tele.every((r) => col(r, 'head_c') !== '')).toBe(true);
  });
});
