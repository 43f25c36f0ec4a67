import { crc16 } from './crc.js';
import { FRAME } from './spec.js';

/** Encode one frame: <len><seq><payload><crc16 LE><0x7E>. The CRC covers len, seq and payload. */
export function encodeFrame(seq: number, payload: Uint8Array): Uint8Array {
  const len = payload.length + FRAME.overheadBytes;
  if (payload.length < 1 || len > FRAME.maxLen) throw new RangeError(`payload of ${payload.length} bytes does not fit a frame`);
  const out = new Uint8Array(len);
  out[0] = len;
  out[1] = seq & 0xff;
  out.set(payload, 2);
  const crc = crc16(out, 0, len - 3);
  out[len - 3] = crc & 0xff;
  out[len - 2] = crc >> 8;
  out[len - 1] = FRAME.sync;
  return out;
}

export interface DecodedFrame {
  seq: number;
  payload: Uint8Array;
}

export interface FrameStats {
  frames: number;
  crcErrors: number;
  /** Frames dropped for a bad length or a missing sync byte. */
  framingErrors: number;
  /** Bytes discarded while hunting for the next sync byte. */
  discardedBytes: number;
}

/**
 * Incremental frame decoder. Feed it bytes in any chunking; it calls onFrame for
 * every frame whose length, sync byte and CRC are right. On any error it drops
 * bytes up to and including the next sync byte (as Klipper does), counts the
 * error and carries on. It never throws on input.
 */
export class FrameDecoder {
  private buf = new Uint8Array(FRAME.maxLen * 2);
  private n = 0;
  private hunting = false;
  readonly stats: FrameStats = { frames: 0, crcErrors: 0, framingErrors: 0, discardedBytes: 0 };

  constructor(private readonly onFrame: (frame: DecodedFrame) => void) {}

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) this.pushByte(chunk[i] as number);
  }

  private pushByte(b: number): void {
    if (this.hunting) {
      this.stats.discardedBytes++;
      if (b === FRAME.sync) this.hunting = false;
      return;
    }
    this.buf[this.n++] = b;
    const len = this.buf[0] as number;
    if (len < FRAME.minLen || len > FRAME.maxLen) {
      // A lone sync byte between frames is harmless filler; anything else is an error.
      if (!(this.n === 1 && b === FRAME.sync)) this.error('framing');
      else this.n = 0;
      return;
    }
    if (this.n < len) return;
    if (this.buf[len - 1] !== FRAME.sync) return this.error('framing');
    const crc = (this.buf[len - 3] as number) | ((this.buf[len - 2] as number) << 8);
    if (crc !== crc16(this.buf, 0, len - 3)) return this.error('crc');
    const frame = { seq: this.buf[1] as number, payload: this.buf.slice(2, len - 3) };
    this.n = 0;
    this.stats.frames++;
    this.onFrame(frame);
  }

  private error(kind: 'crc' | 'framing'): void {
    if (kind === 'crc') this.stats.crcErrors++;
    else this.stats.framingErrors++;
    // Resync: if the bad frame's last byte was a sync, the next byte starts a frame.
    const last = this.buf[this.n - 1];
    this.stats.discardedBytes += this.n;
    this.n = 0;
    this.hunting = last !== FRAME.sync;
  }
}
