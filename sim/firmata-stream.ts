/**
 * The simulated StandardFirmata board in process, behind the same byte-stream
 * interface serialport gives the Firmata driver (FirmataPort), on any clock:
 * with a VirtualClock the driver, firmata-io, johnny-five and the board all run
 * in virtual time, so the driver's tests need no wall-clock bounds. Bytes take
 * their time on the line (10 bits per byte at 57600 baud) and keep their order.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../src/clock.js';
import type { FirmataPort } from '../src/drivers/firmata-board.js';
import { loadFirmataPins } from '../src/drivers/firmata-pins.js';
import { SimFirmataBoard, type SimFirmataOptions } from './firmata-board.js';

const MS_PER_BYTE = 10_000 / 57_600;

class Line {
  private freeAt = 0;
  constructor(private readonly clock: Clock) {}
  /** Deliver `bytes` after they have crossed the line, in order behind what is already on it. */
  send(bytes: Uint8Array, deliver: (b: Uint8Array) => void): void {
    const start = Math.max(this.clock.now(), this.freeAt);
    this.freeAt = start + bytes.length * MS_PER_BYTE;
    const copy = Uint8Array.from(bytes);
    this.clock.setTimeout(() => deliver(copy), this.freeAt - this.clock.now());
  }
}

/** The host's end: what `new SerialPort(...)` would be. */
export class InProcessFirmataPort extends EventEmitter implements FirmataPort {
  isOpen = false;
  /** Bytes written by the host so far. */
  bytesWritten = 0;
  private readonly up: Line;
  private toBoard: ((b: Uint8Array) => void) | null = null;

  constructor(private readonly clock: Clock) {
    super();
    this.up = new Line(clock);
  }

  /** Connect the board's receive side; `opened` runs when the port opens (the board's reset). */
  attach(toBoard: (b: Uint8Array) => void, opened: () => void): void {
    this.toBoard = toBoard;
    this.clock.setTimeout(() => {
      this.isOpen = true;
      this.emit('open');
      opened();
    }, 0);
  }

  write(data: Buffer | Uint8Array | number[], callback?: (err?: Error | null) => void): boolean {
    const bytes = Uint8Array.from(data);
    if (!this.isOpen) {
      const err = new Error('Port is not open');
      this.clock.setTimeout(() => {
        callback?.(err);
        this.emit('error', err);
      }, 0);
      return false;
    }
    this.bytesWritten += bytes.length;
    this.up.send(bytes, (b) => {
      if (this.isOpen) this.toBoard?.(b);
    });
    this.clock.setTimeout(() => callback?.(null), 0);
    return true;
  }

  drain(callback: () => void): void {
    this.clock.setTimeout(callback, 0);
  }

  close(callback: (err?: Error | null) => void): void {
    if (!this.isOpen) {
      callback(null);
      return;
    }
    this.isOpen = false;
    this.emit('close');
    callback(null);
  }

  /** The board's end delivers here. */
  receive(bytes: Uint8Array): void {
    if (this.isOpen) this.emit('data', Buffer.from(bytes));
  }
}

export interface FirmataStream {
  port: InProcessFirmataPort;
  board: SimFirmataBoard;
  close(): void;
}

/** A simulated StandardFirmata board on an in-process stream, on `clock`. */
export function serveFirmataInProcess(clock: Clock, opts: SimFirmataOptions = {}): FirmataStream {
  const port = new InProcessFirmataPort(clock);
  const down = new Line(clock);
  let sink: ((b: Uint8Array) => void) | null = null;
  const board = new SimFirmataBoard(
    clock,
    {
      write: (b) => down.send(b, (x) => port.receive(x)),
      onData: (cb) => {
        sink = cb;
      },
    },
    { pins: opts.pins ?? loadFirmataPins(), ...(opts.pad ? { pad: opts.pad } : {}), ...(opts.silent ? { silent: true } : {}) },
  );
  port.attach(
    (b) => sink?.(b),
    () => board.announce(),
  );
  return {
    port,
    board,
    close: () => {
      board.close();
      port.close(() => undefined);
    },
  };
}
