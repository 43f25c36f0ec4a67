import type { Clock } from '../src/clock.js';
import type { Transport } from '../src/drivers/transport.js';
import { LINE } from '../src/drivers/wire/spec.js';
import { createRng } from '../src/util/rng.js';

/** Faults the line itself can suffer; times are on the shared clock. */
export interface LineFaults {
  /** Fraction of bytes corrupted (one bit flipped), in both directions. */
  noiseRate?: number;
  /** From this time on, bytes from the host are lost (the host goes silent). */
  hostSilenceAtMs?: number;
  /** From this time on, nothing gets through in either direction. */
  disconnectAtMs?: number;
  rng?: () => number;
}

export interface LinkStats {
  bytesToBoard: number;
  bytesToHost: number;
  corruptedBytes: number;
  droppedBytes: number;
}

/**
 * An in-process serial line between host and board. Bytes travel as clock
 * events with the line's real delay (10 bits a byte at the baud rate), one
 * direction at a time per end, so the driver and the simulated board see the
 * same timing they would on a wire, deterministically.
 */
export function createLinkPair(
  clock: Clock,
  faults: LineFaults = {},
  baudRate: number = LINE.baudRate,
): {
  host: Transport;
  board: Transport;
  stats: LinkStats;
} {
  const msPerByte = (LINE.bitsPerByte * 1000) / baudRate;
  const stats: LinkStats = { bytesToBoard: 0, bytesToHost: 0, corruptedBytes: 0, droppedBytes: 0 };
  const rng = faults.rng ?? createRng(1);

  function end(): {
    t: Transport;
    deliver: (b: Uint8Array) => void;
    closeCbs: ((r: string) => void)[];
  } {
    let sink: ((b: Uint8Array) => void) | undefined;
    const closeCbs: ((r: string) => void)[] = [];
    return {
      closeCbs,
      deliver: (b) => sink?.(b),
      t: {
        write: () => undefined, // replaced below
        onData: (cb) => {
          sink = cb;
        },
        onClose: (cb) => {
          closeCbs.push(cb);
        },
        close: async () => {
          for (const cb of closeCbs) cb('closed');
        },
      },
    };
  }

  const hostEnd = end();
  const boardEnd = end();
  let hostLineFreeAt = 0;
  let boardLineFreeAt = 0;

  const send = (bytes: Uint8Array, fromHost: boolean): void => {
    const now = clock.now();
    if (faults.disconnectAtMs !== undefined && now >= faults.disconnectAtMs) {
      stats.droppedBytes += bytes.length;
      return;
    }
    if (fromHost && faults.hostSilenceAtMs !== undefined && now >= faults.hostSilenceAtMs) {
      stats.droppedBytes += bytes.length;
      return;
    }
    const copy = Uint8Array.from(bytes);
    if (faults.noiseRate) {
      for (let i = 0; i < copy.length; i++) {
        if (rng() < faults.noiseRate) {
          copy[i] = (copy[i] as number) ^ (1 << Math.floor(rng() * 8));
          stats.corruptedBytes++;
        }
      }
    }
    const start = Math.max(now, fromHost ? hostLineFreeAt : boardLineFreeAt);
    const done = start + copy.length * msPerByte;
    if (fromHost) {
      hostLineFreeAt = done;
      stats.bytesToBoard += copy.length;
    } else {
      boardLineFreeAt = done;
      stats.bytesToHost += copy.length;
    }
    clock.setTimeout(() => {
      if (faults.disconnectAtMs !== undefined && clock.now() >= faults.disconnectAtMs) {
        stats.droppedBytes += copy.length;
        return;
      }
      (fromHost ? boardEnd : hostEnd).deliver(copy);
    }, done - now);
  };
  hostEnd.t.write = (b) => send(b, true);
  boardEnd.t.write = (b) => send(b, false);
  return { host: hostEnd.t, board: boardEnd.t, stats };
}
