/**
 * The machines' timers on the board's time. On hardware the engine's time is
 * the board's (`board.boardNow()`: the board's clock mapped onto the host's, or
 * the board's own milliseconds when it cannot keep time at all, as simavr
 * lagging behind real time on a loaded machine). A machine's `after` delay is a
 * span of that time: a watch over a 2 s ramp waits until the board's clock has
 * moved 2 s, not until the host's has. Each timer waits on the host's clock for
 * what is left of its span, checks the board's time when it fires, and waits
 * again for any rest, so a board that runs slow stretches the machines' timers
 * with it, and a board that keeps time leaves them as they were.
 */
import type { Clock, TimerId } from '../clock.js';

/** Wait again only when at least this much of the span is left (ms): below it the timer is due. */
const DUE_WITHIN_MS = 0.5;

export class BoardTimeClock implements Clock {
  private readonly timers = new Map<number, TimerId>();
  private nextId = 1;

  constructor(
    private readonly host: Clock,
    private readonly board: { boardNow(): number },
  ) {}

  now(): number {
    return this.board.boardNow();
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.nextId++;
    const dueMs = this.board.boardNow() + Math.max(0, ms);
    const wait = (hostMs: number) => {
      this.timers.set(
        id,
        this.host.setTimeout(() => {
          const left = dueMs - this.board.boardNow();
          if (left >= DUE_WITHIN_MS) {
            wait(left);
            return;
          }
          this.timers.delete(id);
          fn();
        }, hostMs),
      );
    };
    wait(Math.max(0, ms));
    return id;
  }

  clearTimeout(id: TimerId): void {
    const t = this.timers.get(id as number);
    if (t === undefined) return;
    this.host.clearTimeout(t);
    this.timers.delete(id as number);
  }
}
