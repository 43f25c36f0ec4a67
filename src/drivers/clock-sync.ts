/**
 * Clock synchronisation between the host and a board that counts milliseconds
 * on its own oscillator (a ceramic resonator on an Uno is off by up to ±0.5 %).
 *
 * Three pieces:
 *
 * - `ClockExtender`: the board's clock is a u32 of milliseconds and wraps after
 *   49.7 days. Every boardMs that arrives (ACK, TELEMETRY, EVENT, IDENTIFY) is
 *   unwrapped against the last known value (to the nearest, so an old EVENT
 *   resent after newer ACKs stays in the past), as Klipper's clocksync extends
 *   the MCU clock to 64 bits. Values are JS numbers, exact up to 2^53 ms.
 *
 * - The estimate (`ClockSync.addSample`): samples of (host time, board time)
 *   from first-try ACK round trips. The host does not know when, inside the
 *   round trip, the board read its clock; it assumes the midpoint (of the round
 *   trip less the frame's and the ACK's time on the line), which is off by at
 *   most half the round trip, and by less the shorter the round trip (Klipper
 *   keeps the minimum round trip for the same reason). So: the host
 *   time is cut into windows (1 s); each window keeps its shortest-round-trip
 *   sample; a weighted least-squares line through the last windows (2 min)
 *   gives the board's rate (board ms per host ms) and offset. A window whose
 *   best round trip is still long (the line was busy) counts less: its weight
 *   is 1 / (q² + (excess round trip / 2)²), q = 0.5 ms, the board's tick
 *   quantisation. A second pass drops samples far off the line. Until the
 *   windows span 2 s the rate is taken as nominal (1).
 *
 * - The mapping between the times the engine sees ("board time" in the Board
 *   interface) and the board's raw clock: raw = bA + rA·(t − tA). It starts
 *   with rA = 1 and tA = bA, so for a board whose oscillator is exact the
 *   engine sees the board's own milliseconds, unchanged. When the estimated
 *   rate departs from rA by more than four standard errors and at least 20
 *   ppm (the simulated board's best samples wander by ±6 ppm over 2 minutes
 *   as its traffic changes; 20 ppm keeps an exact board un-mapped, and costs
 *   at most 36 ms in 30 minutes on a drifting one), the mapping is re-
 *   anchored at the present instant (continuous there) with the new rate,
 *   like Klipper's `clock_adj` for secondary MCUs. An estimate more than 2 %
 *   off nominal is not followed (see `maxRatePpm`). The engine's time
 *   therefore advances at the host's rate: a plateau of 30 minutes in the
 *   engine's board time lasts 30 minutes of host time on a board 0.5 % fast,
 *   and durations sent to the board (RAMP durationMs) are scaled by rA.
 */

export const U32 = 0x1_0000_0000;

/** The low 32 bits of a non-negative 64-bit board time (what goes on the wire). */
export function low32(v: number): number {
  const r = Math.round(v) % U32;
  return r < 0 ? r + U32 : r;
}

/** Unwraps u32 board times to a monotonic 64-bit view. */
export class ClockExtender {
  private last: number | null = null;

  /** The last (highest) 64-bit value seen, or null. */
  get lastMs(): number | null {
    return this.last;
  }

  /** Set the starting point (a board whose 64-bit time is already known, e.g. in tests). */
  seed(v64: number): void {
    this.last = v64;
  }

  /** Extend a u32 reading to 64 bits: the value nearest the last known one with these low 32 bits. */
  extend(raw32: number): number {
    if (this.last === null) {
      this.last = raw32;
      return raw32;
    }
    let delta = (raw32 - low32(this.last)) % U32;
    if (delta < 0) delta += U32;
    if (delta >= U32 / 2) delta -= U32; // an older reading (an event resent after newer ACKs)
    const v = this.last + delta;
    if (v > this.last) this.last = v;
    return v;
  }
}

export interface ClockSyncOptions {
  /** Width of a sample window, host ms (each keeps its shortest round trip). */
  windowMs?: number;
  /** Windows kept for the fit. */
  maxWindows?: number;
  /** Until the windows span this long (host ms), the rate is taken as nominal. */
  minFitSpanMs?: number;
  /** Re-anchor the mapping only when the rate moved by at least this many ppm. */
  reanchorPpm?: number;
  /**
   * Follow estimates within this many ppm of nominal only. Beyond it the board is not
   * an oscillator off by a little (a ceramic resonator is within ±0.5 %) but one that
   * cannot keep time at all (simavr lagging behind real time on a loaded host, a stalled
   * board): the engine then keeps the board's own milliseconds, as it did before.
   */
  maxRatePpm?: number;
}

interface Sample {
  hostMs: number;
  boardMs: number;
  rttMs: number;
}

export interface ClockEstimate {
  /** Estimated board ms per host ms, minus 1, in ppm. */
  ratePpm: number;
  /** Standard error of ratePpm (Infinity until the fit has a span). */
  rateSigmaPpm: number;
  /** The rate the mapping to the engine's time uses now, ppm. */
  mappedRatePpm: number;
  /** Windows in the fit and the host time they span. */
  windows: number;
  spanMs: number;
  /** How many times the mapping was re-anchored. */
  reanchors: number;
}

const Q_MS = 0.5;

export class ClockSync {
  private readonly windowMs: number;
  private readonly maxWindows: number;
  private readonly minFitSpanMs: number;
  private readonly reanchorPpm: number;
  private readonly maxRatePpm: number;
  /** Closed windows (their best samples), oldest first. */
  private windows: Sample[] = [];
  private current: Sample | null = null;
  private currentStart = 0;
  private rough: { hostMs: number; boardMs: number } | null = null;
  // The fit: board = fb + rate·(host − fh).
  private fh = 0;
  private fb = 0;
  private rate = 1;
  private rateSigma = Infinity;
  private fitSpan = 0;
  private fitted = false;
  // The mapping: raw = bA + rA·(t − tA).
  private tA = 0;
  private bA = 0;
  private rA = 1;
  private anchored = false;
  private reanchors = 0;
  private closed = 0;

  constructor(opts: ClockSyncOptions = {}) {
    this.windowMs = opts.windowMs ?? 1000;
    this.maxWindows = opts.maxWindows ?? 120;
    this.minFitSpanMs = opts.minFitSpanMs ?? 2000;
    this.reanchorPpm = opts.reanchorPpm ?? 20;
    this.maxRatePpm = opts.maxRatePpm ?? 20_000;
  }

  /** A board time with no usable round trip (IDENTIFY): used only until a real sample arrives. */
  addRough(hostMs: number, boardMs: number): void {
    if (this.fitted) return;
    this.rough = { hostMs, boardMs };
    this.anchorIfNeeded(boardMs);
  }

  /**
   * A first-try round trip: sent at sentMs, answered at recvMs (host ms), the board read boardMs
   * (64-bit). outMs and backMs: the time the frame and its answer take on the line (bytes × 10
   * bits at the baud rate). The board reads its clock once the whole frame is in, so the read is
   * taken at the midpoint of what remains of the round trip without them; frames of different
   * lengths then sample alike, and `rttMs` (what decides which sample a window keeps) is the
   * round trip beyond the line time.
   */
  addSample(sentMs: number, recvMs: number, boardMs: number, outMs = 0, backMs = 0): void {
    const s: Sample = { hostMs: (sentMs + outMs + recvMs - backMs) / 2, boardMs, rttMs: Math.max(0, recvMs - sentMs - outMs - backMs) };
    this.anchorIfNeeded(boardMs);
    if (this.current && s.hostMs >= this.currentStart + this.windowMs) {
      this.windows.push(this.current);
      if (this.windows.length > this.maxWindows) this.windows.shift();
      this.current = null;
      this.closed++;
    }
    if (!this.current) {
      this.current = s;
      this.currentStart = s.hostMs;
      // Once 30 windows are in, one more changes little: refit every 5th (the bench's 30-minute session runs in ~0.3 s).
      if (this.fitted && this.windows.length >= 30 && this.closed % 5 !== 0) return;
    } else if (s.rttMs < this.current.rttMs) {
      this.current = s;
      // A better sample in the open window: refit at once only while there is little else to go on;
      // later the window counts when it closes (one fit a second).
      if (this.fitted && this.windows.length >= 3) return;
    } else if (this.fitted) {
      return; // nothing changed
    }
    this.fit();
    this.maybeReanchor(recvMs);
  }

  /** Predicted raw board clock (64-bit ms) at host time hostMs. */
  predictBoard(hostMs: number): number {
    if (this.fitted) return this.fb + this.rate * (hostMs - this.fh);
    if (this.rough) return this.rough.boardMs + (hostMs - this.rough.hostMs);
    return hostMs;
  }

  /** Engine time (the Board interface's board time) now, at host time hostMs. */
  engineNow(hostMs: number): number {
    return this.fromBoard(this.predictBoard(hostMs));
  }

  /** Engine time → raw 64-bit board time. */
  toBoard(t: number): number {
    return this.bA + this.rA * (t - this.tA);
  }

  /** Raw 64-bit board time → engine time. */
  fromBoard(raw: number): number {
    return this.tA + (raw - this.bA) / this.rA;
  }

  /** A duration in engine ms → board ms. */
  durationToBoard(ms: number): number {
    return ms * this.rA;
  }

  /** A duration in board ms → engine ms. */
  durationFromBoard(ms: number): number {
    return ms / this.rA;
  }

  /** Board ms per engine ms (the mapping's rate). */
  get mappedRate(): number {
    return this.rA;
  }

  estimate(): ClockEstimate {
    return {
      ratePpm: (this.rate - 1) * 1e6,
      rateSigmaPpm: this.rateSigma * 1e6,
      mappedRatePpm: (this.rA - 1) * 1e6,
      windows: this.windows.length + (this.current ? 1 : 0),
      spanMs: this.fitSpan,
      reanchors: this.reanchors,
    };
  }

  private anchorIfNeeded(boardMs: number): void {
    if (this.anchored) return;
    this.anchored = true;
    this.tA = this.bA = boardMs;
    this.rA = 1;
  }

  private fit(): void {
    const pts = this.current ? [...this.windows, this.current] : this.windows.slice();
    if (pts.length === 0) return;
    let minRtt = Infinity;
    for (const p of pts) minRtt = Math.min(minRtt, p.rttMs);
    const w = pts.map((p) => 1 / (Q_MS * Q_MS + ((p.rttMs - minRtt) / 2) ** 2));
    const h0 = pts[0]!.hostMs,
      b0 = pts[0]!.boardMs; // centre on the first point to keep the sums small
    const solve = (use: boolean[] | null) => {
      let W = 0,
        mh = 0,
        mb = 0,
        n = 0,
        lo = Infinity,
        hi = -Infinity;
      for (let i = 0; i < pts.length; i++) {
        if (use && !use[i]) continue;
        const p = pts[i]!,
          wi = w[i]!;
        W += wi;
        mh += wi * (p.hostMs - h0);
        mb += wi * (p.boardMs - b0);
        n++;
        lo = Math.min(lo, p.hostMs);
        hi = Math.max(hi, p.hostMs);
      }
      mh /= W;
      mb /= W;
      let shh = 0,
        shb = 0;
      for (let i = 0; i < pts.length; i++) {
        if (use && !use[i]) continue;
        const p = pts[i]!,
          dh = p.hostMs - h0 - mh,
          db = p.boardMs - b0 - mb;
        shh += w[i]! * dh * dh;
        shb += w[i]! * dh * db;
      }
      const span = hi - lo;
      const ok = span >= this.minFitSpanMs && shh > 0;
      const rate = ok ? shb / shh : 1;
      let chi2 = 0;
      for (let i = 0; i < pts.length; i++) {
        if (use && !use[i]) continue;
        const p = pts[i]!,
          r = p.boardMs - b0 - mb - rate * (p.hostMs - h0 - mh);
        chi2 += w[i]! * r * r;
      }
      const sigma = ok ? Math.sqrt(Math.max(1, chi2 / Math.max(1, n - 2)) / shh) : Infinity;
      return { fh: h0 + mh, fb: b0 + mb, rate, sigma, span };
    };
    let f = solve(null);
    if (pts.length >= 5) {
      // Drop samples far off the line (a board busy before it answered), then fit again.
      const resid = pts.map((p) => Math.abs(p.boardMs - (f.fb + f.rate * (p.hostMs - f.fh))));
      const rms = Math.sqrt(resid.reduce((a, r) => a + r * r, 0) / pts.length);
      const keep = resid.map((r) => r <= Math.max(2, 4 * rms));
      const kept = keep.filter(Boolean).length;
      if (kept >= 3 && kept < pts.length) f = solve(keep);
    }
    this.fh = f.fh;
    this.fb = f.fb;
    this.rate = f.rate;
    this.rateSigma = f.sigma;
    this.fitSpan = f.span;
    this.fitted = true;
  }

  private maybeReanchor(hostMs: number): void {
    if (!Number.isFinite(this.rateSigma) || this.windows.length < 4) return; // at least 5 windows (with the open one)
    if (Math.abs(this.rate - 1) > this.maxRatePpm * 1e-6) return; // not a clock we follow
    const diff = Math.abs(this.rate - this.rA);
    if (diff <= Math.max(this.reanchorPpm * 1e-6, 4 * this.rateSigma)) return;
    const raw = this.predictBoard(hostMs);
    const t = this.fromBoard(raw);
    this.tA = t;
    this.bA = raw;
    this.rA = this.rate;
    this.reanchors++;
  }
}
