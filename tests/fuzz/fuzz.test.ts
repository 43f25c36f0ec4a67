/**
 * Fuzz tests, seeded, with fixed iteration counts: random and mutated bytes into the frame
 * decoder and into the simulated board, random and mutated protocol files into
 * the loader. Nothing may throw, and a corrupted frame never changes an output.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { crc16 } from '../../src/drivers/wire/crc.js';
import { encodeFrame, FrameDecoder } from '../../src/drivers/wire/frame.js';
import { encodeMessage, frameLengthOf, decodeMessage } from '../../src/drivers/wire/messages.js';
import { OUTPUT } from '../../src/drivers/wire/spec.js';
import { listBuiltins, parseProtocolText, validateProtocolData } from '../../src/protocol/index.js';
import { createRng } from '../../src/util/rng.js';
import { SimBoard } from '../../sim/board.js';
import type { Transport } from '../../src/drivers/transport.js';

/**
 * A fixed number of seeded iterations: the same inputs on every machine, loaded
 * or not (no time budget, which would make the inputs depend on the host).
 */
function bounded(iterations: number, body: (i: number) => void): number {
  for (let i = 0; i < iterations; i++) body(i);
  return iterations;
}

/** A transport pair without a line model: the board under fuzz gets bytes directly. */
function directTransport(): { host: { send(b: Uint8Array): void; received: Uint8Array[] }; board: Transport } {
  let sink: ((b: Uint8Array) => void) | undefined;
  const received: Uint8Array[] = [];
  return {
    host: { send: (b) => sink?.(b), received },
    board: {
      write: (b) => received.push(b),
      onData: (cb) => {
        sink = cb;
      },
      onClose: () => undefined,
      close: async () => undefined,
    },
  };
}

/** Known message ids with their fixed frame lengths. */
const IDS = [0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16].filter((id) => frameLengthOf(id) !== undefined);

/** A valid frame: a known message id, its fixed length, random body bytes, a real CRC. */
function randomFrame(rng: () => number): Uint8Array {
  const id = IDS[Math.floor(rng() * IDS.length)]!;
  const payload = new Uint8Array(frameLengthOf(id)! - 5);
  payload[0] = id;
  for (let k = 1; k < payload.length; k++) payload[k] = Math.floor(rng() * 256);
  return encodeFrame(Math.floor(rng() * 256), payload);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('fuzz: frame decoder', () => {
  it('mutated streams of valid frames: every frame decoded is byte for byte one that was sent intact, and every intact frame is decoded', () => {
    const rng = createRng(1);
    const decoded: string[] = [];
    // The decoder hands back seq and payload; rebuild nothing: compare with the original bytes' own fields.
    const dec = new FrameDecoder((f) => decoded.push(hex(Uint8Array.of(f.payload.length + 5, f.seq, ...f.payload))), frameLengthOf);
    /** Length, seq and payload of an original frame, as sent: what a decoded frame must equal. */
    const head = (f: Uint8Array) => hex(f.subarray(0, f.length - 3));
    const expected: string[] = [];
    /** Every frame generated, sent intact or not. */
    const originals = new Set<string>();
    const kinds = { intact: 0, repeat: 0, flip: 0, cut: 0, splice: 0, junk: 0 };
    const stream: number[] = [];
    const intact = (f: Uint8Array) => {
      stream.push(...f);
      expected.push(head(f));
    };
    const n = bounded(20_000, () => {
      const a = randomFrame(rng);
      originals.add(head(a));
      const r = rng();
      if (r < 0.45) {
        kinds.intact++;
        intact(a);
        return;
      }
      if (r < 0.55) {
        kinds.repeat++;
        intact(a);
        intact(a);
        return;
      }
      let bad: Uint8Array;
      let other: Uint8Array | null = null;
      if (r < 0.75) {
        // A burst of up to 16 flipped bits: CRC-16 detects every one.
        kinds.flip++;
        bad = Uint8Array.from(a);
        const len = 1 + Math.floor(rng() * 16);
        const pos = Math.floor(rng() * (bad.length * 8 - len));
        for (let b = pos; b < pos + len; b++) if (b === pos || b === pos + len - 1 || rng() < 0.5) bad[b >> 3] = bad[b >> 3]! ^ (1 << (b & 7));
      } else if (r < 0.85) {
        kinds.cut++;
        bad = a.slice(0, 1 + Math.floor(rng() * (a.length - 1)));
      } else if (r < 0.95) {
        kinds.splice++;
        const b = (other = randomFrame(rng));
        originals.add(head(b));
        bad = Uint8Array.of(...a.slice(0, 1 + Math.floor(rng() * (a.length - 1))), ...b.slice(1 + Math.floor(rng() * (b.length - 1))));
      } else {
        kinds.junk++;
        bad = Uint8Array.from({ length: 1 + Math.floor(rng() * 12) }, () => (rng() < 0.2 ? 0x7e : Math.floor(rng() * 256)));
      }
      void other;
      stream.push(...bad);
    });
    // Delivered in random chunks, as a serial port does.
    for (let i = 0; i < stream.length; ) {
      const k = 1 + Math.floor(rng() * 48);
      dec.push(Uint8Array.from(stream.slice(i, i + k)));
      i += k;
    }
    expect(n).toBeGreaterThan(1000);
    for (const k of Object.values(kinds)) expect(k).toBeGreaterThan(20);
    expect(decoded.length).toBeGreaterThan(n * 0.5); // random input does form frames
    // Nothing invented: every frame decoded is byte for byte a frame that was generated. (A mutation
    // can give an original back whole: a frame cut just before its sync byte, followed by junk that
    // starts with one. Those are the original's bytes, and the decoder must take them.)
    const invented = decoded.filter((d) => !originals.has(d));
    expect(invented).toEqual([]);
    // Nothing lost: every frame sent intact is decoded, in order.
    let j = 0;
    for (const d of decoded) if (d === expected[j]) j++;
    expect(j).toBe(expected.length);
    expect(decoded.length - expected.length).toBeLessThan(expected.length * 0.01);
    expect(dec.stats.crcErrors).toBeGreaterThan(kinds.flip * 0.5);
    expect(dec.stats.framingErrors).toBeGreaterThan(0);
  });

  it('never yields a frame from random bytes, and never throws', () => {
    const rng = createRng(2);
    let frames = 0;
    const dec = new FrameDecoder(() => frames++, frameLengthOf);
    let bytes = 0;
    bounded(20_000, () => {
      const chunk = new Uint8Array(1 + Math.floor(rng() * 64));
      for (let k = 0; k < chunk.length; k++) chunk[k] = rng() < 0.1 ? 0x7e : Math.floor(rng() * 256);
      bytes += chunk.length;
      dec.push(chunk);
    });
    expect(bytes).toBeGreaterThan(100_000);
    expect(frames).toBe(0); // a false frame needs a matching length, sync byte and CRC: about 1 in 2^30 positions
    expect(dec.stats.framingErrors).toBeGreaterThan(1000);
  });

  it('a frame with its CRC bytes wrong is dropped, the same frame right is taken', () => {
    const f = encodeFrame(7, encodeMessage('SET', { output: 0, atMs: 1234, value: 100 }));
    const got: string[] = [];
    const dec = new FrameDecoder((x) => got.push(`${x.seq}:${hex(x.payload)}`), frameLengthOf);
    const wrong = Uint8Array.from(f);
    wrong[f.length - 3] = wrong[f.length - 3]! ^ 0x01;
    dec.push(wrong);
    expect(got).toEqual([]);
    expect(dec.stats.crcErrors).toBe(1);
    dec.push(f);
    expect(got).toEqual([`7:${hex(f.subarray(2, f.length - 3))}`]);
    // The CRC is CRC-16 over length, seq and payload, little-endian, as the firmware computes it.
    const crc = crc16(f, 0, f.length - 3);
    expect([f[f.length - 3], f[f.length - 2]]).toEqual([crc & 0xff, crc >> 8]);
  });
});

describe('fuzz: simulated board', () => {
  function sessionBoard() {
    const clock = new VirtualClock();
    const t = directTransport();
    const sim = new SimBoard(clock, t.board, { bootOffsetMs: 0 });
    let seq = 0;
    const send = (name: Parameters<typeof encodeMessage>[0], body: Record<string, number>) => {
      const f = encodeFrame(seq, encodeMessage(name, body as never));
      seq = (seq + 1) & 0xff;
      return f;
    };
    t.host.send(send('HELLO', { protocolVersion: 1, leaseMs: 500 }));
    t.host.send(
      send('CONFIG_TENS', {
        output: 0,
        rateHz: 100,
        pulseWidthUs: 100,
        waveform: 1,
        electrodeAreaCm2x10: 250,
        flags: 0,
        burstsPerS: 0,
        pulsesPerBurst: 0,
        modKind: 0,
        modMinPct: 100,
        modPeriodDs: 0,
      }),
    );
    t.host.send(send('CONFIG_US', { frequencyMHz: 1, dutyCyclePct: 100, eraCm2x10: 50 }));
    return { clock, sim, t, send };
  }

  it('never throws on random bytes and keeps every output within its limits', () => {
    const rng = createRng(3);
    const { clock, sim, t } = sessionBoard();
    bounded(20_000, () => {
      const chunk = new Uint8Array(1 + Math.floor(rng() * 40));
      for (let k = 0; k < chunk.length; k++) chunk[k] = Math.floor(rng() * 256);
      t.host.send(chunk);
      clock.advance(rng() * 20);
      expect(sim.outputValue(OUTPUT.tens1)).toBeLessThanOrEqual(800);
      expect(sim.outputValue(OUTPUT.ultrasound)).toBeLessThanOrEqual(300);
    });
  });

  it('a corrupted frame never changes an output', () => {
    const rng = createRng(4);
    const { clock, sim, t, send } = sessionBoard();
    let corrupted = 0;
    bounded(3_000, () => {
      clock.advance(50); // keeps the lease alive with the frames below
      const before = [OUTPUT.tens1, OUTPUT.ultrasound, OUTPUT.pad].map((o) => sim.outputValue(o));
      const now = sim.boardMs();
      const candidates = [
        send('SET', { output: OUTPUT.ultrasound, atMs: now, value: Math.floor(rng() * 300) }),
        send('SET', { output: OUTPUT.pad, atMs: now, value: 100 + Math.floor(rng() * 300) }),
        send('OFF', { output: 0xff, atMs: 0 }),
        send('ESTOP', {}),
      ];
      const frame = candidates[Math.floor(rng() * candidates.length)]!;
      const pos = Math.floor(rng() * (frame.length * 8 - 16));
      const len = 1 + Math.floor(rng() * 16);
      for (let b = pos; b < pos + len; b++) if (b === pos || rng() < 0.5) frame[b >> 3] = frame[b >> 3]! ^ (1 << (b & 7));
      t.host.send(frame);
      t.host.send(send('PING', {})); // resync and keep the lease
      corrupted++;
      const after = [OUTPUT.tens1, OUTPUT.ultrasound, OUTPUT.pad].map((o) => sim.outputValue(o));
      expect(after).toEqual(before);
      expect(sim.faultCodes()).toEqual([]);
    });
    expect(corrupted).toBeGreaterThan(100);
    expect(sim.stats.crcErrors + sim.stats.framingErrors).toBeGreaterThan(0);
  });

  it('answers random well-formed commands without throwing', () => {
    const rng = createRng(5);
    const { clock, sim, t } = sessionBoard();
    const ids = [0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16];
    bounded(10_000, (i) => {
      const id = ids[Math.floor(rng() * ids.length)]!;
      const len = (frameLengthOf(id) ?? 6) - 5;
      const payload = new Uint8Array(len);
      payload[0] = id;
      for (let k = 1; k < len; k++) payload[k] = Math.floor(rng() * 256);
      expect(decodeMessage(payload)).not.toBeNull();
      t.host.send(encodeFrame(i & 0xff, payload));
      clock.advance(rng() * 30);
      expect(sim.outputValue(OUTPUT.tens1)).toBeLessThanOrEqual(800);
    });
  });
});

describe('fuzz: protocol loader', () => {
  const texts = listBuiltins().map((b) => readFileSync(b.file, 'utf8'));

  function load(text: string, file: string) {
    const parsed = parseProtocolText(text, file);
    if (!parsed.ok) return parsed;
    return validateProtocolData(parsed.data, { file, locate: parsed.locate });
  }

  it('never throws on mutated protocol files; every rejection names a path or a syntax position', () => {
    const rng = createRng(6);
    const n = bounded(800, () => {
      const base = texts[Math.floor(rng() * texts.length)]!;
      const chars = [...base];
      const edits = 1 + Math.floor(rng() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rng() * chars.length);
        const r = rng();
        if (r < 0.3) chars.splice(at, 1 + Math.floor(rng() * 5));
        else if (r < 0.6) chars.splice(at, 0, String.fromCharCode(32 + Math.floor(rng() * 95)));
        else if (r < 0.8) chars[at] = String(Math.floor(rng() * 10));
        else chars.splice(at, 0, ['-', ':', '{', '[', '"', '\n', '999999', '-1', 'NaN', '1e309'][Math.floor(rng() * 10)]!);
      }
      const file = rng() < 0.5 ? 'fuzz.yaml' : 'fuzz.json';
      const result = load(chars.join(''), file);
      if (!result.ok) {
        expect(result.errors.length).toBeGreaterThan(0);
        for (const issue of result.errors) expect(typeof issue.message).toBe('string');
      } else {
        expect(result.plan.totalMs).toBeGreaterThan(0);
        expect(Number.isFinite(result.plan.totalMs)).toBe(true);
      }
    });
    expect(n).toBeGreaterThan(100);
  });

  it('never throws on random JSON values', () => {
    const rng = createRng(7);
    const value = (depth: number): unknown => {
      const r = rng();
      if (depth > 3 || r < 0.3) return [null, true, 0, -1, 1e308, 'x', '', 3.5][Math.floor(rng() * 8)];
      if (r < 0.6) return Array.from({ length: Math.floor(rng() * 4) }, () => value(depth + 1));
      const keys = ['id', 'name', 'steps', 'tens', 'thermal', 'ultrasound', 'parallel', 'prompt', 'amplitudeMa', 'durationS', 'mode', 'hot', 'cold'];
      return Object.fromEntries(Array.from({ length: Math.floor(rng() * 5) }, () => [keys[Math.floor(rng() * keys.length)]!, value(depth + 1)]));
    };
    bounded(5_000, () => {
      const r = validateProtocolData(value(0), { file: 'random.json' });
      if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
    });
  });
});
