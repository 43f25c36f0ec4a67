/**
 * The lease keeper of a real serial line. The board cuts every output when no
 * valid host frame arrives for its lease (docs/protocol.md). A host on a busy
 * Pi stalls now and then: a garbage collection, a synchronous records write
 * (SQLite in WAL with full sync on an SD card), a burst of UI work. Its timers,
 * the heartbeat among them, wait for the stall to end. So a worker thread,
 * which such stalls do not reach, watches the line: when the host has written
 * nothing for `quietMs` (it writes at least a PING every heartbeat while it
 * is alive), the keeper writes the host's last frame again, byte for byte,
 * every `repeatMs`. The board takes it as a retransmission: it renews the
 * lease, is acknowledged again and is not applied again ("Repeats").
 *
 * Bounds: the keeper repeats for at most `coverMs` of host silence. A host
 * stuck longer is treated as dead: the repeats stop and the board's lease cuts
 * the outputs. If the process dies, the worker dies with it and the lease runs
 * out at once. A HELLO is never repeated (it starts a new sequence space).
 *
 * The worker opens the port's device itself (its own descriptor, closed when
 * it stops: never the host's, whose number the process may give to another
 * file once the port closes) and writes with write(2), under a lock it shares
 * with the host's writes: a repeat is written only while the frame
 * is still the host's last, so it can never land behind a newer frame (where
 * the board would take it for a new command and apply it again). A tty write
 * of one frame (at most 40 bytes) is one atomic write.
 *
 * The same worker measures what it covers: the longest the host's event loop
 * went without writing beyond its heartbeat, and the repeats it sent.
 */
import { Worker } from 'node:worker_threads';

export interface KeepaliveOptions {
  /** The serial port's device path (the port is open: raw mode and baud rate are the device's). */
  path: string;
  /** Host silence after which the keeper repeats the last frame (longer than the host's heartbeat). */
  quietMs: number;
  /** Period of the repeats while the host stays silent. */
  repeatMs: number;
  /** The longest host silence the keeper covers; past it the board's lease decides. */
  coverMs: number;
}

export interface KeepaliveStats {
  /** Frames the keeper repeated on the host's behalf. */
  repeats: number;
  /** Longest host silence the keeper saw (ms, 0 if none beyond quietMs). */
  longestSilenceMs: number;
}

const WRITES = 0,
  STOP = 1,
  LEN = 2,
  REPEATS = 3,
  LONGEST = 4,
  LOCK = 5;
const FRAME_OFFSET = 32;
const FRAME_MAX = 64;

/** Plain JavaScript, evaluated as the worker: it must run the same from the sources (tsx) and from dist/. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { path, sab, quietMs, repeatMs, coverMs } = workerData;
let fd = -1;
try { fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK); } catch { /* no keeper: the plain lease */ }
const i32 = new Int32Array(sab, 0, 8);
const frame = new Uint8Array(sab, ${FRAME_OFFSET}, ${FRAME_MAX});
const nowMs = () => Number(process.hrtime.bigint() / 1000000n);
let seen = Atomics.load(i32, ${WRITES});
let silentSince = null;
while (fd >= 0 && Atomics.load(i32, ${STOP}) === 0) {
  Atomics.wait(i32, ${WRITES}, seen, silentSince === null ? quietMs : repeatMs);
  if (Atomics.load(i32, ${STOP}) !== 0) break;
  const writes = Atomics.load(i32, ${WRITES});
  const now = nowMs();
  if (writes !== seen) {
    if (silentSince !== null) Atomics.store(i32, ${LONGEST}, Math.max(Atomics.load(i32, ${LONGEST}), now - silentSince));
    seen = writes;
    silentSince = null;
    continue;
  }
  if (silentSince === null) silentSince = now - quietMs;
  if (now - silentSince > coverMs) continue;
  // Under the line's lock: the host cannot write a newer frame between this check and this write,
  // so a repeat is always of the last frame on the line (the board's "Repeats" rule needs that).
  while (Atomics.compareExchange(i32, ${LOCK}, 0, 1) !== 0) Atomics.wait(i32, ${LOCK}, 1, 1);
  try {
    const len = Atomics.load(i32, ${LEN});
    if (len === 0 || Atomics.load(i32, ${WRITES}) !== seen || Atomics.load(i32, ${STOP}) !== 0) continue;
    fs.writeSync(fd, frame.slice(0, len));
    Atomics.add(i32, ${REPEATS}, 1);
  } catch { /* the port is gone: the host will see it close */ } finally {
    Atomics.store(i32, ${LOCK}, 0);
    Atomics.notify(i32, ${LOCK});
  }
}
if (fd >= 0) fs.closeSync(fd);
`;

let liveWorkers = 0;

export class Keepalive {
  /** Keeper threads of this process still running (a stopped keeper's thread has exited). */
  static live(): number {
    return liveWorkers;
  }

  private readonly sab = new SharedArrayBuffer(FRAME_OFFSET + FRAME_MAX);
  private readonly i32 = new Int32Array(this.sab, 0, 8);
  private readonly frame = new Uint8Array(this.sab, FRAME_OFFSET, FRAME_MAX);
  private readonly worker: Worker;
  private stopped = false;

  constructor(opts: KeepaliveOptions) {
    if (!(opts.quietMs > 0 && opts.repeatMs > 0 && opts.coverMs >= opts.quietMs))
      throw new RangeError('keepalive: need quietMs > 0, repeatMs > 0, coverMs ≥ quietMs');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path: opts.path, sab: this.sab, quietMs: opts.quietMs, repeatMs: opts.repeatMs, coverMs: opts.coverMs },
    });
    liveWorkers++;
    this.worker.once('exit', () => liveWorkers--);
    this.worker.unref(); // never what keeps a process alive
    this.worker.on('error', () => undefined); // a keeper that fails leaves the plain lease in charge
  }

  /**
   * Write `frame` (one whole frame) to the line with `send`, under the lock the
   * keeper takes for its repeats. `repeatable`: the keeper may repeat it while
   * the host stalls (not a HELLO). The keeper holds the lock only for one
   * write(2) of at most 64 bytes.
   */
  write(frame: Uint8Array, repeatable: boolean, send: () => void): void {
    if (this.stopped) {
      send();
      return;
    }
    while (Atomics.compareExchange(this.i32, LOCK, 0, 1) !== 0) Atomics.wait(this.i32, LOCK, 1, 1);
    try {
      send();
      if (repeatable && frame.length <= FRAME_MAX) {
        this.frame.set(frame);
        Atomics.store(this.i32, LEN, frame.length);
      } else {
        Atomics.store(this.i32, LEN, 0);
      }
      Atomics.add(this.i32, WRITES, 1);
    } finally {
      Atomics.store(this.i32, LOCK, 0);
      Atomics.notify(this.i32, LOCK);
    }
  }

  stats(): KeepaliveStats {
    return { repeats: Atomics.load(this.i32, REPEATS), longestSilenceMs: Atomics.load(this.i32, LONGEST) };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.i32, STOP, 1);
    Atomics.notify(this.i32, WRITES);
    await this.worker.terminate();
  }
}
