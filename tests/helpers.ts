import { VirtualClock } from '../src/clock.js';
import type { BoardEvent } from '../src/drivers/board.js';
import { SerialBoard } from '../src/drivers/serial-board.js';
import { createLinkPair, type LineFaults } from '../sim/link.js';
import { SimBoard, type SimBoardOptions } from '../sim/board.js';

/** A virtual clock, a simulated board on an in-process line, and the real driver connected to it. */
export async function connectSim(opts: { faults?: LineFaults; board?: SimBoardOptions } = {}) {
  const clock = new VirtualClock();
  const link = createLinkPair(clock, opts.faults);
  const sim = new SimBoard(clock, link.board, { bootOffsetMs: 5000, ...opts.board });
  const p = SerialBoard.connect(clock, link.host, { label: 'sim' });
  let board: SerialBoard | undefined;
  let error: unknown;
  p.then(
    (b) => (board = b),
    (e) => (error = e),
  );
  while (!board && !error) {
    if (!clock.step()) break;
    await Promise.resolve();
  }
  if (error) throw error;
  const events: BoardEvent[] = [];
  board!.subscribe((e) => events.push(e));
  return { clock, link, sim, board: board!, events };
}

import type { Plan } from '../src/protocol/index.js';
import { SessionRun } from '../src/engine/session-runner.js';

/** A session wired to a simulated board but not started: tests drive the clock and the events themselves. */
export async function liveSession(plan: Plan) {
  const { clock, sim, board, link } = await connectSim();
  const run = new SessionRun({ plan, board, clock });
  return { clock, sim, board, link, run };
}
