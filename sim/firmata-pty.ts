/**
 * Serve the simulated StandardFirmata board on a pseudo-terminal, so johnny-five
 * (or any Firmata client) can open it like /dev/ttyACM0. Wall-clock timed.
 *
 * node-pty's open() also opens the slave end in this process and starts
 * reading it, which would steal the bytes meant for the client: we stop that
 * reader but keep the slave fd open, so the master never sees EIO between
 * clients and a client can close and reopen the port.
 */
import pty from 'node-pty';
import { RealClock, type Clock } from '../src/clock.js';
import { loadFirmataPins, type FirmataPinMap } from '../src/drivers/firmata-pins.js';
import type { PadParams } from './plants.js';
import { SimFirmataBoard } from './firmata-board.js';

export interface FirmataPtyOptions {
  clock?: Clock;
  pins?: FirmataPinMap;
  pad?: Partial<PadParams>;
  /** Nothing answers: a port with a dead board behind it. */
  silent?: boolean;
}

export interface FirmataPty {
  path: string;
  board: SimFirmataBoard;
  close(): Promise<void>;
}

interface RawPty {
  ptsName: string;
  _master: NodeJS.ReadWriteStream & { destroy(): void; on(ev: string, cb: (...a: any[]) => void): unknown };
  _slave: { setRawMode?(raw: boolean): void; pause(): void; destroy(): void; _read: () => void; _handle?: { readStop(): void } };
}

export function serveFirmataOnPty(opts: FirmataPtyOptions = {}): FirmataPty {
  const clock = opts.clock ?? new RealClock();
  const t = (pty as unknown as { open(o: object): RawPty }).open({ encoding: null });
  // Keep the slave fd open but never read it here.
  t._slave.setRawMode?.(true);
  t._slave.pause();
  t._slave._read = () => {};
  t._slave._handle?.readStop();
  let onData: ((b: Uint8Array) => void) | null = null;
  let closed = false;
  t._master.on('data', (d: Buffer) => onData?.(new Uint8Array(d)));
  t._master.on('error', () => { /* EIO when the last slave closes: the next client reopens it */ });
  const board = new SimFirmataBoard(clock, {
    write: (bytes) => { if (!closed) t._master.write(Buffer.from(bytes)); },
    onData: (cb) => { onData = cb; },
  }, { pins: opts.pins ?? loadFirmataPins(), ...(opts.pad ? { pad: opts.pad } : {}), ...(opts.silent ? { silent: true } : {}) });
  return {
    path: t.ptsName,
    board,
    close: async () => {
      if (closed) return;
      closed = true;
      board.close();
      t._slave.destroy();
      t._master.destroy();
    },
  };
}

export interface FirmataSimCommandOptions {
  /** Pin map file (default profiles/firmata-pins.json). */
  pins?: string;
  out?: { write(s: string): unknown };
}

/** `modality sim --firmata --pty`: print the device path on its own line, serve until SIGINT/SIGTERM. */
export async function runFirmataSimCommand(opts: FirmataSimCommandOptions = {}): Promise<void> {
  const out = opts.out ?? process.stdout;
  const pins = loadFirmataPins(opts.pins);
  const served = serveFirmataOnPty({ pins });
  out.write(`${served.path}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void served.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
