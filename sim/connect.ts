/**
 * The simulated board, connected: the board on an in-process line on a virtual
 * clock, with the real serial driver between it and the engine (the engine never
 * takes a shortcut to the board). The board registry (src/drivers/registry.ts)
 * loads this file when `--board sim` is chosen; simulateSession (harness.ts)
 * and the cart's board host use it through there.
 */
import type { VirtualClock } from '../src/clock.js';
import type { BoardOpenOptions, BoardSpec, OpenedBoard } from '../src/drivers/board-type.js';
import type { FaultSpec } from '../src/drivers/fault-spec.js';
import { SerialBoard } from '../src/drivers/serial-board.js';
import type { Message } from '../src/drivers/wire/messages.js';
import { createRng } from '../src/util/rng.js';
import { SimBoard, type SimBoardOptions } from './board.js';
import { boardOptionsFor, ELECTRODE_GOOD_OHM, scheduleFaults } from './faults.js';
import { createLinkPair, type LineFaults } from './link.js';

export interface ConnectSimOptions {
  /** The clock to run on (default: a new one). */
  clock?: VirtualClock;
  faults?: readonly FaultSpec[];
  seed?: number;
  board?: SimBoardOptions;
  trace?: (dir: 'out' | 'in', msg: Message | null, bytes: Uint8Array, hostMs: number) => void;
}

export interface SimConnection {
  clock: VirtualClock;
  sim: SimBoard;
  board: SerialBoard;
  link: ReturnType<typeof createLinkPair>;
  line: LineFaults;
}

/** The simulated board on an in-process line, on a virtual clock, with the real serial driver connected to it. */
export async function connectSimBoard(clock: VirtualClock, opts: Omit<ConnectSimOptions, 'clock'> = {}): Promise<SimConnection> {
  const rng = createRng(opts.seed ?? 1);
  const noise = (opts.faults ?? []).find((f) => f.kind === 'line-noise');
  // Noise is on from the start (the handshake too); the other line faults are timed from the session start.
  const line: LineFaults = { rng: createRng((opts.seed ?? 1) ^ 0x5eed), ...(noise ? { noiseRate: noise.rate } : {}) };
  const link = createLinkPair(clock, line);
  const sim = new SimBoard(clock, link.board, { bootOffsetMs: 1000 + Math.floor(rng() * 60_000), ...boardOptionsFor(opts.faults ?? []), ...opts.board });

  let board: SerialBoard | undefined;
  let failure: unknown;
  SerialBoard.connect(clock, link.host, { label: 'the simulated board', ...(opts.trace ? { trace: opts.trace } : {}) }).then(
    (b) => (board = b),
    (e) => (failure = e),
  );
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
  const closing = board.close().finally(() => {
    done = true;
  });
  while (!done && clock.step()) await null;
  await closing;
}

/** The registry's entry for `--board sim`. */
export async function openSimulatedBoard(spec: BoardSpec, clock: VirtualClock, o: BoardOpenOptions): Promise<OpenedBoard & { connection: SimConnection }> {
  const c = await connectSimBoard(clock, {
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.simBoard ? { board: o.simBoard } : {}),
    ...(o.trace ? { trace: o.trace } : {}),
  });
  const { sim, line } = c;
  const from = () => {
    const zero = clock.now();
    return { zero, at: (ms: number, fn: () => void) => clock.setTimeout(fn, zero + ms - clock.now()) };
  };
  return {
    spec,
    board: c.board,
    clock,
    warning: null,
    connection: c,
    sim: {
      arm: (faults) => {
        const { zero, at } = from();
        scheduleFaults(faults, { at, sim, line, zeroMs: zero });
      },
      inject: (fault) => {
        const { at } = from();
        scheduleFaults([fault], { at, sim });
      },
      restore: (what) => {
        if (what === 'coupling') sim.setCoupled(true);
        else sim.setElectrodeOhm(what === 'contact:1' ? 0 : 1, ELECTRODE_GOOD_OHM);
      },
      stop: () => sim.stopTimers(),
    },
    close: async () => {
      await closeOnClock(clock, c.board); // BYE, answered while the board still runs
      sim.stopTimers();
    },
  };
}
