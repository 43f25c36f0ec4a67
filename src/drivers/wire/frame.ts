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
 * every frame whose length, sync byte and CRC are right. It never throws on input.
 *
 * Resynchronisation: when a candidate frame fails (bad length, unknown message,
 * missing sync, bad CRC) the decoder counts the error and rescans from the byte
 * after the candidate's first byte, so a corrupted length byte costs only that
 * frame, not the frames it would otherwise swallow. With `frameLength` (every
 * message id has one fixed frame length) a corrupted length or id byte is
 * caught after three bytes instead of after up to 64, which matters on a quiet line
 * where the next frames are heartbeats keeping the board's lease.
 */
export class FrameDecoder {
  private buf = new Uint8Array(FRAME.maxLen);
  private n = 0;
  readonly stats: FrameStats = { frames: 0, crcErrors: 0, framingErrors: 0, discardedBytes: 0 };

  constructor(
    private readonly onFrame: (frame: DecodedFrame) => void,
    private readonly frameLength?: (msgId: number) => number | undefined,
  ) {}

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) this.pushByte(chunk[i] as number);
  }

  private pushByte(b: number): void {
    this.buf[this.n++] = b;
    const len = this.buf[0] as number;
    if (this.n === 1) {
      if (len === FRAME.sync) {
        this.n = 0;
        return;
      } // filler between frames
      if (len < FRAME.minLen || len > FRAME.maxLen) return this.error('framing');
      return;
    }
    // Each message id has one fixed length. An unknown id is a framing error too: waiting
    // for its "length" would swallow the heartbeats behind it.
    if (this.n === 3 && this.frameLength && this.frameLength(this.buf[2] as number) !== len) return this.error('framing');
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
    this.stats.discardedBytes++;
    // Drop the candidate's first byte and rescan the rest.
    const rest = this.buf.slice(1, this.n);
    this.n = 0;
    for (const b of rest) this.pushByte(b);
  }
}
