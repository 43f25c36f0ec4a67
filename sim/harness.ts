/**
 * A whole session on the simulated board, in process: virtual clock, the
 * in-process serial line, the simulated board, and the real serial driver
 * between them (the engine never takes a shortcut to the board). Used by
 * `modality run --board sim`, the tests and the benchmarks.
 */
import { paceVirtualClock, VirtualClock } from '../src/clock.js';
import type { Message } from '../src/drivers/wire/messages.js';
import { SerialBoard } from '../src/drivers/serial-board.js';
import type { RunEvent, Summary } from '../src/engine/recorder.js';
import { SessionRun } from '../src/engine/session-runner.js';
import type { Plan } from '../src/protocol/index.js';
import { createRng } from '../src/util/rng.js';
import { SimBoard, type SimBoardOptions } from './board.js';
import { boardOptionsFor, scheduleFaults, type FaultSpec } from './faults.js';
import { createLinkPair, type LineFaults } from './link.js';

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

export interface SimulateResult { summary: Summary; sim: SimBoard; run: SessionRun; clock: VirtualClock; wireBytes: number }

export interface SimConnection { clock: VirtualClock; sim: SimBoard; board: SerialBoard; link: ReturnType<typeof createLinkPair>; line: LineFaults }

/** The simulated board on an in-process line, on a virtual clock, with the real serial driver connected to it. */
export async function connectSimBoard(opts: Pick<SimulateOptions, 'faults' | 'seed' | 'board' | 'trace'> = {}): Promise<SimConnection> {
  const clock = new VirtualClock();
  const rng = createRng(opts.seed ?? 1);
  const noise = (opts.faults ?? []).find((f) => f.kind === 'line-noise');
  // Noise is on from the start (the handshake too); the other line faults are timed from the session start.
  const line: LineFaults = { rng: createRng((opts.seed ?? 1) ^ 0x5eed), ...(noise ? { noiseRate: noise.rate } : {}) };
  const link = createLinkPair(clock, line);
  const sim = new SimBoard(clock, link.board, { bootOffsetMs: 1000 + Math.floor(rng() * 60_000), ...boardOptionsFor(opts.faults ?? []), ...opts.board });

  let board: SerialBoard | undefined;
  let failure: unknown;
  SerialBoard.connect(clock, link.host, { label: 'the simulated board', ...(opts.trace ? { trace: opts.trace } : {}) }).then((b) => (board = b), (e) => (failure = e));
  while (!board && failure === undefined) {
    if (!clock.step()) break;
    await null; // let the connect promise settle at this exact virtual time
  }
  if (!board) throw failure instanceof Error ? failure : new Error('the simulated board did not answer');
  return { clock, sim, board, link, line };
}

/** SerialBoard.close() on a virtual clock: runs the clock until the board has answered BYE and the line is closed. */
export async function closeOnClock(clock: VirtualClock, board: SerialBoard): Promise<void> {
  let done = false;
  const closing = board.close().finally(() => { done = true; });
  while (!done && clock.step()) await null;
  await closing;
}

export async function simulateSession(opts: SimulateOptions): Promise<SimulateResult> {
  const faults = opts.faults ?? [];
  const { clock, sim, board, link, line } = await connectSimBoard(opts);

  const run = new SessionRun({
    plan: opts.plan, board, clock,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.profileMaxMa !== undefined ? { profileMaxMa: opts.profileMaxMa } : {}),
    ...(opts.telemetryEveryMs !== undefined ? { telemetryEveryMs: opts.telemetryEveryMs } : {}),
  });
  const start = clock.now();
  scheduleFaults(faults, { at: (ms, fn) => clock.setTimeout(fn, start + ms - clock.now()), sim, line, zeroMs: start });
  run.start();
  opts.onStart?.({ run, clock, sim });

  const speed = opts.speed ?? Infinity;
  if (speed === Infinity && !opts.onTick) {
    clock.runWhile(() => !run.isFinished());
  } else {
    await paceVirtualClock(clock, speed, () => { opts.onTick?.(); return run.isFinished(); });
  }
  clock.advance(opts.drainMs ?? 1000);
  if (opts.holdMs !== undefined && clock.now() < start + opts.holdMs) clock.runUntil(start + opts.holdMs);
  const summary = run.summary();
  run.stop();
  await closeOnClock(clock, board); // BYE, answered while the board still runs
  sim.stopTimers();
  return { summary, sim, run, clock, wireBytes: link.stats.bytesToBoard + link.stats.bytesToHost };
}
