import { VirtualClock } from '../src/clock.js';
import type { BoardEvent, BoardInfo } from '../src/drivers/board.js';
import { SerialBoard } from '../src/drivers/serial-board.js';
import type { Transport } from '../src/drivers/transport.js';
import { createLinkPair, type LineFaults } from '../sim/link.js';
import { SimBoard, type SimBoardOptions } from '../sim/board.js';

/** A board's identity and limits as the simulated board reports them; `over` changes what a test needs different. */
export function boardInfo(over: Partial<BoardInfo> = {}): BoardInfo {
  return {
    protocolVersion: 1,
    firmware: 'test',
    kind: 'simulated',
    tensChannels: 2,
    hasUltrasound: true,
    hasPad: true,
    maxTensMa: 80,
    maxTensSlewMaPerS: 10,
    maxUsWPerCm2: 3,
    maxPadC: 40,
    minPadC: 10,
    leaseMs: 400,
    maxTensDensityAckMaPerCm2: 4,
    runawayHysteresisC: 4,
    runawayPeriodMs: 40_000,
    timing: 'board',
    ...over,
  };
}

/** SerialBoard.connect on a virtual clock: the clock is stepped until the handshake ends; the board's events are collected from then on. */
export async function connectOnVirtualClock(clock: VirtualClock, host: Transport, label: string): Promise<{ board: SerialBoard; events: BoardEvent[] }> {
  let board: SerialBoard | undefined;
  let error: unknown;
  SerialBoard.connect(clock, host, { label }).then(
    (b) => (board = b),
    (e) => (error = e),
  );
  while (!board && !error) {
    if (!clock.step()) break;
    await Promise.resolve();
  }
  if (error) throw error;
  if (!board) throw new Error(`${label}: the virtual clock ran out of timers before the handshake ended`);
  const events: BoardEvent[] = [];
  board.subscribe((e) => events.push(e));
  return { board, events };
}

/** A virtual clock, a simulated board on an in-process line, and the real driver connected to it. */
export async function connectSim(opts: { faults?: LineFaults; board?: SimBoardOptions } = {}) {
  const clock = new VirtualClock();
  const link = createLinkPair(clock, opts.faults);
  const sim = new SimBoard(clock, link.board, { bootOffsetMs: 5000, ...opts.board });
  const { board, events } = await connectOnVirtualClock(clock, link.host, 'sim');
  return { clock, link, sim, board, events };
}

import type { Plan } from '../src/protocol/index.js';
import { SessionRun } from '../src/engine/session-runner.js';

/** A session wired to a simulated board but not started: tests drive the clock and the events themselves. */
export async function liveSession(plan: Plan) {
  const { clock, sim, board, link } = await connectSim();
  const run = new SessionRun({ plan, board, clock });
  return { clock, sim, board, link, run };
}
