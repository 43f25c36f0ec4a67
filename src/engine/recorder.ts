/**
 * The session recorder: turns the machines' phase reports and the board's own
 * events into the event stream (JSON lines) and the summary. Delivered values
 * come from that same stream (src/engine/delivered.ts): what the board reported
 * it applied, on its own clock.
 */
import type { Board, BoardEvent, LinkCounters, Telemetry } from '../drivers/board.js';
import type { PhaseReport, SessionReporter } from '../machines/common.js';
import type { Plan } from '../protocol/index.js';
import { DeliveredTracker } from './delivered.js';
import type { Delivered, RunEvent, Summary } from './events.js';

export interface RecorderOptions {
  /** Telemetry lines in the event stream at most this often (board ms). */
  telemetryEveryMs?: number;
}

export class Recorder implements SessionReporter {
  startBoardMs = 0;
  private readonly account: DeliveredTracker;
  private readonly faults: Summary['faults'] = [];
  private lastTelemetryMs = -Infinity;
  private readonly listeners: ((e: RunEvent) => void)[] = [];
  private readonly telemetryEveryMs: number;
  lastTelemetry: Telemetry | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly plan: Plan,
    private readonly board: Board,
    opts: RecorderOptions = {},
  ) {
    this.telemetryEveryMs = opts.telemetryEveryMs ?? 1000;
    this.account = new DeliveredTracker(plan);
    this.unsubscribe = board.subscribe((e) => this.onBoard(e));
  }

  /** Stop listening to the board (a process that runs many sessions on one board). */
  detach(): void {
    this.unsubscribe();
  }

  onEvent(listener: (e: RunEvent) => void): void {
    this.listeners.push(listener);
  }

  private out(e: RunEvent): void {
    this.account.add(e);
    for (const l of this.listeners) l(e);
  }

  private t(boardMs: number): number {
    return Math.max(0, Math.round(boardMs - this.startBoardMs));
  }

  start(): void {
    this.startBoardMs = this.board.boardNow();
    const i = this.board.info;
    this.out({
      type: 'session',
      t: 0,
      boardMs: this.startBoardMs,
      protocol: this.plan.protocol.id,
      name: this.plan.protocol.name,
      hash: this.plan.hash,
      plannedMs: this.plan.totalMs,
      board: i,
    });
  }

  // ---------------------------------------------------------------- SessionReporter

  phase(p: PhaseReport): void {
    this.out({ type: 'phase', t: this.t(p.boardMs), boardMs: p.boardMs, program: p.programIndex, modality: p.modality, phase: p.phase, ...(p.detail ?? {}) });
  }

  note(kind: string, boardMs: number, detail?: Record<string, unknown>): void {
    this.out({ type: 'action', t: this.t(boardMs), boardMs, kind, ...(detail ?? {}) });
  }

  hostFault(code: string, boardMs: number, message: string): void {
    const f = { code, t: this.t(boardMs), boardMs, source: 'host' as const, message };
    this.faults.push(f);
    this.out({ type: 'fault', ...f });
  }

  // ---------------------------------------------------------------- board events

  private onBoard(e: BoardEvent): void {
    switch (e.type) {
      case 'applied':
        this.out({
          type: 'applied',
          t: this.t(e.boardMs),
          boardMs: e.boardMs,
          output: e.output,
          action: e.action,
          value: e.value,
          ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
          ...(e.cause ? { cause: e.cause } : {}),
        });
        return;
      case 'fault': {
        const f = { code: e.code, t: this.t(e.boardMs), boardMs: e.boardMs, source: 'board' as const, output: e.output };
        this.faults.push(f);
        this.out({ type: 'fault', ...f });
        return;
      }
      case 'faultCleared':
        this.out({ type: 'faultCleared', t: this.t(e.boardMs), boardMs: e.boardMs, output: e.output });
        return;
      case 'telemetry': {
        const tm = e.telemetry;
        this.lastTelemetry = tm;
        const line: RunEvent = {
          type: 'telemetry',
          t: this.t(tm.boardMs),
          boardMs: tm.boardMs,
          outputs: tm.outputs,
          stopInput: tm.stopInput,
          faults: tm.faults,
        };
        if (tm.boardMs - this.lastTelemetryMs >= this.telemetryEveryMs) {
          this.lastTelemetryMs = tm.boardMs;
          this.out(line);
        } else {
          this.account.add(line); // every sample counts for the pad's extremes, even when not printed
        }
        return;
      }
      case 'linkLost':
        this.out({ type: 'link', t: this.t(this.board.boardNow()), message: e.reason });
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- summary

  /** Delivered values up to the last board time heard (a program still running counts so far). */
  delivered(): Delivered[] {
    return this.account.snapshot();
  }

  summary(outcome: Summary['outcome'], endBoardMs: number, link: LinkCounters, stopReason?: string | null): Summary {
    const i = this.board.info;
    return {
      type: 'summary',
      outcome,
      protocol: this.plan.protocol.id,
      hash: this.plan.hash,
      board: { kind: i.kind, firmware: i.firmware, timing: i.timing },
      elapsedMs: this.t(endBoardMs),
      plannedMs: this.plan.totalMs,
      delivered: this.delivered(),
      faults: [...this.faults],
      link,
      ...(stopReason ? { stopReason } : {}),
    };
  }
}
