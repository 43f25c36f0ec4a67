import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { BoardTimeClock } from '../../src/engine/board-time-clock.js';

/** A board whose clock runs at `rate` board ms per host ms, read in whole ms as a driver would. */
function boardAt(host: VirtualClock, rate: number, bootMs = 5000) {
  return { boardNow: () => Math.floor(bootMs + host.now() * rate) };
}

describe("BoardTimeClock: the machines' timers on the board's time", () => {
  it('a board that keeps time: a timer fires after its delay, as on the host clock', () => {
    const host = new VirtualClock();
    const clock = new BoardTimeClock(host, boardAt(host, 1));
    let firedAt = -1;
    clock.setTimeout(() => {
      firedAt = host.now();
    }, 2000);
    host.advance(1999);
    expect(firedAt).toBe(-1);
    host.advance(1);
    expect(firedAt).toBe(2000);
  });

  it('a board at 0.3× real time (simavr on a loaded machine): a 2 s watch waits for 2 s of board time', () => {
    const host = new VirtualClock();
    const board = boardAt(host, 0.3);
    const clock = new BoardTimeClock(host, board);
    const start = board.boardNow();
    let boardAtFire = -1;
    clock.setTimeout(() => {
      boardAtFire = board.boardNow();
    }, 2000);
    host.advance(2000); // the host's 2 s: the board has done 600 ms
    expect(boardAtFire).toBe(-1);
    host.advance(5000);
    expect(boardAtFire - start).toBeGreaterThanOrEqual(2000);
    expect(boardAtFire - start).toBeLessThanOrEqual(2001);
  });

  it('clearTimeout cancels a timer that is waiting out the rest of its span', () => {
    const host = new VirtualClock();
    const clock = new BoardTimeClock(host, boardAt(host, 0.5));
    let fired = false;
    const id = clock.setTimeout(() => {
      fired = true;
    }, 1000);
    host.advance(1500); // first wait over, waiting again for the rest
    clock.clearTimeout(id);
    host.advance(10_000);
    expect(fired).toBe(false);
  });
});
