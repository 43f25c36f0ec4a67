/**
 * The cart's board, owned for the life of the process, opened through the
 * board registry: the simulated board on a virtual clock paced against the
 * wall clock (`--speed`), or a real board over serial / Firmata on the real
 * clock. Sessions come and go on it.
 */
import { paceVirtualClock, VirtualClock, type Clock } from '../clock.js';
import type { Board, Telemetry } from '../drivers/board.js';
import type { FaultSpec } from '../drivers/fault-spec.js';
import { boardSpecText, clockFor, openBoard, type BoardSpec, type OpenedBoard, type SimulatedBoardControls } from '../drivers/registry.js';

export type { BoardSpec } from '../drivers/registry.js';

export interface BoardHostOptions {
  speed: number;
  seed?: number;
  pins?: string;
  onWarning?: (message: string) => void;
  /** The simulated board's clock stopped on an error: outputs are off (the board is simulated); the process should end. */
  onFatal?: (message: string) => void;
}

export class BoardHost {
  private closed = false;
  private pacing: Promise<void> | null = null;
  /** The board's latest telemetry, whether or not a session runs. */
  telemetry: Telemetry | null = null;
  private telemetryListeners = new Set<(t: Telemetry) => void>();
  readonly board: Board;
  readonly clock: Clock;
  /** The simulated board's controls (fault injection); null for hardware. */
  readonly sim: SimulatedBoardControls | null;

  private constructor(
    readonly spec: BoardSpec,
    opened: OpenedBoard,
    readonly speed: number,
  ) {
    this.board = opened.board;
    this.clock = opened.clock;
    this.sim = opened.sim;
    this.board.subscribe((e) => {
      if (e.type !== 'telemetry') return;
      this.telemetry = e.telemetry;
      for (const l of this.telemetryListeners) l(e.telemetry);
    });
  }

  get specText(): string {
    return boardSpecText(this.spec);
  }

  static async open(spec: BoardSpec, o: BoardHostOptions): Promise<BoardHost> {
    const clock = clockFor(spec);
    const opened = await openBoard(spec, clock, { seed: o.seed ?? 1, ...(o.pins ? { pins: o.pins } : {}) });
    if (opened.warning) o.onWarning?.(opened.warning);
    if (!(clock instanceof VirtualClock)) return new BoardHost(spec, opened, 1);
    const host = new BoardHost(spec, opened, o.speed);
    host.pacing = paceVirtualClock(clock, o.speed, () => host.closed).catch((e: unknown) => {
      host.closed = true;
      o.onFatal?.(e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e));
    });
    return host;
  }

  onTelemetry(l: (t: Telemetry) => void): () => void {
    this.telemetryListeners.add(l);
    return () => this.telemetryListeners.delete(l);
  }

  /** Run fn after `ms` of board-clock time (virtual on the simulated board). */
  after(ms: number, fn: () => void): void {
    this.clock.setTimeout(fn, ms);
  }

  /** Simulated board only: inject a fault now (timed from now). */
  inject(fault: FaultSpec): void {
    if (!this.sim) throw new Error('faults can be injected only into the simulated board');
    this.sim.inject(fault);
  }

  /** Simulated board only: end an injected lead-off or coupling loss now. */
  restore(what: 'contact:1' | 'contact:2' | 'coupling'): void {
    if (!this.sim) throw new Error('only the simulated board can be told so');
    this.sim.restore(what);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.board.off('all', null);
    if (this.sim) {
      // Let the OFF reach the simulated board before the clock stops.
      await new Promise<void>((r) => this.clock.setTimeout(() => r(), 200));
    }
    // The board's close says BYE (the board ends the session with no fault latched) and
    // waits for its answer: on the simulated board, while its clock is still paced (so not
    // through OpenedBoard.close, which runs the virtual clock itself).
    await this.board.close();
    this.closed = true;
    await this.pacing;
    this.sim?.stop();
  }
}
