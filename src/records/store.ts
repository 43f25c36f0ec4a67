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
import type { Plan } from '../protocol/index.js';
import { DeliveredTracker } from '../engine/delivered.js';
import { inMemoryCopy, openReadonlyDatabase } from './readonly.js';
import { isSimulated, REAL_TIME, type ListFilter, type RunConditions, type SessionContext } from './context.js';
import { createSchema, migrate, SCHEMA_VERSION } from './schema.js';
import { procStart, processAlive } from './process.js';

/** 'MODA' in the SQLite header's application_id: marks a modality records database. */
export const APPLICATION_ID = 0x4d4f4441;
export { SCHEMA_VERSION, procStart, processAlive, type ListFilter };
export const DB_FILE = 'records.db';

export type Outcome = 'running' | 'completed' | 'stopped' | 'faulted' | 'interrupted';

/** A database that cannot be opened, read or written. The message is one line and names the file. */
export class RecordsError extends Error {
  constructor(message: string, readonly file: string) {
    super(message);
    this.name = 'RecordsError';
  }
}

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

export interface FaultRow { code: string; t: number; boardMs: number; source: 'board' | 'host'; output?: string; message?: string }

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

export interface StoredEvent { seq: number; t: number | null; boardMs: number | null; wallMs: number; type: string; event: RunEvent }

/** The whole record of one session. */
export interface SessionRecord extends SessionRow {
  protocolDefinition: Plan['protocol'];
  plan: { source: string; totalMs: number; steps: Plan['steps'] };
  summary: Summary | null;
  events: StoredEvent[];
}

function describe(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}

type Row = Record<string, unknown>;

/** The one message for a database that cannot be read (and was not touched). */
function unreadable(file: string, e: unknown): RecordsError {
  return new RecordsError(`the records database ${file} cannot be read: ${describe(e)}; it was left as it is`, file);
}

export class RecordStore {
  readonly now: () => Date;
  private readonly pid: number;
  private readonly host: string;
  private readonly isAlive: (pid: number, procStart: string | null) => boolean;
  /** Read only: running sessions whose process is gone, shown as interrupted. */
  private readonly gone = new Set<number>();

  private constructor(readonly db: Database.Database, readonly file: string, opts: StoreOptions) {
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
    if (!db) { // no database yet: read as empty, create nothing
      db = new Database(':memory:');
      createSchema(db);
      return new RecordStore(db, file, opts);
    }
    try {
      const appId = db.pragma('application_id', { simple: true }) as number;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (appId !== APPLICATION_ID) throw new RecordsError(`${file} is not a modality records database (application_id ${appId})`, file);
      if (version > SCHEMA_VERSION) throw new RecordsError(`the records database ${file} is from a newer modality (schema ${version}, this one knows ${SCHEMA_VERSION})`, file);
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
    const mark = (id: unknown) => this.db.prepare(`UPDATE sessions SET outcome = 'interrupted', ended_at = last_write_at WHERE id = ? AND outcome = 'running'`).run(id).changes;
    let n = 0;
    for (const r of running) {
      if (r['host'] !== this.host) continue;
      const pid = Number(r['pid']);
      if (pid === this.pid || this.isAlive(pid, (r['proc_start'] as string | null) ?? null)) continue;
      if (this.db.readonly) { this.gone.add(Number(r['id'])); n++; continue; }
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
    const rows = this.db.prepare(`SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
      .all({ limit, ...(filter.patient !== undefined ? { patient: filter.patient } : {}) }) as Row[];
    const faultStmt = this.db.prepare(`SELECT data FROM events WHERE session_id = ? AND type = 'fault' ORDER BY seq`);
    return rows.map((r) => this.toRow(r, faultStmt));
  }

  get(id: number): SessionRecord | null {
    const r = this.db.prepare(`SELECT * FROM sessions WHERE id = ?`).get(id) as Row | undefined;
    if (!r) return null;
    const row = this.toRow(r, this.db.prepare(`SELECT data FROM events WHERE session_id = ? AND type = 'fault' ORDER BY seq`));
    const events = (this.db.prepare(`SELECT seq, t, board_ms, wall_ms, type, data FROM events WHERE session_id = ? ORDER BY seq`).all(id) as Row[]).map((e) => ({
      seq: Number(e['seq']), t: e['t'] === null ? null : Number(e['t']), boardMs: e['board_ms'] === null ? null : Number(e['board_ms']),
      wallMs: Number(e['wall_ms']), type: String(e['type']), event: JSON.parse(String(e['data'])) as RunEvent,
    }));
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

export interface WriterOptions {
  /** Called once when a write fails; the writer keeps its buffer and tries again at the next flush. */
  onError?: (message: string) => void;
  /** Flush buffered events at least this often (wall ms). */
  maxWallMs?: number;
  /** ...and when they span this much session time, if minWallMs has passed since the last flush. */
  spanMs?: number;
  minWallMs?: number;
  maxBuffered?: number;
}

/** Events written at once, each in its own transaction: the ones a clinic must never lose. */
const IMMEDIATE = new Set(['session', 'fault', 'faultCleared', 'action', 'link']);

/**
 * Writes one session as it happens. Events are buffered and written in one
 * transaction per flush; faults, actions and link losses are written at once.
 * Each flush also updates the session row's delivered-so-far.
 */
export class SessionWriter {
  id: number | null = null;
  private readonly tracker: DeliveredTracker;
  private buffer: { t: number | null; boardMs: number | null; wallMs: number; type: string; data: string }[] = [];
  private seq = 0;
  private lastFlushWall = performance.now();
  private bufferFirstT: number | null = null;
  private failed = false;
  private finished = false;
  private readonly timer: NodeJS.Timeout;
  private readonly insertSession: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private readonly updateProgress: Database.Statement;
  private readonly finishStmt: Database.Statement;
  private readonly opts: Required<Omit<WriterOptions, 'onError'>> & Pick<WriterOptions, 'onError'>;

  private readonly context: SessionContext;
  private readonly run: RunConditions;

  constructor(private readonly store: RecordStore, private readonly plan: Plan, private readonly boardSpec: string, private readonly me: { pid: number; host: string }, opts: WriterOptions & { context?: SessionContext; run?: RunConditions }) {
    const { context, run, ...writerOpts } = opts;
    this.context = context ?? {};
    this.run = run ?? REAL_TIME;
    this.opts = { maxWallMs: 1000, spanMs: 1000, minWallMs: 100, maxBuffered: 2000, ...writerOpts };
    this.tracker = new DeliveredTracker(plan);
    const db = store.db;
    this.insertSession = db.prepare(`INSERT INTO sessions (protocol_id, protocol_name, protocol_hash, protocol_json, plan_json, planned_ms, board_spec, board_json, started_at, last_write_at, host, pid, proc_start,
        patient, clinician, site, notes, context_json, board_kind, firmware, speed, injected_faults, simulated)
      VALUES (@protocolId, @protocolName, @hash, @protocolJson, @planJson, @plannedMs, @boardSpec, @boardJson, @startedAt, @startedAt, @host, @pid, @procStart,
        @patient, @clinician, @site, @notes, @contextJson, @boardKind, @firmware, @speed, @injectedFaults, @simulated)`);
    this.insertEvent = db.prepare(`INSERT INTO events (session_id, seq, t, board_ms, wall_ms, type, data) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.updateProgress = db.prepare(`UPDATE sessions SET delivered_so_far = ?, delivered_as_of_ms = ?, elapsed_ms = ?, last_write_at = ? WHERE id = ?`);
    this.finishStmt = db.prepare(`UPDATE sessions SET outcome = ?, stop_reason = ?, ended_at = ?, last_write_at = ?, elapsed_ms = ?, delivered_so_far = ?, delivered_as_of_ms = ?, summary_json = ? WHERE id = ?`);
    this.timer = setInterval(() => { if (this.buffer.length) this.flush(); }, this.opts.maxWallMs);
    this.timer.unref();
  }

  /** Every RunEvent of the session goes here (the summary goes to finish()). */
  event(e: RunEvent): void {
    if (e.type === 'summary' || this.finished) return;
    this.tracker.add(e);
    const t = 't' in e && typeof e.t === 'number' ? e.t : null;
    const boardMs = 'boardMs' in e && typeof e.boardMs === 'number' ? e.boardMs : null;
    const wall = this.store.now();
    if (e.type === 'session' && this.id === null) this.insert(e, wall);
    this.buffer.push({ t, boardMs, wallMs: wall.getTime(), type: e.type, data: JSON.stringify(e) });
    if (this.bufferFirstT === null) this.bufferFirstT = t;
    const sinceFlush = performance.now() - this.lastFlushWall;
    if (
      IMMEDIATE.has(e.type) ||
      this.buffer.length >= this.opts.maxBuffered ||
      sinceFlush >= this.opts.maxWallMs ||
      (sinceFlush >= this.opts.minWallMs && t !== null && this.bufferFirstT !== null && t - this.bufferFirstT >= this.opts.spanMs)
    ) this.flush();
  }

  /** The session row, written when the session starts (its first event): a session killed at any moment after that is on record. */
  private insert(e: Extract<RunEvent, { type: 'session' }>, wall: Date): void {
    const { plan, me } = this;
    this.guard(() => {
      const startedAt = wall.toISOString();
      const r = this.insertSession.run({
        protocolId: plan.protocol.id, protocolName: plan.protocol.name, hash: plan.hash,
        protocolJson: JSON.stringify(plan.protocol), planJson: JSON.stringify({ source: plan.source, totalMs: plan.totalMs, steps: plan.steps }),
        plannedMs: plan.totalMs, boardSpec: this.boardSpec, boardJson: JSON.stringify(e.board), startedAt,
        host: me.host, pid: me.pid, procStart: me.pid === process.pid ? procStart(me.pid) : null,
        patient: this.context.patient ?? null, clinician: this.context.clinician ?? null, site: this.context.site ?? null, notes: this.context.notes ?? null,
        contextJson: JSON.stringify(this.context), boardKind: e.board.kind, firmware: e.board.firmware,
        speed: this.run.speed, injectedFaults: JSON.stringify(this.run.injectedFaults),
        simulated: isSimulated(this.boardSpec, e.board.kind, this.run) ? 1 : 0,
      });
      this.id = Number(r.lastInsertRowid);
    });
  }

  /** Write the buffered events and the delivered values so far, in one transaction. */
  flush(): void {
    if (this.id === null || this.finished) return;
    const id = this.id;
    const rows = this.buffer;
    this.guard(() => {
      let seq = this.seq;
      this.store.db.transaction(() => {
        for (const r of rows) this.insertEvent.run(id, seq++, r.t, r.boardMs, r.wallMs, r.type, r.data);
        this.updateProgress.run(JSON.stringify(this.tracker.snapshot()), this.tracker.asOfT, this.tracker.asOfT, this.store.now().toISOString(), id);
      })();
      this.seq = seq;
      this.buffer = [];
      this.bufferFirstT = null;
    });
    this.lastFlushWall = performance.now();
  }

  /** The session ended: write what is left, the summary and the outcome. */
  finish(summary: Summary): void {
    if (this.finished) return;
    this.flush();
    clearInterval(this.timer);
    if (this.id === null) return;
    const endedAt = this.store.now().toISOString();
    this.guard(() => {
      this.finishStmt.run(summary.outcome, summary.stopReason ?? null, endedAt, endedAt, summary.elapsedMs, JSON.stringify(summary.delivered), summary.elapsedMs, JSON.stringify(summary), this.id);
      this.finished = true;
    });
  }

  /** The run ended without a summary (an error): write what is left and mark the session interrupted. */
  interrupted(): void {
    if (this.finished) return;
    this.flush();
    clearInterval(this.timer);
    this.finished = true;
    if (this.id === null) return;
    const at = this.store.now().toISOString();
    this.guard(() => this.store.db.prepare(`UPDATE sessions SET outcome = 'interrupted', ended_at = ?, last_write_at = ? WHERE id = ? AND outcome = 'running'`).run(at, at, this.id));
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!this.failed) {
        this.failed = true;
        this.opts.onError?.(`cannot write the treatment record to ${this.store.file}: ${describe(e)}`);
      }
    }
  }
}
