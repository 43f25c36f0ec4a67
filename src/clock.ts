/**
 * The one clock of the engine. The machines (through XState's `clock` option),
 * the driver (ack timeouts, heartbeats) and the simulated board (its tick and
 * plant integration) all take their time from the same object, so a virtual
 * clock makes a 30-minute session run in milliseconds with the same event
 * order on every run. Engine code never calls Date.now() or performance.now().
 */
export type TimerId = number;

export interface Clock {
  /** Milliseconds since this clock's epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** Wall-clock time, for hardware and for pty-served simulations. */
export class RealClock implements Clock {
  private readonly t0 = performance.now();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;
  now(): number {
    return performance.now() - this.t0;
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
}

interface Entry {
  at: number;
  seq: number;
  id: number;
  fn: () => void;
}

/**
 * A discrete-event clock: a queue ordered by time, ties broken by insertion
 * order. Nothing happens until it is advanced.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: Entry[] = [];
  private readonly live = new Set<number>();
  /** Events run so far (for benchmarks). */
  eventsRun = 0;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = ++this.seq;
    this.push({ at: this.t + Math.max(0, Number.isFinite(ms) ? ms : 0), seq: id, id, fn });
    this.live.add(id);
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.live.delete(id);
  }

  /** Time of the next pending event, or undefined. */
  peek(): number | undefined {
    while (this.heap.length > 0 && !this.live.has(this.heap[0]!.id)) this.pop();
    return this.heap[0]?.at;
  }

  /** Run one event; false when the queue is empty. */
  step(): boolean {
    if (this.peek() === undefined) return false;
    const e = this.pop()!;
    this.live.delete(e.id);
    this.t = e.at;
    this.eventsRun++;
    e.fn();
    return true;
  }

  /** Run every event due up to and including time `until`, then set the time to `until`. */
  runUntil(until: number): void {
    for (;;) {
      const next = this.peek();
      if (next === undefined || next > until) break;
      this.step();
    }
    if (until > this.t) this.t = until;
  }

  advance(ms: number): void {
    this.runUntil(this.t + ms);
  }

  /** Run until `done()` is true or the queue empties. Returns whether done() became true. */
  runWhile(notDone: () => boolean, limitMs = Infinity): boolean {
    while (notDone()) {
      const next = this.peek();
      if (next === undefined || next > limitMs) return false;
      this.step();
    }
    return true;
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * Run a virtual clock paced against the wall clock at `speed`× real time
 * (Infinity: as fast as the queue empties, yielding to the event loop now and then
 * so real I/O and key presses still get through).
 */
export async function paceVirtualClock(clock: VirtualClock, speed: number, done: () => boolean): Promise<void> {
  const wall0 = performance.now();
  const v0 = clock.now();
  while (!done()) {
    if (speed === Infinity) {
      // Run a slice, then yield.
      const sliceEnd = performance.now() + 20;
      while (!done() && performance.now() < sliceEnd) if (!clock.step()) break;
      if (clock.peek() === undefined && !done()) await new Promise((r) => setTimeout(r, 1));
      else await new Promise((r) => setImmediate(r));
    } else {
      const target = v0 + (performance.now() - wall0) * speed;
      clock.runUntil(target);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
