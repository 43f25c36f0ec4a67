/**
 * Writes one session into the records as it happens (store.ts opens the
 * database and reads it back). Events are buffered and written in one
 * transaction per flush; faults, actions and link losses are written at once;
 * each flush also updates the session row's delivered-so-far, so a session cut
 * short is on record with what was delivered up to then.
 */
import type Database from 'better-sqlite3';
import { DeliveredTracker } from '../engine/delivered.js';
import type { RunEvent, Summary } from '../engine/events.js';
import type { Plan } from '../protocol/index.js';
import { isSimulated, REAL_TIME, type RunConditions, type SessionContext } from './context.js';
import { describe } from './errors.js';
import { procStart } from './process.js';

/** What the writer needs of the open store. */
export interface WritableStore {
  readonly db: Database.Database;
  readonly file: string;
  readonly now: () => Date;
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

  constructor(
    private readonly store: WritableStore,
    private readonly plan: Plan,
    private readonly boardSpec: string,
    private readonly me: { pid: number; host: string },
    opts: WriterOptions & { context?: SessionContext; run?: RunConditions },
  ) {
    const { context, run, ...writerOpts } = opts;
    this.context = context ?? {};
    this.run = run ?? REAL_TIME;
    this.opts = { maxWallMs: 1000, spanMs: 1000, minWallMs: 100, maxBuffered: 2000, ...writerOpts };
    this.tracker = new DeliveredTracker(plan);
    const db = store.db;
    this.insertSession =
      db.prepare(`INSERT INTO sessions (protocol_id, protocol_name, protocol_hash, protocol_json, plan_json, planned_ms, board_spec, board_json, started_at, last_write_at, host, pid, proc_start,
        patient, clinician, site, notes, context_json, board_kind, firmware, speed, injected_faults, simulated)
      VALUES (@protocolId, @protocolName, @hash, @protocolJson, @planJson, @plannedMs, @boardSpec, @boardJson, @startedAt, @startedAt, @host, @pid, @procStart,
        @patient, @clinician, @site, @notes, @contextJson, @boardKind, @firmware, @speed, @injectedFaults, @simulated)`);
    this.insertEvent = db.prepare(`INSERT INTO events (session_id, seq, t, board_ms, wall_ms, type, data) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.updateProgress = db.prepare(`UPDATE sessions SET delivered_so_far = ?, delivered_as_of_ms = ?, elapsed_ms = ?, last_write_at = ? WHERE id = ?`);
    this.finishStmt = db.prepare(
      `UPDATE sessions SET outcome = ?, stop_reason = ?, ended_at = ?, last_write_at = ?, elapsed_ms = ?, delivered_so_far = ?, delivered_as_of_ms = ?, summary_json = ? WHERE id = ?`,
    );
    this.timer = setInterval(() => {
      if (this.buffer.length) this.flush();
    }, this.opts.maxWallMs);
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
    )
      this.flush();
  }

  /** The session row, written when the session starts (its first event): a session killed at any moment after that is on record. */
  private insert(e: Extract<RunEvent, { type: 'session' }>, wall: Date): void {
    const { plan, me } = this;
    this.guard(() => {
      const startedAt = wall.toISOString();
      const r = this.insertSession.run({
        protocolId: plan.protocol.id,
        protocolName: plan.protocol.name,
        hash: plan.hash,
        protocolJson: JSON.stringify(plan.protocol),
        planJson: JSON.stringify({ source: plan.source, totalMs: plan.totalMs, steps: plan.steps }),
        plannedMs: plan.totalMs,
        boardSpec: this.boardSpec,
        boardJson: JSON.stringify(e.board),
        startedAt,
        host: me.host,
        pid: me.pid,
        procStart: me.pid === process.pid ? procStart(me.pid) : null,
        patient: this.context.patient ?? null,
        clinician: this.context.clinician ?? null,
        site: this.context.site ?? null,
        notes: this.context.notes ?? null,
        contextJson: JSON.stringify(this.context),
        boardKind: e.board.kind,
        firmware: e.board.firmware,
        speed: this.run.speed,
        injectedFaults: JSON.stringify(this.run.injectedFaults),
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
      this.finishStmt.run(
        summary.outcome,
        summary.stopReason ?? null,
        endedAt,
        endedAt,
        summary.elapsedMs,
        JSON.stringify(summary.delivered),
        summary.elapsedMs,
        JSON.stringify(summary),
        this.id,
      );
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
    this.guard(() =>
      this.store.db
        .prepare(`UPDATE sessions SET outcome = 'interrupted', ended_at = ?, last_write_at = ? WHERE id = ? AND outcome = 'running'`)
        .run(at, at, this.id),
    );
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
