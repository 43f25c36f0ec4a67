/**
 * The TENS pulse pin of the AVR firmware on simavr, edge by edge: burst trains and a
 * rate-modulated train, as the built-in tens-burst and tens-modulated protocols configure
 * them. The runner's `edges? pulses` gives every edge of PB1/PB2 in CPU cycles (16 per µs).
 *
 * Skips only when the AVR toolchain is absent locally; under CI=true a missing
 * toolchain fails (tests/firmware/pty.test.ts reports it).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT } from '../../src/drivers/wire/spec.js';
import { buildFirmware, CYCLES_PER_TICK, CYCLES_PER_US, parseEdges, toolchainAvailable, type FirmwareBoard } from '../../sim/firmware-runner.js';
import { HostLink } from '../conformance/scenarios.js';
import { bootFirmware, type BootedFirmware } from './boot.js';

const available = toolchainAvailable();
const ci = process.env.CI === 'true';

const tensConfig = (
  over: Partial<{ rateHz: number; pulseWidthUs: number; burstsPerS: number; pulsesPerBurst: number; modKind: number; modMinPct: number; modPeriodDs: number }>,
) => ({
  output: OUTPUT.tens1,
  rateHz: 100,
  pulseWidthUs: 200,
  waveform: 1,
  electrodeAreaCm2x10: 250,
  flags: 0,
  burstsPerS: 0,
  pulsesPerBurst: 0,
  modKind: 0,
  modMinPct: 100,
  modPeriodDs: 0,
  ...over,
});

/** Widths: every one exact. Timer1's compare units drive the pins, so no interrupt served at either edge (tick, UART) moves it. */
function checkWidths(widthsUs: number[], us: number): void {
  expect(widthsUs.length).toBeGreaterThan(0);
  for (const w of widthsUs) expect(Math.abs(w - us), `width ${w} µs`).toBeLessThanOrEqual(0.5);
}

describe.runIf(available || ci)('TENS burst and modulation on the AVR firmware (simavr pulse pin)', () => {
  beforeAll(async () => {
    await buildFirmware();
  }, 180_000);

  let running: BootedFirmware | undefined;
  afterEach(async () => {
    const r = running;
    running = undefined;
    await r?.close();
  });

  async function boot(): Promise<{ board: FirmwareBoard; h: HostLink }> {
    running = await bootFirmware();
    const { board, under: b } = running;
    const h = new HostLink(b);
    await h.hello();
    return { board, h };
  }

  /** Start ch1 at 10 mA (a 1 s ramp) at board time T, run `ms`, and return the pulse pin's rises and widths. */
  async function stimulate(board: FirmwareBoard, h: HostLink, ms: number) {
    await board.control('edges? pulses'); // forget what came before
    const T = (await h.boardNow()) + 300;
    await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: T, value: 100 }, 'OK');
    await h.idle(ms + 300);
    const rep = parseEdges(await board.control('edges? pulses'));
    const t1 = rep.edges.filter((e) => e.pin === 't1');
    expect(
      rep.edges.filter((e) => e.pin === 't2'),
      'ch2 stays idle',
    ).toEqual([]);
    const rises: number[] = [];
    const widthsUs: number[] = [];
    const amps: { cycle: number; pwm: number }[] = [];
    for (let i = 0; i < t1.length; i++) {
      const e = t1[i]!;
      if (e.level !== 1) continue;
      rises.push(e.cycle);
      if (e.amp !== undefined) amps.push({ cycle: e.cycle, pwm: e.amp });
      const fall = t1[i + 1];
      if (fall && fall.level === 0) widthsUs.push((fall.cycle - e.cycle) / CYCLES_PER_US);
    }
    return { rises, widthsUs, amps, startCycle: rep.epoch + T * CYCLES_PER_TICK };
  }

  it('burst 2/s × 7 pulses at 100 Hz: two trains of 7 pulses in a second, 10 ms apart inside a train', async () => {
    const { board, h } = await boot();
    await h.expectStatus('CONFIG_TENS', tensConfig({ burstsPerS: 2, pulsesPerBurst: 7 }), 'OK');
    const { rises, widthsUs, startCycle } = await stimulate(board, h, 1300);
    expect(rises.length, 'pulses').toBeGreaterThanOrEqual(14);
    const r0 = rises[0]!;
    const firstMs = (r0 - startCycle) / CYCLES_PER_TICK;
    expect(firstMs, 'first pulse after the SET').toBeGreaterThanOrEqual(0);
    expect(firstMs).toBeLessThanOrEqual(30);
    // ~1 s from the first pulse: exactly 2 trains of 7
    const second = rises.filter((c) => c - r0 < 0.99 * 16e6);
    const trains: number[][] = [];
    for (let i = 0; i < second.length; i++) {
      if (i === 0 || second[i]! - second[i - 1]! > 50 * 16_000) trains.push([]);
      trains.at(-1)!.push(second[i]!);
    }
    expect(trains.map((t) => t.length)).toEqual([7, 7]);
    for (const t of trains)
      for (let i = 1; i < t.length; i++) expect(Math.abs((t[i]! - t[i - 1]!) / CYCLES_PER_US - 10_000), 'pulse spacing in a train, µs').toBeLessThanOrEqual(10);
    const trainGapUs = (trains[1]![0]! - trains[0]![0]!) / CYCLES_PER_US;
    expect(Math.abs(trainGapUs - 500_000), `train spacing ${trainGapUs} µs`).toBeLessThanOrEqual(20);
    const quietUs = (trains[1]![0]! - trains[0]!.at(-1)!) / CYCLES_PER_US;
    expect(Math.abs(quietUs - 440_000), `gap between trains ${quietUs} µs`).toBeLessThanOrEqual(20);
    checkWidths(widthsUs, 200);
  }, 30_000);

  it('rate modulation 100 Hz → 50 % over 1 s: the pulse rate sweeps between 50 and 100 Hz, never above', async () => {
    const { board, h } = await boot();
    await h.expectStatus('CONFIG_TENS', tensConfig({ pulseWidthUs: 150, modKind: 1, modMinPct: 50, modPeriodDs: 10 }), 'OK');
    const { rises, widthsUs } = await stimulate(board, h, 2300);
    expect(rises.length, 'pulses').toBeGreaterThan(100);
    const rates = rises.slice(1).map((c, i) => ({ at: rises[i]!, hz: 16e6 / (c - rises[i]!) }));
    const hz = rates.map((r) => r.hz);
    expect(Math.max(...hz), 'fastest').toBeLessThanOrEqual(100.3);
    expect(Math.max(...hz), 'fastest').toBeGreaterThanOrEqual(98);
    expect(Math.min(...hz), 'slowest').toBeGreaterThanOrEqual(49.7);
    expect(Math.min(...hz), 'slowest').toBeLessThanOrEqual(52);
    // the slow stretches recur once per sweep period (1 s), centred half a period after the start
    const r0 = rises[0]!;
    const slow: number[][] = [];
    for (const r of rates.filter((x) => x.hz < 55)) {
      const last = slow.at(-1);
      if (!last || r.at - last.at(-1)! > 0.2 * 16e6) slow.push([r.at]);
      else last.push(r.at);
    }
    const centres = slow.map((s) => (s[0]! + s.at(-1)!) / 2);
    expect(centres.length, 'slow stretches in 2.3 s').toBeGreaterThanOrEqual(2);
    expect(Math.abs((centres[0]! - r0) / 16e6 - 0.5), `first slowest at ${(centres[0]! - r0) / 16e6} s`).toBeLessThanOrEqual(0.05);
    expect(Math.abs((centres[1]! - centres[0]!) / 16e6 - 1), 'sweep period, s').toBeLessThanOrEqual(0.05);
    checkWidths(widthsUs, 150);
  }, 30_000);

  it('width modulation 200 µs → 50 % over 1 s: the pulse widths sweep between 100 and 200 µs at the pin, never wider', async () => {
    const { board, h } = await boot();
    await h.expectStatus('CONFIG_TENS', tensConfig({ pulseWidthUs: 200, modKind: 2, modMinPct: 50, modPeriodDs: 10 }), 'OK');
    const { rises, widthsUs } = await stimulate(board, h, 2300);
    expect(rises.length, 'pulses').toBeGreaterThan(150);
    // the rate is untouched: 100 Hz
    const hz = rises.slice(1).map((c, i) => 16e6 / (c - rises[i]!));
    for (const f of hz) expect(Math.abs(f - 100), `rate ${f} Hz`).toBeLessThanOrEqual(1);
    expect(Math.max(...widthsUs), 'widest').toBeLessThanOrEqual(200 + 0.5);
    expect(Math.max(...widthsUs), 'widest').toBeGreaterThanOrEqual(195);
    expect(Math.min(...widthsUs), 'narrowest').toBeGreaterThanOrEqual(100 - 1);
    expect(Math.min(...widthsUs), 'narrowest').toBeLessThanOrEqual(105);
    // a triangle: about half of the pulses below the middle width (150 µs)
    const narrow = widthsUs.filter((w) => w < 150).length / widthsUs.length;
    expect(narrow).toBeGreaterThan(0.35);
    expect(narrow).toBeLessThan(0.65);
  }, 30_000);

  it('amplitude modulation 10 mA → 40 % over 1 s: each pulse starts with the amplitude PWM of its level, between 40 and 100 %', async () => {
    const { board, h } = await boot();
    await h.expectStatus('CONFIG_TENS', tensConfig({ pulseWidthUs: 200, modKind: 3, modMinPct: 40, modPeriodDs: 10 }), 'OK');
    const { amps, startCycle } = await stimulate(board, h, 2300);
    // after the 1 s slew to 10 mA: PWM 31 of 255 at 100 % (10 mA of 80 mA)
    const plateau = amps.filter((a) => a.cycle > startCycle + 1050 * CYCLES_PER_TICK).map((a) => a.pwm);
    expect(plateau.length, 'pulses on the plateau').toBeGreaterThan(80);
    expect(Math.max(...plateau), 'strongest pulse').toBe(31);
    expect(Math.min(...plateau), 'weakest pulse: 40 % of 31').toBeGreaterThanOrEqual(12);
    expect(Math.min(...plateau), 'weakest pulse: 40 % of 31').toBeLessThanOrEqual(14);
    expect(
      plateau.every((v) => v > 0),
      'no pulse at zero amplitude',
    ).toBe(true);
  }, 30_000);
});
