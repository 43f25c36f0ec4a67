/**
 * Runs one session: the session actor on the shared clock, the recorder on the
 * board's events. Clock-agnostic: the caller advances a virtual clock or lets
 * real time pass, and asks isFinished().
 */
import { createActor } from 'xstate';
import type { Clock } from '../clock.js';
import { BoardTimeClock } from './board-time-clock.js';
import type { Board } from '../drivers/board.js';
import { sessionMachine, outcomeOf, type SessionActor, type SessionEvent, type SessionOutcome } from '../machines/session.machine.js';
import type { Plan } from '../protocol/index.js';
import type { RunEvent, Summary } from './events.js';
import { Recorder } from './recorder.js';

export interface SessionRunOptions {
  plan: Plan;
  board: Board;
  clock: Clock;
  /**
   * 'board' (hardware): the machines' timers run on the board's time (BoardTimeClock), so a
   * board whose clock runs slow (simavr behind real time) is not judged by the host's clock.
   * 'clock' (default): on `clock` itself, as the simulated board on the virtual clock needs.
   */
  machineTime?: 'clock' | 'board';
  onEvent?: (e: RunEvent) => void;
  profileMaxMa?: number;
  telemetryEveryMs?: number;
}

export class SessionRun {
  readonly actor: SessionActor;
  readonly recorder: Recorder;
  private endBoardMs: number | null = null;
  private outcome: SessionOutcome | null = null;

  constructor(private readonly opts: SessionRunOptions) {
    this.recorder = new Recorder(opts.plan, opts.board, { telemetryEveryMs: opts.telemetryEveryMs ?? 1000 });
    if (opts.onEvent) this.recorder.onEvent(opts.onEvent);
    this.actor = createActor(sessionMachine, {
      clock: opts.machineTime === 'board' ? new BoardTimeClock(opts.clock, opts.board) : opts.clock,
      input: { board: opts.board, reporter: this.recorder, plan: opts.plan, ...(opts.profileMaxMa !== undefined ? { profileMaxMa: opts.profileMaxMa } : {}) },
    });
    this.actor.subscribe({
      next: (snap) => {
        if (this.outcome) return;
        const o = outcomeOf(snap.value);
        if (o) {
          this.outcome = o;
          this.endBoardMs = opts.board.boardNow();
        }
      },
      error: (err) => {
        // A defect in a machine: fail safe and say so.
        opts.board.estop();
        this.recorder.hostFault('ENGINE_ERROR', opts.board.boardNow(), err instanceof Error ? err.message : String(err));
        this.outcome = 'faulted';
        this.endBoardMs = opts.board.boardNow();
      },
    });
  }

  start(): void {
    this.recorder.start();
    this.actor.start();
    this.actor.send({ type: 'START' });
  }

  send(e: SessionEvent): void {
    this.actor.send(e);
  }

  isFinished(): boolean {
    return this.outcome !== null;
  }

  get state(): string {
    return JSON.stringify(this.actor.getSnapshot().value);
  }

  summary(): Summary {
    const ctx = this.actor.getSnapshot().context;
    const end = this.endBoardMs ?? this.opts.board.boardNow();
    return this.recorder.summary(this.outcome ?? 'stopped', end, this.opts.board.counters(), ctx.stopReason);
  }

  stop(): void {
    this.actor.stop();
  }
}
