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
import { RealClock } from '../src/clock.js';

/** The host's real clock (its timers), with a time that does not count this process's stalls. */
export class StallFreeClock extends RealClock {
  private lastRealMs = performance.now();
  private boardMs = 0;
  /** Board time not counted because this process was stalled (ms). */
  stalledMs = 0;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly maxStepMs = 50,
    tickMs = 10,
  ) {
    super();
    this.ticker = setInterval(() => this.now(), tickMs);
    this.ticker.unref();
  }

  override now(): number {
    const real = performance.now();
    const step = real - this.lastRealMs;
    this.lastRealMs = real;
    const counted = Math.min(step, this.maxStepMs);
    this.stalledMs += step - counted;
    this.boardMs += counted;
    return this.boardMs;
  }

  /** Stop the ticker (the board's own timers are stopped by the board). */
  dispose(): void {
    clearInterval(this.ticker);
  }
}
