/**
 * The cart's board, owned for the life of the process: the simulated board on
 * a virtual clock paced against the wall clock (`--speed`), or a real board
 * over serial / Firmata on the real clock. Sessions come and go on it.
 */
import { paceVirtualClock, RealClock, type Clock, type VirtualClock } from '../clock.js';
import type { Board, Telemetry } from '../drivers/board.js';
import { SerialBoard } from '../drivers/serial-board.js';
import { openSerialTransport } from '../drivers/serial-transport.js';
import { connectSimBoard } from '../../sim/harness.js';
import { ELECTRODE_GOOD_OHM, scheduleFaults, type FaultSpec } from '../../sim/faults.js';
import type { SimBoard } from '../../sim/board.js';

export type BoardSpec = { kind: 'sim' } | { kind: 'serial'; path: string } | { kind: 'firmata'; path: string };

export interface BoardHostOptions {
  speed: number; seed?: number; pins?: string; onWarning?: (message: string) => void;
  /** The simulated board's clock stopped on an error: outputs are off (the board is simulated); the process should end. */
  onFatal?: (message: string) => void;
}

export class BoardHost {
  private closed = false;
  private pacing: Promise<void> | null = null;
  /** The board's latest telemetry, whether or not a session runs. */
  telemetry: Telemetry | null = null;
  private telemetryListeners = new Set<(t: Telemetry) => void>();

  private constructor(readonly spec: BoardSpec, readonly board: Board, readonly clock: Clock, readonly speed: number, readonly sim: SimBoard | null) {
    board.subscribe((e) => {
      if (e.type !== 'telemetry') return;
      this.telemetry = e.telemetry;
      for (const l of this.telemetryListeners) l(e.telemetry);
    });
  }

  get specText(): string {
    return this.spec.kind === 'sim' ? 'sim' : `${this.spec.kind}:${this.spec.path}`;
  }

  static async open(spec: BoardSpec, o: BoardHostOptions): Promise<BoardHost> {
    if (spec.kind === 'sim') {
      const c = await connectSimBoard({ seed: o.seed ?? 1 });
      const host = new BoardHost(spec, c.board, c.clock, o.speed, c.sim);
      host.pacing = paceVirtualClock(c.clock, o.speed, () => host.closed).catch((e: unknown) => {
        host.closed = true;
        o.onFatal?.(e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e));
      });
      return host;
    }
    const clock = new RealClock();
    if (spec.kind === 'serial') {
      const transport = await openSerialTransport(spec.path);
      return new BoardHost(spec, await SerialBoard.connect(clock, transport, { label: `serial:${spec.path}` }), clock, 1, null);
    }
    // Loaded only when asked for: johnny-five is heavy and only bench technicians need it.
    const firmata = await import('../drivers/firmata-board.js');
    o.onWarning?.(firmata.FIRMATA_BENCH_WARNING);
    return new BoardHost(spec, await firmata.FirmataBoard.connect(clock, { path: spec.path, ...(o.pins ? { pins: o.pins } : {}) }), clock, 1, null);
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
    const clock = this.clock as VirtualClock;
    const zero = clock.now();
    scheduleFaults([fault], { at: (ms, fn) => clock.setTimeout(fn, zero + ms - clock.now()), sim: this.sim });
  }

  /** Simulated board only: end an injected lead-off or coupling loss now. */
  restore(what: 'contact:1' | 'contact:2' | 'coupling'): void {
    if (!this.sim) throw new Error('only the simulated board can be told so');
    if (what === 'coupling') this.sim.setCoupled(true);
    else this.sim.setElectrodeOhm(what === 'contact:1' ? 0 : 1, ELECTRODE_GOOD_OHM);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.board.off('all', null);
    if (this.sim) {
      // Let the OFF reach the simulated board before the clock stops.
      const clock = this.clock as VirtualClock;
      await new Promise<void>((r) => clock.setTimeout(() => r(), 200));
    }
    // The board's close says BYE (the board ends the session with no fault latched) and
    // waits for its answer: on the simulated board, while its clock is still paced.
    await this.board.close();
    this.closed = true;
    await this.pacing;
    this.sim?.stopTimers();
  }
}
