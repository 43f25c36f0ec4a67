/** Records through the CLI, as a user runs it: one record per run, history, export, a corrupt database refused. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/records/export.js';
import { modality, tmp } from './helpers.js';

describe('treatment records from modality run', () => {
  const data = tmp();
  it('writes one record per run, and history lists them newest first with their outcomes', () => {
    const a = modality('run', 'examples/tens-10s.yaml', '--speed', 'max', '--json', '--data', data);
    expect(a.code).toBe(0);
    expect(a.err).toBe('');
    const b = modality('run', 'examples/tens-10s.yaml', '--speed', 'max', '--fault', 'stop-button@5s', '--data', data);
    expect(b.code).toBe(3);
    expect(b.out).toMatch(/Record: session 2 \(modality report 2\)/);
    const h = modality('history', '--all', '--json', '--data', data);
    expect(h.code).toBe(0);
    const rows = JSON.parse(h.out) as {
      id: number;
      outcome: string;
      protocol: { id: string; hash: string };
      board: { kind: string; firmware: string };
      delivered: { modality: string }[];
      faults: { code: string }[];
      startedAt: string;
      endedAt: string;
    }[];
    expect(rows.map((r) => [r.id, r.outcome])).toEqual([
      [2, 'stopped'],
      [1, 'completed'],
    ]);
    const summary = JSON.parse(a.out.trim().split('\n').at(-1)!);
    expect(rows[1]).toMatchObject({
      protocol: { id: 'tens-10s', hash: summary.hash },
      board: { kind: 'simulated', firmware: '0.3.1' },
      delivered: summary.delivered,
    });
    expect(rows[0]!.faults.map((f) => f.code)).toContain('STOP_INPUT');
    for (const r of rows) expect(Date.parse(r.endedAt)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
    const plain = modality('history', '--all', '--data', data);
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(/^\s+2 {2}tens-10s {2}\S+ {2}stopped/m);
    expect(plain.out).toMatch(/^\s+TENS ch1: at amplitude 0:06 of 0:06/m);
  });

  it('exports a record as JSON (the whole record) and CSV (one row per stored event)', () => {
    const j = modality('export', '1', '--format', 'json', '--data', data);
    expect(j.code).toBe(0);
    const rec = JSON.parse(j.out);
    expect(rec).toMatchObject({ format: 'modality-record', id: 1, outcome: 'completed', protocolDefinition: { id: 'tens-10s' } });
    expect(rec.events[0].event.type).toBe('session');
    const c = modality('export', '1', '--format', 'csv', '--data', data);
    expect(c.code).toBe(0);
    const lines = c.out.trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.length - 1).toBe(rec.events.length);
    const tele = lines.find((l) => l.split(',')[5] === 'telemetry')!.split(',');
    expect(tele[CSV_COLUMNS.indexOf('tens1_ma')]).toMatch(/^\d/);
    expect(modality('export', '99', '--data', data).code).toBe(2);
    expect(modality('export', '1', '--format', 'xml', '--data', data).code).toBe(2);
  });
});

describe('a corrupt or unreadable records database', () => {
  it('is refused with one line naming the file, exit 2, and left byte for byte as it was', () => {
    const data = tmp();
    const file = join(data, 'records.db');
    const garbage = Buffer.from('this is not a database\n'.repeat(400));
    writeFileSync(file, garbage);
    for (const args of [['history'], ['history', '--json'], ['report', '1'], ['export', '1'], ['run', 'examples/tens-10s.yaml', '--speed', 'max']]) {
      const r = modality(...args, '--data', data);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).toContain(file);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.out).toBe('');
      expect(readFileSync(file).equals(garbage)).toBe(true);
    }
  });

  it('is refused when the records directory cannot be created', () => {
    const data = tmp();
    writeFileSync(join(data, 'file'), 'x');
    const r = modality('history', '--data', join(data, 'file', 'sub'));
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
