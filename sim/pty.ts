/**
 * The simulated board as a serial device on a pseudo-terminal, in real time:
 * `modality sim --pty` prints the device path and serves until killed, so a
 * bench technician (or a test) can use the real serialport driver against it.
 */
import fs from 'node:fs';
import tty from 'node:tty';
import pty from 'node-pty';
import type { Clock } from '../src/clock.js';
import { StallFreeClock } from './stall-free-clock.js';
import type { Transport } from '../src/drivers/transport.js';
import { createRng } from '../src/util/rng.js';
import { SimBoard, type SimBoardOptions } from './board.js';
import { boardOptionsFor, scheduleFaults, type FaultSpec } from './faults.js';

export interface PtyEndpoint {
  path: string;
  transport: Transport;
  close(): void;
}

/**
 * A pty pair from node-pty's native openpty. The master side becomes the
 * returned transport; `path` is the slave device a client opens. (node-pty's
 * own open() also reads the slave, which would steal the client's bytes.) The
 * slave fd stays open, unread, so the master never sees EIO between clients.
 */
export function openPtyPair(): PtyEndpoint {
  const native = (pty as unknown as { native: { open(cols: number, rows: number): { master: number; slave: number; pty: string } } }).native;
  const { master, slave, pty: path } = native.open(80, 24);
  const reader = new tty.ReadStream(master);
  const closeCbs: ((r: string) => void)[] = [];
  let sink: ((b: Uint8Array) => void) | undefined;
  let closed = false;
  reader.on('data', (b: Buffer) => sink?.(new Uint8Array(b.buffer, b.byteOffset, b.length)));
  reader.on('error', () => undefined); // EIO when the last client lets go: not an error for a server
  const pending: Buffer[] = [];
  const flush = () => {
    while (pending.length > 0 && !closed) {
      const b = pending[0] as Buffer;
      try {
        const n = fs.writeSync(master, b);
        if (n < b.length) pending[0] = b.subarray(n);
        else pending.shift();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(flush, 1);
          return;
        }
        pending.length = 0;
        return;
      }
    }
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const cb of closeCbs) cb('closed');
    reader.destroy();
    try {
      fs.closeSync(slave);
    } catch {
      /* already closed */
    }
  };
  const transport: Transport = {
    write: (bytes) => {
      if (closed) return;
      pending.push(Buffer.from(bytes));
      if (pending.length === 1) flush();
    },
    onData: (cb) => {
      sink = cb;
    },
    onClose: (cb) => {
      closeCbs.push(cb);
    },
    close: async () => close(),
  };
  return { path, transport, close };
}

export interface ServeSimOptions {
  faults?: FaultSpec[];
  seed?: number;
  board?: SimBoardOptions;
  clock?: Clock;
}

/** Serve the simulated board on a pty in real time; its clock does not count this process's own stalls (StallFreeClock). */
export function serveSimOnPty(opts: ServeSimOptions = {}): { path: string; sim: SimBoard; close(): void } {
  const steady = opts.clock ? null : new StallFreeClock();
  const clock = opts.clock ?? (steady as StallFreeClock);
  const end = openPtyPair();
  const rng = createRng(opts.seed ?? 1);
  const sim = new SimBoard(clock, end.transport, { bootOffsetMs: 1000 + Math.floor(rng() * 60_000), ...boardOptionsFor(opts.faults ?? []), ...opts.board });
  // Fault times count from the host's first HELLO, when the session begins.
  let armed = false;
  sim.onHello = () => {
    if (armed) return;
    armed = true;
    scheduleFaults(opts.faults ?? [], { at: (ms, fn) => clock.setTimeout(fn, ms), sim });
  };
  return {
    path: end.path,
    sim,
    close: () => {
      sim.stopTimers();
      steady?.dispose();
      end.close();
    },
  };
}
