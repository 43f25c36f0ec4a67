/** Schema 1 → 2 in place: every row kept; new columns filled; simulations told apart from treatments. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { RecordStore, SCHEMA_VERSION } from '../../src/records/store.js';
import { modality, tmp } from './helpers.js';

/** The tables exactly as schema version 1 wrote them. */
const V1 = `
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, protocol_id TEXT NOT NULL, protocol_name TEXT NOT NULL, protocol_hash TEXT NOT NULL,
  protocol_json TEXT NOT NULL, plan_json TEXT NOT NULL, planned_ms INTEGER NOT NULL, board_spec TEXT NOT NULL, board_json TEXT,
  started_at TEXT NOT NULL, ended_at TEXT, last_write_at TEXT NOT NULL,
  outcome TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'completed', 'stopped', 'faulted', 'interrupted')),
  stop_reason TEXT, elapsed_ms INTEGER, delivered_so_far TEXT NOT NULL DEFAULT '[]', delivered_as_of_ms INTEGER, summary_json TEXT,
  host TEXT NOT NULL, pid INTEGER NOT NULL, proc_start TEXT
);
CREATE INDEX sessions_running ON sessions (outcome) WHERE outcome = 'running';
CREATE TABLE events (
  session_id INTEGER NOT NULL REFERENCES sessions (id), seq INTEGER NOT NULL, t INTEGER, board_ms REAL, wall_ms INTEGER NOT NULL,
  type TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
`;

function writeV1(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(V1);
  db.pragma('application_id = 1297040449');
  db.pragma('user_version = 1');
  const ins =
    db.prepare(`INSERT INTO sessions (protocol_id, protocol_name, protocol_hash, protocol_json, plan_json, planned_ms, board_spec, board_json, started_at, ended_at, last_write_at, outcome, elapsed_ms, host, pid)
    VALUES (?, 'TENS', 'abc', '{"id":"x","name":"TENS","indication":"pain","steps":[]}', '{"source":"x","totalMs":1000,"steps":[]}', 1000, ?, ?, '2025-01-02T08:00:00.000Z', '2025-01-02T08:20:00.000Z', '2025-01-02T08:20:00.000Z', 'completed', 1000, 'h', 1)`);
  ins.run('on-sim', 'sim', JSON.stringify({ kind: 'simulated', firmware: '1.0.0' }));
  ins.run('on-serial', 'serial:/dev/ttyACM0', JSON.stringify({ kind: 'avr', firmware: '1.2.0' }));
  ins.run('on-pty-sim', 'serial:/dev/pts/7', JSON.stringify({ kind: 'simulated', firmware: '1.0.0' }));
  const ev = db.prepare(`INSERT INTO events (session_id, seq, t, board_ms, wall_ms, type, data) VALUES (?, ?, 0, 0, 0, 'session', '{"type":"session"}')`);
  for (let id = 1; id <= 3; id++) for (let seq = 0; seq < 5; seq++) ev.run(id, seq);
  db.close();
}

describe('records database schema 1 → 2', () => {
  it('migrates in place on open, keeps every session and event, and marks simulated-board sessions as simulations', () => {
    const data = tmp();
    const file = join(data, 'records.db');
    writeV1(file);
    const store = RecordStore.open(data);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(2);
    expect((store.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n).toBe(15);
    const rows = store.list();
    expect(rows.map((r) => [r.protocol.id, r.simulated, r.context, r.speed])).toEqual([
      ['on-pty-sim', true, null, null],
      ['on-serial', false, null, null],
      ['on-sim', true, null, null],
    ]);
    expect(store.list(100, { all: false }).map((r) => r.protocol.id)).toEqual(['on-serial']);
    expect(store.db.prepare('SELECT board_kind, firmware FROM sessions WHERE id = 2').get()).toEqual({ board_kind: 'avr', firmware: '1.2.0' });
    store.close();
    // Opening again is a no-op: still version 2, still three sessions.
    const again = RecordStore.open(data);
    expect(again.list()).toHaveLength(3);
    again.close();
    // history shows treatments by default, everything with --all.
    expect(modality('history', '--data', data).out).toMatch(/^\s+2 {2}on-serial /m);
    expect(modality('history', '--data', data).out).not.toMatch(/on-sim/);
    expect(modality('history', '--all', '--data', data).out).toMatch(/on-pty-sim[\s\S]*on-serial[\s\S]*on-sim/);
  });

  it('history, report and export read a schema-1 database without migrating the file: a copy is migrated in memory', async () => {
    const { readFileSync } = await import('node:fs');
    const data = tmp();
    const file = join(data, 'records.db');
    writeV1(file);
    const before = readFileSync(file);
    expect(modality('history', '--data', data).out).toMatch(/^\s+2 {2}on-serial /m);
    expect(modality('history', '--all', '--data', data).out).toMatch(/on-pty-sim[\s\S]*on-serial[\s\S]*on-sim/);
    expect(Buffer.compare(readFileSync(file), before), 'the file is untouched').toBe(0);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
  });

  it('a run stores who, where and why; simulated runs are simulations; history filters by patient', () => {
    const data = tmp();
    const r = modality(
      'run',
      'examples/tens-10s.yaml',
      '--speed',
      'max',
      '--fault',
      'lead-off@3s+1s',
      '--data',
      data,
      '--patient',
      'P-0042',
      '--clinician',
      'A. Physio',
      '--site',
      'upper trapezius, left',
      '--notes',
      'first visit',
    );
    expect(r.code).toBe(0);
    modality('run', 'examples/tens-10s.yaml', '--speed', 'max', '--data', data, '--patient', 'P-0007');
    const rows = JSON.parse(modality('history', '--all', '--json', '--patient', 'P-0042', '--data', data).out);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      context: { patient: 'P-0042', clinician: 'A. Physio', site: 'upper trapezius, left', notes: 'first visit' },
      simulated: true,
      injectedFaults: ['lead-off@3s+1s'],
      board: { kind: 'simulated' },
    });
    expect(rows[0].speed).toBe(null); // max: Infinity, as JSON
    const plain = modality('history', '--data', data);
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(/No treatment records yet\. \(Simulations are not treatments/);
    expect(modality('history', '--all', '--data', data).out).toMatch(
      /SIMULATION \(not a treatment\) · patient P-0042 · clinician A\. Physio · site upper trapezius, left/,
    );
    expect(modality('run', 'examples/tens-10s.yaml', '--speed', 'max', '--data', data, '--patient', '').code).toBe(2);
  });
});
