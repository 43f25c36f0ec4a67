/**
 * A whole session on the simulated board, in process: virtual clock, the
 * in-process serial line, the simulated board, and the real serial driver
 * between them (the engine never takes a shortcut to the board), run by the
 * engine's runSession. Used by the tests and the benchmarks; `modality run
 * --board sim` does the same through the board registry.
 */
import { VirtualClock } from '../src/clock.js';
import type { RunEvent, Summary } from '../src/engine/events.js';
import { runSession } from '../src/engine/run-session.js';
import type { SessionRun } from '../src/engine/session-runner.js';
import type { Message } from '../src/drivers/wire/messages.js';
import type { Plan } from '../src/protocol/index.js';
import type { SimBoard, SimBoardOptions } from './board.js';
import { closeOnClock, connectSimBoard as connect, type SimConnection } from './connect.js';
import { scheduleFaults, type FaultSpec } from './faults.js';

export { closeOnClock, type SimConnection } from './connect.js';

export interface SimulateOptions {
  plan: Plan;
  faults?: FaultSpec[];
  seed?: number;
  /** Virtual-clock speed against the wall clock; Infinity runs as fast as possible. */
  speed?: number;
  onEvent?: (e: RunEvent) => void;
  profileMaxMa?: number;
  board?: SimBoardOptions;
  /** After the session ends, keep the clock running this long to collect the board's last reports. */
  drainMs?: number;
  /** Keep the clock running until this long after the start, even after the session ends (tests of what follows a fault). */
  holdMs?: number;
  /** Called once the session has started (tests use it to schedule clinician events on the clock). */
  onStart?: (ctx: { run: SessionRun; clock: VirtualClock; sim: SimBoard }) => void;
  trace?: (dir: 'out' | 'in', msg: Message | null, bytes: Uint8Array, hostMs: number) => void;
  /** Telemetry lines at most this often in the event stream. */
  telemetryEveryMs?: number;
  /** Checked between slices at a finite speed: lets a live display redraw and keys get through. */
  onTick?: () => void;
}

export interface SimulateResult {
  summary: Summary;
  sim: SimBoard;
  run: SessionRun;
  clock: VirtualClock;
  wireBytes: number;
}

/** The simulated board on an in-process line, on a new virtual clock, with the real serial driver connected to it. */
export function connectSimBoard(opts: Pick<SimulateOptions, 'faults' | 'seed' | 'board' | 'trace'> = {}): Promise<SimConnection> {
  return connect(new VirtualClock(), opts);
}

export async function simulateSession(opts: SimulateOptions): Promise<SimulateResult> {
  const { clock, sim, board, link, line } = await connectSimBoard(opts);
  const { summary, run } = await runSession({
    plan: opts.plan,
    board,
    clock,
    speed: opts.speed,
    onEvent: opts.onEvent,
    profileMaxMa: opts.profileMaxMa,
    telemetryEveryMs: opts.telemetryEveryMs,
    onTick: opts.onTick,
    drainMs: opts.drainMs,
    holdMs: opts.holdMs,
    atZero: () => {
      const start = clock.now();
      scheduleFaults(opts.faults ?? [], { at: (ms, fn) => clock.setTimeout(fn, start + ms - clock.now()), sim, line, zeroMs: start });
    },
    onStart: (run) => opts.onStart?.({ run, clock, sim }),
  });
  await closeOnClock(clock, board); // BYE, answered while the board still runs
  sim.stopTimers();
  return { summary, sim, run, clock, wireBytes: link.stats.bytesToBoard + link.stats.bytesToHost };
}
