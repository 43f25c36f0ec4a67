import { afterEach, describe, expect, it } from 'vitest';
import pty from 'node-pty';
import { RealClock } from '../../src/clock.js';
import type { BoardEvent } from '../../src/drivers/board.js';
import { FirmataBoard, FirmataConnectError, FIRMATA_BENCH_WARNING } from '../../src/drivers/firmata-board.js';
import { serveFirmataOnPty, type FirmataPty } from '../../sim/firmata-pty.js';

const TENS = { rateHz: 100, pulseWidthUs: 100, waveform: 'symmetric-biphasic' as const, electrodeAreaCm2: 25, highDensityAcknowledged: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function rig(opts: { pad?: { maxHeatCPerS?: number; sensorLagS?: number } } = {}) {
  const clock = new RealClock();
  const sim: FirmataPty = serveFirmataOnPty({ clock, ...(opts.pad ? { pad: opts.pad } : {}) });
  cleanups.push(() => sim.close());
  const board = await FirmataBoard.connect(clock, { path: sim.path, connectTimeoutMs: 3000 });
  cleanups.push(() => board.close());
  const events: BoardEvent[] = [];
  board.subscribe((e) => events.push(e));
  return { clock, sim, board, events, wire: sim.board };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('FirmataBoard against the simulated StandardFirmata on a pty', () => {
  it('connects, handshakes through johnny-five and sets every pin up at 0', async () => {
    const { board, wire } = await rig();
    expect(board.info).toMatchObject({ kind: 'firmata', timing: 'host', tensChannels: 2, hasUltrasound: true, hasPad: true, firmware: 'StandardFirmata.ino 2.5' });
    expect(FIRMATA_BENCH_WARNING).toMatch(/bench only/);
    await until(() => wire.pinMode(2) === 0x0b, 1000); // the set-up bytes are on their way when connect resolves
    expect(wire.pinMode(9)).toBe(3); // PWM
    expect(wire.pinMode(10)).toBe(3);
    expect(wire.pinMode(4)).toBe(1); // heater: output
    expect(wire.pinMode(2)).toBe(0x0b); // stop: input with pull-up
    expect(wire.pinValue(9)).toBe(0);
  }, 10000);

  it('a scheduled set-point and a ramp produce the expected PWM writes, host-timed', async () => {
    const { board, wire, clock, events } = await rig();
    board.configureTens('tens1', TENS);
    board.configureUltrasound({ frequencyMHz: 1, dutyCyclePct: 100, eraCm2: 5 });
    // Ultrasound SET 1.5 W/cm² → duty round(1.5/3·255) = 128, enable pin 7 high.
    const tSet = board.boardNow() + 150;
    board.set('ultrasound', tSet, 1.5);
    // TENS ramp 0 → 4 mA over 400 ms (10 mA/s, the slew limit) → duty 0 → round(4/80·255) = 13.
    const tRamp = board.boardNow() + 200;
    board.ramp('tens1', tRamp, 0, 4, 400);
    await until(() => events.some((e) => e.type === 'applied' && e.output === 'tens1' && e.action === 'set'), 2000);
    await sleep(30);
    const us = wire.writesTo(11);
    const usSet = us.find((w) => w.value === 128)!;
    expect(usSet).toBeDefined();
    expect(usSet.tMs - tSet).toBeGreaterThanOrEqual(0);
    expect(usSet.tMs - tSet).toBeLessThan(250); // host-timed: on time within the event loop's jitter (bench measures it)
    expect(wire.pinValue(7)).toBe(1);
    const tens = wire.writesTo(9, tRamp);
    const values = tens.map((w) => w.value);
    expect(values.at(-1)).toBe(13);
    expect(values).toEqual([...values].sort((a, b) => a - b)); // monotonic
    expect(values.length).toBeGreaterThanOrEqual(3); // interpolated at 50 ms steps, not one jump (fewer if the host stalls)
    const first = tens[0]!;
    expect(first.tMs - tRamp).toBeLessThan(250);
    expect(tens.at(-1)!.tMs - (tRamp + 400)).toBeLessThan(250);
    expect(tens.at(-1)!.tMs - (tRamp + 400)).toBeGreaterThan(-100);
    // Applied events carry the host-timed board clock.
    const ramp = events.find((e) => e.type === 'applied' && e.action === 'ramp');
    expect(ramp).toMatchObject({ output: 'tens1', boardMs: tRamp, value: 4, durationMs: 400 });
    void clock;
  }, 10000);

  it('a TENS SET is followed at the slew limit, and out-of-limit and late commands are refused', async () => {
    const { board, events } = await rig();
    board.configureTens('tens1', TENS);
    board.set('tens1', board.boardNow() + 50, 2);
    board.set('tens1', board.boardNow() + 50, 90);
    board.set('tens1', board.boardNow() - 100, 1);
    board.ramp('tens1', board.boardNow() + 50, 0, 20, 100);
    await until(() => events.filter((e) => e.type === 'refused').length >= 3, 1000);
    const refused = events.filter((e) => e.type === 'refused').map((e) => e.type === 'refused' && e.status);
    expect(refused).toEqual(['OUT_OF_LIMIT', 'LATE', 'OUT_OF_LIMIT']);
    await until(() => events.some((e) => e.type === 'applied' && e.action === 'ramp'), 1000);
    expect(events.find((e) => e.type === 'applied' && e.action === 'ramp')).toMatchObject({ value: 2, durationMs: 200 });
  }, 10000);

  it('the stop input latches STOP_INPUT, cuts every output pin to 0 and refuses commands until CLEAR', async () => {
    const { board, wire, events } = await rig();
    board.configureTens('tens1', TENS);
    board.configureTens('tens2', TENS);
    board.configureUltrasound({ frequencyMHz: 3, dutyCyclePct: 50, eraCm2: 5 });
    const t = board.boardNow() + 60;
    board.ramp('tens1', t, 0, 2, 200);
    board.ramp('tens2', t, 0, 2, 200);
    board.set('ultrasound', t, 1);
    board.set('pad', t, 39);
    await until(() => wire.pinValue(9) > 0 && wire.pinValue(11) > 0 && wire.pinValue(4) === 1, 2000);
    wire.setStop(true);
    await until(() => events.some((e) => e.type === 'fault'), 1000);
    expect(events.find((e) => e.type === 'fault')).toMatchObject({ code: 'STOP_INPUT', output: 'all' });
    await sleep(50);
    for (const pin of [9, 10, 11, 7, 4, 8]) expect(wire.pinValue(pin), `pin ${pin}`).toBe(0);
    board.set('tens1', board.boardNow() + 50, 1);
    await until(() => events.some((e) => e.type === 'refused'), 500);
    expect(events.find((e) => e.type === 'refused')).toMatchObject({ status: 'FAULT_LATCHED' });
    board.clear('all');
    await until(() => events.filter((e) => e.type === 'refused').length === 2, 500);
    expect(events.filter((e) => e.type === 'refused')[1]).toMatchObject({ status: 'CAUSE_PRESENT' });
    wire.setStop(false);
    await sleep(100);
    board.clear('all');
    await until(() => events.some((e) => e.type === 'faultCleared'), 500);
  }, 10000);

  it('lead-off cuts that channel only, latches LEAD_OFF, and reports causeGone when contact returns', async () => {
    const { board, wire, events } = await rig();
    board.configureTens('tens1', TENS);
    board.configureTens('tens2', TENS);
    const t = board.boardNow() + 60;
    board.ramp('tens1', t, 0, 2, 200);
    board.ramp('tens2', t, 0, 2, 200);
    await until(() => wire.pinValue(9) > 0 && wire.pinValue(10) > 0, 2000);
    wire.setElectrodeContact(0, false); // digital sense on pin 12
    await until(() => events.some((e) => e.type === 'fault'), 1000);
    expect(events.find((e) => e.type === 'fault')).toMatchObject({ code: 'LEAD_OFF', output: 'tens1' });
    await sleep(30);
    expect(wire.pinValue(9)).toBe(0);
    expect(wire.pinValue(10)).toBeGreaterThan(0);
    wire.setElectrodeContact(0, true);
    await until(() => events.some((e) => e.type === 'causeGone'), 1000);
    // Channel 2 uses the analog sense (A1): an open circuit there cuts it too.
    wire.setElectrodeOhm(1, null);
    await until(() => events.filter((e) => e.type === 'fault').length === 2, 1000);
    expect(events.filter((e) => e.type === 'fault')[1]).toMatchObject({ code: 'LEAD_OFF', output: 'tens2' });
    await sleep(30);
    expect(wire.pinValue(10)).toBe(0);
  }, 10000);

  it('host-emulated lease: a host stall longer than the lease latches HOST_TIMEOUT and cuts the outputs', async () => {
    const { board, wire, events } = await rig();
    board.configureTens('tens1', TENS);
    board.ramp('tens1', board.boardNow() + 60, 0, 3, 300);
    await until(() => wire.pinValue(9) > 0, 2000);
    const end = performance.now() + 600; // block the event loop past the 400 ms lease
    while (performance.now() < end) { /* a stalled host */ }
    await until(() => events.some((e) => e.type === 'fault'), 1000);
    expect(events.find((e) => e.type === 'fault')).toMatchObject({ code: 'HOST_TIMEOUT', output: 'all' });
    await sleep(30);
    expect(wire.pinValue(9)).toBe(0);
  }, 10000);

  it('runs the pad loop from the thermistor and reports padAtTarget and telemetry at 4 Hz', async () => {
    const { board, wire, events } = await rig({ pad: { maxHeatCPerS: 4, sensorLagS: 0.2 } });
    const t0 = performance.now();
    board.set('pad', board.boardNow() + 50, 33);
    await until(() => events.some((e) => e.type === 'padAtTarget'), 4000);
    expect(wire.writesTo(4).some((w) => w.value === 1)).toBe(true);
    const tel = events.filter((e) => e.type === 'telemetry');
    const rate = tel.length / ((performance.now() - t0) / 1000);
    expect(rate).toBeGreaterThan(2.5);
    expect(rate).toBeLessThan(5.5);
    const last = tel.at(-1);
    expect(last?.type === 'telemetry' && last.telemetry.padC).toBeGreaterThan(31.5);
  }, 10000);

  it('a missing port fails at once, listing the ports that exist', async () => {
    const t0 = performance.now();
    const p = FirmataBoard.connect(new RealClock(), { path: '/dev/ttyACM97', connectTimeoutMs: 2000, listPorts: async () => ['/dev/ttyUSB0', '/dev/ttyACM1'] });
    await expect(p).rejects.toThrow(FirmataConnectError);
    await expect(p).rejects.toThrow('no serial port /dev/ttyACM97: serial ports present: /dev/ttyUSB0, /dev/ttyACM1');
    expect(performance.now() - t0).toBeLessThan(2000); // at once: no connect timeout waited out
    // The default lister works here too (no udevadm in containers: it scans /dev).
    await expect(FirmataBoard.connect(new RealClock(), { path: '/dev/ttyACM97' })).rejects.toThrow(/no serial port \/dev\/ttyACM97: (serial ports present|no serial ports were found)/);
  });

  it('a silent port (a pty with nothing behind it) fails within the connect timeout with a clear message', async () => {
    const t = (pty as unknown as { open(o: object): { ptsName: string; _slave: { pause(): void; destroy(): void; _read: () => void; _handle?: { readStop(): void } }; _master: { destroy(): void; on(e: string, f: () => void): void } } }).open({ encoding: null });
    t._slave.pause(); t._slave._read = () => {}; t._slave._handle?.readStop();
    t._master.on('error', () => {});
    cleanups.push(() => { t._slave.destroy(); t._master.destroy(); });
    const t0 = performance.now();
    await expect(FirmataBoard.connect(new RealClock(), { path: t.ptsName, connectTimeoutMs: 1000 })).rejects.toThrow(/no Firmata answer from \/dev\/pts\/\d+ within 1000 ms: check that the board runs StandardFirmata/);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(3000);
  });

  it('a silent simulated board fails the same way', async () => {
    const sim = serveFirmataOnPty({ silent: true });
    cleanups.push(() => sim.close());
    await expect(FirmataBoard.connect(new RealClock(), { path: sim.path, connectTimeoutMs: 800 })).rejects.toThrow(FirmataConnectError);
    expect(sim.board.stats.bytesIn).toBeGreaterThan(0); // the driver did knock
  });
});
