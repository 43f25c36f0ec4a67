/**
 * Fuzz tests, seeded and bounded (each stops after its iteration count or its
 * time budget, whichever comes first): random and mutated bytes into the frame
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

const BUDGET_MS = 8_000; // per test; the whole file stays well under 30 s

function bounded(iterations: number, body: (i: number) => void): number {
  const t0 = performance.now();
  let i = 0;
  for (; i < iterations && performance.now() - t0 < BUDGET_MS; i++) body(i);
  return i;
}

/** A transport pair without a line model: the board under fuzz gets bytes directly. */
function directTransport(): { host: { send(b: Uint8Array): void; received: Uint8Array[] }; board: Transport } {
  let sink: ((b: Uint8Array) => void) | undefined;
  const received: Uint8Array[] = [];
  return {
    host: { send: (b) => sink?.(b), received },
    board: { write: (b) => received.push(b), onData: (cb) => { sink = cb; }, onClose: () => undefined, close: async () => undefined },
  };
}

describe('fuzz: frame decoder', () => {
  it('never throws on random bytes, and every frame it yields has a valid CRC and length', () => {
    const rng = createRng(1);
    let frames = 0;
    const dec = new FrameDecoder((f) => {
      frames++;
      const whole = encodeFrame(f.seq, f.payload);
      expect(crc16(whole, 0, whole.length - 3)).toBe(whole[whole.length - 3]! | (whole[whole.length - 2]! << 8));
    }, frameLengthOf);
    const n = bounded(20_000, () => {
      const chunk = new Uint8Array(1 + Math.floor(rng() * 64));
      for (let k = 0; k < chunk.length; k++) chunk[k] = rng() < 0.1 ? 0x7e : Math.floor(rng() * 256);
      dec.push(chunk);
    });
    expect(n).toBeGreaterThan(1000);
    expect(dec.stats.framingErrors + dec.stats.crcErrors).toBeGreaterThan(0);
    void frames;
  });

  it('recovers every intact frame around mutated ones', () => {
    const rng = createRng(2);
    const good: number[] = [];
    const dec = new FrameDecoder((f) => good.push(f.seq), frameLengthOf);
    let sentIntact = 0;
    bounded(5_000, (i) => {
      const frame = encodeFrame(i & 0xff, encodeMessage('SET', { output: 0, atMs: i, value: i & 0x3ff }));
      if (rng() < 0.3) {
        // burst of up to 16 bits: CRC-16 detects every such error
        const pos = Math.floor(rng() * (frame.length * 8 - 16));
        const len = 1 + Math.floor(rng() * 16);
        for (let b = pos; b < pos + len; b++) if (rng() < 0.7 || b === pos) frame[b >> 3] = frame[b >> 3]! ^ (1 << (b & 7));
      } else sentIntact++;
      dec.push(frame);
    });
    // Every intact frame after a corrupted one is still found (resync is immediate), within a frame or two.
    expect(good.length).toBeGreaterThanOrEqual(sentIntact * 0.98);
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
    t.host.send(send('CONFIG_TENS', { output: 0, rateHz: 100, pulseWidthUs: 100, waveform: 1, electrodeAreaCm2x10: 250, flags: 0, burstsPerS: 0, pulsesPerBurst: 0, modKind: 0, modMinPct: 100, modPeriodDs: 0 }));
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
    const n = bounded(3_000, () => {
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
