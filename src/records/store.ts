/**
 * Treatment records: one SQLite database (WAL mode) per data directory,
 * `<data>/records.db`. Every `modality run` writes its session into it as the
 * session happens, so a process killed at any moment leaves a record; the next
 * process to open the database marks such a session `interrupted`.
 *
 * The database is never created over an existing file that is not a modality
 * records database, and never repaired or recreated silently: open() throws a
 * RecordsError (one line, names the file) and leaves the file as it was.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BoardInfo } from '../drivers/board.js';
import type { Delivered, RunEvent, Summary } from '../engine/events.js';
import { readStoredEvent } from './legacy.js';
import type { Plan } from '../protocol/index.js';
import { inMemoryCopy, openReadonlyDatabase } from './readonly.js';
import type { ListFilter, RunConditions, SessionContext } from './context.js';
import { describe, RecordsError, unreadable } from './errors.js';
import { createSchema, migrate, SCHEMA_VERSION } from './schema.js';
import { procStart, processAlive } from './process.js';
import { SessionWriter, type WriterOptions } from './writer.js';

/** 'MODA' in the SQLite header's application_id: marks a modality records database. */
export const APPLICATION_ID = 0x4d4f4441;
export { SCHEMA_VERSION, procStart, processAlive, type ListFilter };
export { RecordsError } from './errors.js';
export { SessionWriter, type WriterOptions } from './writer.js';
export const DB_FILE = 'records.db';

export type Outcome = 'running' | 'completed' | 'stopped' | 'faulted' | 'interrupted';

export interface StoreOptions {
  /** Wall clock for the records (start/end times, event write times). */
  now?: () => Date;
  /** This process, for the liveness check of running sessions (tests override). */
  pid?: number;
  hostname?: string;
  /** Is the process that wrote a running session still alive? (default: signal 0, and /proc start time on Linux) */
  isAlive?: (pid: number, procStart: string | null) => boolean;
  /**
   * Read only (history, report, export): the file is opened with SQLite's
   * read-only flag and nothing is written, not even a pragma, so a read-only
   * copy or mount can be read. A running session whose process is gone is
   * shown as interrupted without being marked. A missing database reads as
   * empty and is not created.
   */
  readonly?: boolean;
}

export interface FaultRow {
  code: string;
  t: number;
  boardMs: number;
  source: 'board' | 'host';
  output?: string;
  message?: string;
}

/** One session as history shows it. */
export interface SessionRow {
  id: number;
  protocol: { id: string; name: string; hash: string };
  plannedMs: number;
  boardSpec: string;
  board: BoardInfo | null;
  startedAt: string;
  endedAt: string | null;
  outcome: Outcome;
  stopReason: string | null;
  /** Session time (ms) the record reaches: the summary's elapsed time, or the last event stored. */
  elapsedMs: number | null;
  /** The summary's delivered values, or (running / interrupted) what was delivered up to deliveredAsOfMs. */
  delivered: Delivered[];
  deliveredAsOfMs: number | null;
  faults: FaultRow[];
  host: string;
  pid: number;
  /** Who, where, why (null on records from before schema 2). */
  context: SessionContext | null;
  /** Speed against real time (1 = real time; null before schema 2), injected faults; simulated: not a treatment (context.ts). */
  speed: number | null;
  injectedFaults: string[];
  simulated: boolean;
}

export interface StoredEvent {
  seq: number;
  t: number | null;
  boardMs: number | null;
  wallMs: number;
  type: string;
  event: RunEvent;
}

/** The whole record of one session. */
export interface SessionRecord extends SessionRow {
  protocolDefinition: Plan['protocol'];
  plan: { source: string; totalMs: number; steps: Plan['steps'] };
  summary: Summary | null;
  events: StoredEvent[];
}

type Row = Record<string, unknown>;

export class RecordStore {
  readonly now: () => Date;
  private readonly pid: number;
  private readonly host: string;
  private readonly isAlive: (pid: number, procStart: string | null) => boolean;
  /** Read only: running sessions whose process is gone, shown as interrupted. */
  private readonly gone = new Set<number>();

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
    opts: StoreOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.pid = opts.pid ?? process.pid;
    this.host = opts.hostname ?? osHostname();
    this.isAlive = opts.isAlive ?? processAlive;
  }

  /**
   * Open (or create) `<dataDir>/records.db`. Throws RecordsError when the
   * directory cannot be created, or the file is not a modality records
   * database / cannot be read; the file is then left untouched.
   */
  static open(dataDir: string, opts: StoreOptions = {}): RecordStore {
    const file = join(dataDir, DB_FILE);
    if (opts.readonly) return RecordStore.openReadonly(dataDir, file, opts);
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw new RecordsError(`cannot create the records directory ${dataDir}: ${describe(e)}`, file);
    }
    if (existsSync(file) && !statSync(file).isFile()) throw new RecordsError(`the records database ${file} is not a file`, file);
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new RecordsError(`cannot open the records database ${file}: ${describe(e)}`, file);
    }
    try {
      // Read the header and the schema before anything is written: a file that is
      // not a database fails here (SQLITE_NOTADB) and stays as it was.
      const appId = db.pragma('application_id', { simple: true }) as number;
      const version = db.pragma('user_version', { simple: true }) as number;
      const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_schema`).get() as { n: number };
      if (appId === 0 && version === 0 && tables.n === 0) {
        db.pragma('journal_mode = WAL');
        db.transaction(() => {
          createSchema(db);
          db.pragma(`application_id = ${APPLICATION_ID}`);
        })();
      } else if (appId !== APPLICATION_ID) {
        throw new RecordsError(`${file} is a SQLite database but not a modality records database (application_id ${appId})`, file);
      } else if (version > SCHEMA_VERSION) {
        throw new RecordsError(`the records database ${file} is from a newer modality (schema ${version}, this one knows ${SCHEMA_VERSION})`, file);
      } else {
        const mode = db.pragma('journal_mode', { simple: true });
        if (mode !== 'wal') db.pragma('journal_mode = WAL');
        // An older database is brought up to date in place, in one transaction: every row is kept.
        if (version < SCHEMA_VERSION) db.transaction(() => migrate(db, version))();
      }
      // WAL with synchronous=FULL: every committed transaction survives a power cut.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    } catch (e) {
      db.close();
      if (e instanceof RecordsError) throw e;
      throw unreadable(file, e);
    }
    const store = new RecordStore(db, file, opts);
    try {
      store.reconcile();
    } catch (e) {
      store.close();
      throw unreadable(file, e);
    }
    return store;
  }

  private static openReadonly(dataDir: string, file: string, opts: StoreOptions): RecordStore {
    let db: Database.Database | null;
    try {
      db = openReadonlyDatabase(dataDir, file);
    } catch (e) {
      throw new RecordsError(describe(e), file);
    }
    if (!db) {
      // no database yet: read as empty, create nothing
      db = new Database(':memory:');
      createSchema(db);
      return new RecordStore(db, file, opts);
    }
    try {
      const appId = db.pragma('application_id', { simple: true }) as number;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (appId !== APPLICATION_ID) throw new RecordsError(`${file} is not a modality records database (application_id ${appId})`, file);
      if (version > SCHEMA_VERSION)
        throw new RecordsError(`the records database ${file} is from a newer modality (schema ${version}, this one knows ${SCHEMA_VERSION})`, file);
      if (version < SCHEMA_VERSION) {
        // an older database, read only: migrate a copy in memory, the file stays as it is
        const copy = inMemoryCopy(db.serialize());
        db.close();
        db = copy;
        copy.transaction(() => migrate(copy, version))();
      }
    } catch (e) {
      db.close();
      if (e instanceof RecordsError) throw e;
      throw unreadable(file, e);
    }
    const store = new RecordStore(db, file, opts);
    try {
      db.pragma('busy_timeout = 5000'); // this connection only; nothing is written to the file
      store.reconcile();
    } catch (e) {
      store.close();
      if (e instanceof RecordsError) throw e;
      throw unreadable(file, e);
    }
    return store;
  }

  /**
   * Mark `interrupted` every running session whose process is gone (same host,
   * pid not alive or reused). Sessions written on another host are left as they
   * are. Returns how many sessions were marked.
   */
  reconcile(): number {
    const running = this.db.prepare(`SELECT id, pid, host, proc_start, last_write_at FROM sessions WHERE outcome = 'running'`).all() as Row[];
    const mark = (id: unknown) =>
      this.db.prepare(`UPDATE sessions SET outcome = 'interrupted', ended_at = last_write_at WHERE id = ? AND outcome = 'running'`).run(id).changes;
    let n = 0;
    for (const r of running) {
      if (r['host'] !== this.host) continue;
      const pid = Number(r['pid']);
      if (pid === this.pid || this.isAlive(pid, (r['proc_start'] as string | null) ?? null)) continue;
      if (this.db.readonly) {
        this.gone.add(Number(r['id']));
        n++;
        continue;
      }
      n += mark(r['id']);
    }
    return n;
  }

  /** Start the record of a session: returns the writer the run's events go to. */
  begin(plan: Plan, boardSpec: string, opts: WriterOptions & { context?: SessionContext; run?: RunConditions } = {}): SessionWriter {
    return new SessionWriter(this, plan, boardSpec, { pid: this.pid, host: this.host }, opts);
  }

  /** Sessions, newest first: every one (the default, as before), or as the filter says. */
  list(limit = 1_000_000, filter: ListFilter = { all: true }): SessionRow[] {
    const where = [...(filter.all ? [] : ['simulated = 0']), ...(filter.patient !== undefined ? ['patient = @patient'] : [])];
    const rows = this.db
      .prepare(`SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
      .all({ limit, ...(filter.patient !== undefined ? { patient: filter.patient } : {}) }) as Row[];
    const faultStmt = this.db.prepare(`SELECT data FROM events WHERE session_id = ? AND type = 'fault' ORDER BY seq`);
    return rows.map((r) => this.toRow(r, faultStmt));
  }

  get(id: number): SessionRecord | null {
    const r = this.db.prepare(`SELECT * FROM sessions WHERE id = ?`).get(id) as Row | undefined;
    if (!r) return null;
    const row = this.toRow(r, this.db.prepare(`SELECT data FROM events WHERE session_id = ? AND type = 'fault' ORDER BY seq`));
    const events = (this.db.prepare(`SELECT seq, t, board_ms, wall_ms, type, data FROM events WHERE session_id = ? ORDER BY seq`).all(id) as Row[]).map(
      (e) => ({
        seq: Number(e['seq']),
        t: e['t'] === null ? null : Number(e['t']),
        boardMs: e['board_ms'] === null ? null : Number(e['board_ms']),
        wallMs: Number(e['wall_ms']),
        type: String(e['type']),
        event: readStoredEvent(JSON.parse(String(e['data']))),
      }),
    );
    const plan = JSON.parse(String(r['plan_json'])) as SessionRecord['plan'];
    return {
      ...row,
      protocolDefinition: JSON.parse(String(r['protocol_json'])) as Plan['protocol'],
      plan,
      summary: r['summary_json'] ? (JSON.parse(String(r['summary_json'])) as Summary) : null,
      events,
    };
  }

  private toRow(r: Row, faultStmt: Database.Statement): SessionRow {
    if (this.gone.has(Number(r['id']))) r = { ...r, outcome: 'interrupted', ended_at: r['last_write_at'] };
    const summary = r['summary_json'] ? (JSON.parse(String(r['summary_json'])) as Summary) : null;
    const faults: FaultRow[] = summary
      ? summary.faults
      : (faultStmt.all(r['id']) as { data: string }[]).map((f) => {
          const { type: _t, ...rest } = JSON.parse(f.data) as Extract<RunEvent, { type: 'fault' }>;
          return rest;
        });
    return {
      id: Number(r['id']),
      protocol: { id: String(r['protocol_id']), name: String(r['protocol_name']), hash: String(r['protocol_hash']) },
      plannedMs: Number(r['planned_ms']),
      boardSpec: String(r['board_spec']),
      board: r['board_json'] ? JSON.parse(String(r['board_json'])) : null,
      startedAt: String(r['started_at']),
      endedAt: (r['ended_at'] as string | null) ?? null,
      outcome: r['outcome'] as Outcome,
      stopReason: (r['stop_reason'] as string | null) ?? null,
      elapsedMs: r['elapsed_ms'] === null ? null : Number(r['elapsed_ms']),
      delivered: JSON.parse(String(r['delivered_so_far'])) as Delivered[],
      deliveredAsOfMs: r['delivered_as_of_ms'] === null ? null : Number(r['delivered_as_of_ms']),
      faults,
      host: String(r['host']),
      pid: Number(r['pid']),
      context: r['context_json'] ? (JSON.parse(String(r['context_json'])) as SessionContext) : null,
      speed: r['speed'] == null ? null : Number(r['speed']),
      injectedFaults: JSON.parse(String(r['injected_faults'] ?? '[]')) as string[],
      simulated: Number(r['simulated']) === 1,
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
