/**
 * Serve the simulated StandardFirmata board on a pseudo-terminal, so johnny-five
 * (or any Firmata client) can open it like /dev/ttyACM0. Wall-clock timed. The
 * pty pair is the same as the simulated modality board's (sim/pty.ts).
 */
import { openPtyPair } from './pty.js';
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

export function serveFirmataOnPty(opts: FirmataPtyOptions = {}): FirmataPty {
  const clock = opts.clock ?? new RealClock();
  const end = openPtyPair();
  const board = new SimFirmataBoard(clock, end.transport, {
    pins: opts.pins ?? loadFirmataPins(),
    ...(opts.pad ? { pad: opts.pad } : {}),
    ...(opts.silent ? { silent: true } : {}),
  });
  let closed = false;
  return {
    path: end.path,
    board,
    close: async () => {
      if (closed) return;
      closed = true;
      board.close();
      end.close();
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
