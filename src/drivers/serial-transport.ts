/**
 * The real serial line, behind the Transport interface: serialport 13. A port
 * that does not exist gets an error that lists the ports that do.
 */
import { existsSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { delimiter, join } from 'node:path';
import { SerialPort } from 'serialport';
import { HOST_TIMING, LINE } from './wire/spec.js';
import type { Transport } from './transport.js';
import { Keepalive } from './keepalive.js';
import { ConnectError } from './board.js';

/** The serial port cannot be opened (missing, no permission). */
export class SerialPortError extends ConnectError {}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));
}

/**
 * Serial ports present. serialport's Linux list spawns udevadm and crashes the
 * process (an unhandled 'error' on the child) where udevadm is missing, as in
 * containers: there we scan /dev ourselves with serialport's own name filter.
 */
export async function listSerialPorts(): Promise<string[]> {
  if (process.platform !== 'linux' || onPath('udevadm')) {
    try {
      return (await SerialPort.list()).map((p) => p.path + (p.manufacturer ? ` (${p.manufacturer})` : ''));
    } catch {
      if (process.platform !== 'linux') return [];
    }
  }
  try {
    const byId = existsSync('/dev/serial/by-id') ? readdirSync('/dev/serial/by-id').map((n) => `/dev/serial/by-id/${n}`) : [];
    const tty = readdirSync('/dev')
      .filter((n) => /^tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB)\d+$|^rfcomm\d+$/.test(n))
      .map((n) => `/dev/${n}`);
    return [...tty.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })), ...byId];
  } catch {
    return [];
  }
}

export async function describeMissingPort(path: string): Promise<string> {
  const ports = await listSerialPorts();
  return ports.length > 0
    ? `no serial port at ${path}. Ports on this machine: ${ports.join(', ')}`
    : `no serial port at ${path}, and no serial ports were found on this machine (is the board plugged in? is the user in the dialout group?)`;
}

export interface SerialTransportOptions {
  baudRate?: number;
  /** The lease keeper (keepalive.ts); `false` turns it off (tests that show what it prevents). */
  keepalive?: false | { quietMs?: number; repeatMs?: number; coverMs?: number };
}

export async function openSerialTransport(path: string, opts: SerialTransportOptions = {}): Promise<Transport> {
  const baudRate = opts.baudRate ?? LINE.baudRate;
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (!err) return resolve();
      const msg = String(err.message);
      if (/ENOENT|No such file|cannot open|File not found/i.test(msg)) describeMissingPort(path).then((m) => reject(new SerialPortError(m)), reject);
      else if (/EACCES|Permission denied/i.test(msg))
        reject(new SerialPortError(`permission denied opening ${path}: add this user to the dialout group, or run as a user that may use the port`));
      else reject(new SerialPortError(`cannot open ${path}: ${msg}`));
    });
  });
  const closeCbs: ((reason: string) => void)[] = [];
  let closing = false;
  // The host's event-loop stalls while the line is open, for the session summary (and the lease bench).
  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  const keeper =
    opts.keepalive !== false
      ? new Keepalive({
          path,
          quietMs: opts.keepalive?.quietMs ?? HOST_TIMING.keepaliveQuietMs,
          repeatMs: opts.keepalive?.repeatMs ?? HOST_TIMING.heartbeatMs,
          coverMs: opts.keepalive?.coverMs ?? HOST_TIMING.keepaliveCoverMs,
        })
      : null;
  port.on('close', () => {
    void keeper?.stop();
    if (!closing) for (const cb of closeCbs) cb('port closed');
  });
  port.on('error', (err: Error) => {
    void keeper?.stop();
    for (const cb of closeCbs) cb(err.message);
  });
  return {
    write: (bytes, w) => {
      const send = () => {
        port.write(Buffer.from(bytes));
      };
      if (keeper) keeper.write(bytes, w?.repeatable === true, send);
      else send();
    },
    onData: (cb) => {
      port.on('data', (b: Buffer) => cb(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    },
    onClose: (cb) => {
      closeCbs.push(cb);
    },
    close: async () => {
      closing = true;
      stalls.disable();
      await keeper?.stop();
      if (!port.isOpen) return;
      await new Promise<void>((resolve) => port.close(() => resolve()));
    },
    silence: () => {
      void keeper?.stop();
    },
    hostStats: () => ({
      // The histogram counts in ns and includes its own 10 ms sampling period.
      hostStallMaxMs: Math.max(0, Math.round(stalls.max / 1e6) - 10),
      keepaliveRepeats: keeper?.stats().repeats ?? 0,
    }),
  };
}
