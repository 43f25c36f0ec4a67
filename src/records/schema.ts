/**
 * The records database's tables (schema version 2) and the in-place migration
 * from version 1. A migration only adds: no row is rewritten except to mark
 * sessions from the simulated board as simulated.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 2;

const SESSIONS_V1 = `
CREATE TABLE sessions (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  protocol_id      TEXT NOT NULL,
  protocol_name    TEXT NOT NULL,
  protocol_hash    TEXT NOT NULL,
  protocol_json    TEXT NOT NULL,
  plan_json        TEXT NOT NULL,
  planned_ms       INTEGER NOT NULL,
  board_spec       TEXT NOT NULL,
  board_json       TEXT,
  started_at       TEXT NOT NULL,
  ended_at         TEXT,
  last_write_at    TEXT NOT NULL,
  outcome          TEXT NOT NULL DEFAULT 'running'
                   CHECK (outcome IN ('running', 'completed', 'stopped', 'faulted', 'interrupted')),
  stop_reason      TEXT,
  elapsed_ms       INTEGER,
  delivered_so_far TEXT NOT NULL DEFAULT '[]',
  delivered_as_of_ms INTEGER,
  summary_json     TEXT,
  host             TEXT NOT NULL,
  pid              INTEGER NOT NULL,
  proc_start       TEXT
);
CREATE INDEX sessions_running ON sessions (outcome) WHERE outcome = 'running';
CREATE TABLE events (
  session_id INTEGER NOT NULL REFERENCES sessions (id),
  seq        INTEGER NOT NULL,
  t          INTEGER,
  board_ms   REAL,
  wall_ms    INTEGER NOT NULL,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
`;

/** Version 2: who, where, why, and how the session ran. */
const V1_TO_V2 = `
ALTER TABLE sessions ADD COLUMN patient TEXT;
ALTER TABLE sessions ADD COLUMN clinician TEXT;
ALTER TABLE sessions ADD COLUMN site TEXT;
ALTER TABLE sessions ADD COLUMN notes TEXT;
ALTER TABLE sessions ADD COLUMN context_json TEXT;
ALTER TABLE sessions ADD COLUMN board_kind TEXT;
ALTER TABLE sessions ADD COLUMN firmware TEXT;
ALTER TABLE sessions ADD COLUMN speed REAL;
ALTER TABLE sessions ADD COLUMN injected_faults TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sessions ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_patient ON sessions (patient);
UPDATE sessions SET
  board_kind = json_extract(board_json, '$.kind'),
  firmware = json_extract(board_json, '$.firmware')
  WHERE board_json IS NOT NULL AND json_valid(board_json);
UPDATE sessions SET simulated = 1 WHERE board_spec = 'sim' OR board_kind = 'simulated';
`;

/** A new database: version 1's tables, then every migration (one path, so a new and a migrated database are the same). */
export function createSchema(db: Database.Database): void {
  db.exec(SESSIONS_V1);
  migrate(db, 1);
}

/** Bring a database at `from` up to SCHEMA_VERSION (call inside a transaction). */
export function migrate(db: Database.Database, from: number): void {
  if (from < 2) db.exec(V1_TO_V2);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}
