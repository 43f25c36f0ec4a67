/**
 * Real time for a simulated board served in real time (`modality sim --pty`).
 * A microcontroller's clock never stalls; this Node process does (a garbage
 * collection, a loaded machine). Were the board's time to jump over such a
 * stall, bytes the host wrote during it would be read only after the jump, and
 * the board would see a host that kept its lease as silent. So the board's time
 * stops while its process is stalled: a step between two looks at the clock
 * longer than `maxStepMs` counts as `maxStepMs`, and a ticker every
 * `tickMs` keeps the looks frequent, so only stalls make long steps. The board
 * then runs a little slow against the host, which the host's clock sync
 * measures like any drift.
 */
import type { Clock, TimerId } from '../src/clock.js';

export class StallFreeClock implements Clock {
  private lastRealMs = performance.now();
  private boardMs = 0;
  /** Board time not counted because this process was stalled (ms). */
  stalledMs = 0;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly maxStepMs = 50,
    tickMs = 10,
  ) {
    this.ticker = setInterval(() => this.now(), tickMs);
    this.ticker.unref();
  }

  now(): number {
    const real = performance.now();
    const step = real - this.lastRealMs;
    this.lastRealMs = real;
    const counted = Math.min(step, this.maxStepMs);
    this.stalledMs += step - counted;
    this.boardMs += counted;
    return this.boardMs;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.nextId++;
    this.timers.set(
      id,
      setTimeout(
        () => {
          this.timers.delete(id);
          fn();
        },
        Math.max(0, ms),
      ),
    );
    return id;
  }

  clearTimeout(id: TimerId): void {
    const t = this.timers.get(id);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(id);
    }
  }

  dispose(): void {
    clearInterval(this.ticker);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
