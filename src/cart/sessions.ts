/**
 * The cart's session: one at a time, on the board the cart owns, run by the
 * same engine as `modality run` (SessionRun), written to the treatment records
 * as it happens. Pages come and go (reload, a second screen); the session does
 * not notice. Every page gets a snapshot on connect and then the live events.
 */
import type { Telemetry } from '../drivers/board.js';
import { DeliveredTracker } from '../engine/delivered.js';
import type { RunEvent, Summary } from '../engine/events.js';
import { SessionRun } from '../engine/session-runner.js';
import type { SessionEvent } from '../machines/session.machine.js';
import type { Plan } from '../protocol/index.js';
import type { SessionContext } from '../records/context.js';
import type { RecordStore } from '../records/store.js';
import type { SessionWriter } from '../records/writer.js';
import type { BoardHost } from './board-host.js';
import { remaining, type Progress } from './progress.js';

export type CartAction =
  | { action: 'pause' }
  | { action: 'resume' }
  | { action: 'continue' }
  | { action: 'stop' }
  | { action: 'emergency-stop' }
  | { action: 'acknowledge' }
  | { action: 'adjust'; deltaMa: number; channel?: number | undefined };

/** A request the cart refuses, with the reason in words (HTTP 409). */
export class CartConflict extends Error {}

export interface SessionSnapshot {
  recordId: number | null;
  status: 'running' | 'ended';
  plan: Plan;
  context: SessionContext;
  startedAt: string;
  /** The session's events so far, without telemetry (the latest is in `telemetry`). */
  events: RunEvent[];
  telemetry: Extract<RunEvent, { type: 'telemetry' }> | null;
  progress: Progress | null;
  summary: Summary | null;
  paused: boolean;
  simulated: boolean;
  /** Fault events (in order) the clinician has acknowledged: the banner shows the ones after. */
  ackedFaults: number;
}

export interface CartSnapshot {
  type: 'snapshot';
  board: { spec: string; info: BoardHost['board']['info']; telemetry: Telemetry | null; latched: string[] };
  speed: number | null;
  /** Wall-clock ms now, so a page can convert session time to local clock times. */
  serverNow: number;
  session: SessionSnapshot | null;
}

export type CartMessage = RunEvent | CartSnapshot | Progress | { type: 'board'; telemetry: Telemetry; latched: string[] };

interface Active {
  run: SessionRun;
  writer: SessionWriter;
  tracker: DeliveredTracker;
  snap: SessionSnapshot;
}

export class CartSessions {
  private active: Active | null = null;
  private readonly listeners = new Set<(m: CartMessage) => void>();
  private lastBoardBroadcast = 0;

  constructor(
    private readonly host: BoardHost,
    private readonly store: RecordStore,
    private readonly opts: { profileMaxMa?: number; injectedFaults?: () => string[]; onWriteError?: (m: string) => void } = {},
  ) {
    // When no session runs, pages still see the board (latched faults, pad temperature) twice a second.
    host.onTelemetry((t) => {
      if (this.active?.snap.status === 'running') return;
      const now = performance.now();
      if (now - this.lastBoardBroadcast < 500) return;
      this.lastBoardBroadcast = now;
      this.emit({ type: 'board', telemetry: t, latched: [...t.faults] });
    });
  }

  subscribe(l: (m: CartMessage) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(m: CartMessage): void {
    for (const l of this.listeners) l(m);
  }

  get running(): boolean {
    return this.active?.snap.status === 'running';
  }

  snapshot(): CartSnapshot {
    const b = this.host.board;
    return {
      type: 'snapshot',
      board: { spec: this.host.specText, info: b.info, telemetry: this.host.telemetry, latched: [...b.latchedFaults()] },
      speed: Number.isFinite(this.host.speed) ? this.host.speed : null,
      serverNow: Date.now(),
      session: this.active ? this.active.snap : null,
    };
  }

  /** Start a session; throws CartConflict when one is running. Returns the record id. */
  start(plan: Plan, context: SessionContext): number | null {
    if (this.running) throw new CartConflict('a session is running: stop it before starting another');
    this.active?.run.recorder.detach();
    const host = this.host;
    const injected = this.opts.injectedFaults?.() ?? [];
    const writer = this.store.begin(plan, host.specText, {
      context,
      run: { speed: host.speed, injectedFaults: injected },
      ...(this.opts.onWriteError ? { onError: this.opts.onWriteError } : {}),
    });
    const tracker = new DeliveredTracker(plan);
    const snap: SessionSnapshot = {
      recordId: null,
      status: 'running',
      plan,
      context,
      startedAt: new Date().toISOString(),
      events: [],
      telemetry: null,
      progress: null,
      summary: null,
      paused: false,
      ackedFaults: 0,
      simulated: host.spec.kind === 'sim' || host.speed !== 1 || injected.length > 0,
    };
    const run = new SessionRun({
      plan,
      board: host.board,
      clock: host.clock,
      machineTime: host.spec.kind === 'sim' ? 'clock' : 'board',
      ...(this.opts.profileMaxMa !== undefined ? { profileMaxMa: this.opts.profileMaxMa } : {}),
      onEvent: (e) => {
        if (this.active?.run !== run) return;
        writer.event(e);
        tracker.add(e);
        if (e.type === 'telemetry') snap.telemetry = e;
        else snap.events.push(e);
        if (e.type === 'action' && (e.kind === 'pause' || e.kind === 'resume')) snap.paused = e.kind === 'pause';
        this.emit(e);
        if (e.type === 'telemetry' || e.type === 'phase') {
          snap.progress = remaining(plan, tracker, snap.events, snap.paused);
          this.emit(snap.progress);
        }
      },
    });
    this.active = { run, writer, tracker, snap };
    run.start();
    if (host.board.info.timing === 'host') run.recorder.note('reduced-guarantees', host.board.boardNow(), { timing: 'host', note: 'Firmata bench board' });
    snap.recordId = writer.id;
    this.emit(this.snapshot());
    this.watch(this.active);
    return writer.id;
  }

  /** Poll for the end (the session actor settles on its own clock), then collect the board's last reports and write the record. */
  private watch(a: Active): void {
    const timer = setInterval(() => {
      if (!a.run.isFinished()) return;
      clearInterval(timer);
      this.host.after(1000, () => this.finish(a));
    }, 20);
  }

  private finish(a: Active): void {
    const summary = a.run.summary();
    a.run.stop();
    a.writer.finish(summary);
    a.snap.summary = summary;
    a.snap.status = 'ended';
    a.snap.paused = false;
    this.emit(summary);
    this.emit(this.snapshot());
  }

  /** A fault injected into the simulated board goes on record with the session it happened in. */
  noteInjected(spec: string): void {
    if (this.running) this.active!.run.recorder.note('injected-fault', this.host.board.boardNow(), { fault: spec });
  }

  /** A clinician's action. Acknowledge with no session running clears what the board latched (after the cause is gone). */
  act(a: CartAction): void {
    const run = this.running ? this.active!.run : null;
    if (a.action === 'acknowledge' && this.active) {
      const snap = this.active.snap;
      snap.ackedFaults = snap.events.filter((e) => e.type === 'fault').length;
      queueMicrotask(() => this.emit(this.snapshot()));
    }
    if (!run) {
      if (a.action === 'acknowledge' || a.action === 'emergency-stop') {
        if (a.action === 'acknowledge') this.host.board.clear('all');
        else this.host.board.estop();
        return;
      }
      throw new CartConflict('no session is running');
    }
    const events: Record<Exclude<CartAction['action'], 'adjust'>, SessionEvent> = {
      pause: { type: 'PAUSE' },
      resume: { type: 'RESUME' },
      continue: { type: 'CONTINUE' },
      stop: { type: 'STOP' },
      'emergency-stop': { type: 'EMERGENCY_STOP' },
      acknowledge: { type: 'ACK_FAULT' },
    };
    if (a.action === 'adjust') run.send({ type: 'ADJUST_INTENSITY', deltaMa: a.deltaMa, ...(a.channel !== undefined ? { channel: a.channel } : {}) });
    else run.send(events[a.action]);
  }

  /** The process is ending: stop a running session (ramps down) and wait for its record. */
  async shutdown(): Promise<void> {
    const a = this.active;
    if (a?.snap.status !== 'running') return;
    a.run.send({ type: 'STOP' });
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (a.snap.status === 'ended') {
          clearInterval(t);
          resolve();
        }
      }, 20);
    });
  }
}
