/**
 * The Firmata driver (johnny-five + firmata-io) against the simulated
 * StandardFirmata, byte for byte, on a virtual clock: the driver, firmata-io,
 * johnny-five and the board share one clock through an in-process stream
 * (sim/firmata-stream.ts), so timing is exact and a loaded machine changes
 * nothing. (The pty path, in real time, is tests/realtime/firmata-pty.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, VirtualClock } from '../../src/clock.js';
import type { BoardEvent } from '../../src/drivers/board.js';
import { ConnectError } from '../../src/drivers/board.js';
import { FirmataBoard, FirmataConnectError } from '../../src/drivers/firmata-board.js';
import { serveFirmataInProcess } from '../../sim/firmata-stream.js';

const TENS = { rateHz: 100, pulseWidthUs: 100, waveform: 'symmetric-biphasic' as const, electrodeAreaCm2: 25, highDensityAcknowledged: false };

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** Run the virtual clock until the promise settles (the connect handshake goes through johnny-five's event turns). */
async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    if (!clock.step()) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setImmediate(r));
  }
  return p;
}

/** Run the virtual clock until cond() holds; fail if it does not within `withinMs` of virtual time. */
function runUntil(clock: VirtualClock, cond: () => boolean, withinMs: number): void {
  const limit = clock.now() + withinMs;
  if (!clock.runWhile(() => !cond(), limit) || !cond()) throw new Error(`not within ${withinMs} ms of board time`);
}

/** A host clock that can stall: time jumps ahead and every timer fires late, as on a blocked event loop. */
class StallingClock implements Clock {
  private offset = 0;
  constructor(readonly inner: VirtualClock) {}
  now(): number {
    return this.inner.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number) {
    return this.inner.setTimeout(fn, ms);
  }
  clearTimeout(id: number): void {
    this.inner.clearTimeout(id);
  }
  stall(ms: number): void {
    this.offset += ms;
  }
}

async function rig(opts: { pad?: { maxHeatCPerS?: number; sensorLagS?: number }; hostClock?: (c: VirtualClock) => Clock } = {}) {
  const clock = new VirtualClock();
  const host = opts.hostClock?.(clock) ?? clock;
  const sim = serveFirmataInProcess(clock, opts.pad ? { pad: opts.pad } : {});
  cleanups.push(() => sim.close());
  const bytes: { dir: 'out' | 'in'; bytes: Uint8Array }[] = [];
  const board = await settle(
    clock,
    FirmataBoard.connect(host, { path: 'in-process', port: sim.port, connectTimeoutMs: 3000, traceBytes: (dir, b) => bytes.push({ dir, bytes: b }) }),
  );
  cleanups.push(() => settle(clock, board.close()));
  const events: BoardEvent[] = [];
  board.subscribe((e) => events.push(e));
  return { clock, host, sim, board, events, wire: sim.board, bytes };
}

describe('FirmataBoard against the simulated StandardFirmata, on a virtual clock', () => {
  it('connects, handshakes through johnny-five and sets every pin up at 0', async () => {
    const { board, wire, clock, bytes } = await rig();
    expect(board.info).toMatchObject({
      kind: 'firmata',
      timing: 'host',
      tensChannels: 2,
      hasUltrasound: true,
      hasPad: true,
      firmware: 'StandardFirmata.ino 2.5',
    });
    runUntil(clock, () => wire.pinMode(2) === 0x0b, 100); // the set-up bytes are on the line when connect resolves
    expect(wire.pinMode(9)).toBe(3); // PWM
    expect(wire.pinMode(10)).toBe(3);
    expect(wire.pinMode(4)).toBe(1); // heater: output
    expect(wire.pinMode(2)).toBe(0x0b); // stop: input with pull-up
    expect(wire.pinValue(9)).toBe(0);
    // --trace sees the real bytes: the board's version report first, the host's SET_PIN_MODE 9 PWM among the writes.
    expect([...bytes.find((b) => b.dir === 'in')!.bytes.slice(0, 3)]).toEqual([0xf9, 2, 5]);
    expect(bytes.some((b) => b.dir === 'out' && Buffer.from(b.bytes).includes(Buffer.from([0xf4, 9, 3])))).toBe(true);
    clock.advance(100); // let the line empty
    expect(bytes.filter((b) => b.dir === 'out').reduce((n, b) => n + b.bytes.length, 0)).toBe(wire.stats.bytesIn);
    expect(bytes.filter((b) => b.dir === 'in').reduce((n, b) => n + b.bytes.length, 0)).toBe(wire.stats.bytesOut);
  });

  it('a scheduled set-point and a ramp produce the expected PWM writes, on time', async () => {
    const { board, wire, clock, events } = await rig();
    board.configureTens('tens1', TENS);
    board.configureUltrasound({ frequencyMHz: 1, dutyCyclePct: 100, eraCm2: 5 });
    // Ultrasound SET 1.5 W/cm² → duty round(1.5/3·255) = 128, enable pin 7 high.
    const tSet = board.boardNow() + 150;
    board.set('ultrasound', tSet, 1.5);
    // TENS ramp 0 → 4 mA over 400 ms (10 mA/s, the slew limit) → duty 0 → round(4/80·255) = 13.
    const tRamp = board.boardNow() + 200;
    board.ramp('tens1', tRamp, 0, 4, 400);
    runUntil(clock, () => clock.now() > tRamp + 450, 1000);
    const usSet = wire.writesTo(11).find((w) => w.value === 128)!;
    expect(usSet).toBeDefined();
    // Written at tSet; the board has it once its 3 bytes crossed the line (57600 baud: 0.52 ms).
    expect(usSet.tMs - tSet).toBeGreaterThanOrEqual(0);
    expect(usSet.tMs - tSet).toBeLessThan(2);
    expect(wire.pinValue(7)).toBe(1);
    const tens = wire.writesTo(9, tRamp);
    const values = tens.map((w) => w.value);
    expect(values.at(-1)).toBe(13);
    expect(values).toEqual([...values].sort((a, b) => a - b)); // monotonic
    expect(values.length).toBeGreaterThanOrEqual(7); // interpolated at 50 ms steps over 400 ms, not one jump
    expect(tens[0]!.tMs - tRamp).toBeLessThan(52);
    // the board core's slew follows a ramp at exactly the slew limit one 0.1 mA step behind
    // (10 ms at 10 mA/s), as the firmware does: the last write is that much after the ramp's end
    expect(tens.at(-1)!.tMs - (tRamp + 400)).toBeGreaterThanOrEqual(0);
    expect(tens.at(-1)!.tMs - (tRamp + 400)).toBeLessThan(10 + 2);
    const ramp = events.find((e) => e.type === 'applied' && e.action === 'ramp');
    expect(ramp).toMatchObject({ output: 'tens1', boardMs: tRamp, value: 4, durationMs: 400 });
  });

  it('a TENS SET is followed at the slew limit, and out-of-limit and late commands are refused', async () => {
    const { board, events, clock } = await rig();
    board.configureTens('tens1', TENS);
    board.set('tens1', board.boardNow() + 50, 2);
    board.set('tens1', board.boardNow() + 50, 90);
    board.set('tens1', board.boardNow() - 100, 1);
    board.ramp('tens1', board.boardNow() + 50, 0, 20, 100);
    runUntil(clock, () => events.filter((e) => e.type === 'refused').length >= 3, 1000);
    const refused = events.filter((e) => e.type === 'refused').map((e) => e.type === 'refused' && e.status);
    expect(refused).toEqual(['OUT_OF_LIMIT', 'LATE', 'OUT_OF_LIMIT']);
    runUntil(clock, () => events.some((e) => e.type === 'applied' && e.action === 'ramp'), 1000);
    expect(events.find((e) => e.type === 'applied' && e.action === 'ramp')).toMatchObject({ value: 2, durationMs: 200 });
  });

  it('the stop input latches STOP_INPUT, cuts every output pin to 0 and refuses commands until CLEAR', async () => {
    const { board, wire, events, clock } = await rig();
    board.configureTens('tens1', TENS);
    board.configureTens('tens2', TENS);
    board.configureUltrasound({ frequencyMHz: 3, dutyCyclePct: 50, eraCm2: 5 });
    const t = board.boardNow() + 60;
    board.ramp('tens1', t, 0, 2, 200);
    board.ramp('tens2', t, 0, 2, 200);
    board.set('ultrasound', t, 1);
    board.set('pad', t, 39);
    runUntil(clock, () => wire.pinValue(9) > 0 && wire.pinValue(11) > 0 && wire.pinValue(4) === 1, 2000);
    wire.setStop(true);
    runUntil(clock, () => events.some((e) => e.type === 'fault'), 1000);
    expect(events.find((e) => e.type === 'fault')).toMatchObject({ code: 'STOP_INPUT', output: 'all' });
    clock.advance(50);
    for (const pin of [9, 10, 11, 7, 4, 8]) expect(wire.pinValue(pin), `pin ${pin}`).toBe(0);
    board.set('tens1', board.boardNow() + 50, 1);
    runUntil(clock, () => events.some((e) => e.type === 'refused'), 500);
    expect(events.find((e) => e.type === 'refused')).toMatchObject({ status: 'FAULT_LATCHED' });
    board.clear('all');
    runUntil(clock, () => events.filter((e) => e.type === 'refused').length === 2, 500);
    expect(events.filter((e) => e.type === 'refused')[1]).toMatchObject({ status: 'CAUSE_PRESENT' });
    wire.setStop(false);
    clock.advance(100);
    board.clear('all');
    runUntil(clock, () => events.some((e) => e.type === 'faultCleared'), 500);
  });

  it('lead-off cuts that channel only, latches LEAD_OFF, and reports causeGone when contact returns', async () => {
    const { board, wire, events, clock } = await rig();
    board.configureTens('tens1', TENS);
    board.configureTens('tens2', TENS);
    const t = board.boardNow() + 60;
    board.ramp('tens1', t, 0, 2, 200);
    board.ramp('tens2', t, 0, 2, 200);
    runUntil(clock, () => wire.pinValue(9) > 0 && wire.pinValue(10) > 0, 2000);
    wire.setElectrodeContact(0, false); // digital sense on pin 12
    runUntil(clock, () => events.some((e) => e.type === 'fault'), 1000);
    expect(events.find((e) => e.type === 'fault')).toMatchObject({ code: 'LEAD_OFF', output: 'tens1' });
    clock.advance(30);
    expect(wire.pinValue(9)).toBe(0);
    expect(wire.pinValue(10)).toBeGreaterThan(0);
    wire.setElectrodeContact(0, true);
    runUntil(clock, () => events.some((e) => e.type === 'causeGone'), 1000);
    // Channel 2 uses the analog sense (A1): an open circuit there cuts it too.
    wire.setElectrodeOhm(1, null);
    runUntil(clock, () => events.filter((e) => e.type === 'fault').length === 2, 1000);
    expect(events.filter((e) => e.type === 'fault')[1]).toMatchObject({ code: 'LEAD_OFF', output: 'tens2' });
    clock.advance(30);
    expect(wire.pinValue(10)).toBe(0);
  });

  it('host-emulated lease: a host stall longer than the lease latches HOST_TIMEOUT and cuts the outputs; a shorter one does not', async () => {
    let host!: StallingClock;
    const { board, wire, events, clock } = await rig({ hostClock: (c) => (host = new StallingClock(c)) });
    board.configureTens('tens1', TENS);
    board.ramp('tens1', board.boardNow() + 60, 0, 3, 300);
    runUntil(clock, () => wire.pinValue(9) > 0, 2000);
    host.stall(250); // under the 400 ms lease
    clock.advance(500);
    expect(events.some((e) => e.type === 'fault')).toBe(false);
    host.stall(600); // the event loop blocked past the lease
    runUntil(clock, () => events.some((e) => e.type === 'fault'), 1000);
    expect(events.find((e) => e.type === 'fault')).toMatchObject({ code: 'HOST_TIMEOUT', output: 'all' });
    clock.advance(30);
    expect(wire.pinValue(9)).toBe(0);
  });

  it('runs the pad loop from the thermistor and reports padAtTarget, and telemetry at 4 Hz of board time', async () => {
    const { board, wire, events, clock } = await rig({ pad: { maxHeatCPerS: 4, sensorLagS: 0.2 } });
    const t0 = clock.now();
    board.set('pad', board.boardNow() + 50, 33);
    runUntil(clock, () => events.some((e) => e.type === 'padAtTarget'), 10_000);
    expect(wire.writesTo(4).some((w) => w.value === 1)).toBe(true);
    clock.advance(2000);
    const tel = events.filter((e) => e.type === 'telemetry');
    const rate = tel.length / ((clock.now() - t0) / 1000);
    expect(rate).toBeGreaterThan(3.7);
    expect(rate).toBeLessThan(4.3);
    const last = tel.at(-1);
    expect(last?.type === 'telemetry' && last.telemetry.outputs.pad?.tempC).toBeGreaterThan(31.5);
    expect(last?.type === 'telemetry' && last.telemetry.outputs.pad?.tempC).toBeLessThan(34.5);
  });
});

describe('FirmataBoard connect failures: one ConnectError, never a hang', () => {
  it('a missing port fails at once, listing the ports that exist', async () => {
    // A virtual clock nobody advances: the connect timeout cannot fire, so a rejection here did not wait for it.
    const p = FirmataBoard.connect(new VirtualClock(), {
      path: '/dev/ttyACM97',
      connectTimeoutMs: 2000,
      listPorts: async () => ['/dev/ttyUSB0', '/dev/ttyACM1'],
    });
    await expect(p).rejects.toThrow(FirmataConnectError);
    await expect(p).rejects.toBeInstanceOf(ConnectError);
    await expect(p).rejects.toThrow('no serial port /dev/ttyACM97: serial ports present: /dev/ttyUSB0, /dev/ttyACM1');
    // The default lister works here too (no udevadm in containers: it scans /dev).
    await expect(FirmataBoard.connect(new VirtualClock(), { path: '/dev/ttyACM97' })).rejects.toThrow(
      /no serial port \/dev\/ttyACM97: (serial ports present|no serial ports were found)/,
    );
  });

  it('a silent board fails at the connect timeout of board time, with a ConnectError, and closes its port', async () => {
    const clock = new VirtualClock();
    const sim = serveFirmataInProcess(clock, { silent: true });
    cleanups.push(() => sim.close());
    const p = FirmataBoard.connect(clock, { path: 'in-process', port: sim.port, connectTimeoutMs: 800 });
    const err = await settle(clock, p).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/no Firmata answer from in-process within 800 ms: check that the board runs StandardFirmata/);
    expect(clock.now()).toBeGreaterThanOrEqual(800);
    expect(clock.now()).toBeLessThan(801); // the timeout is on the board clock: exactly when it was due
    expect(sim.port.isOpen).toBe(false); // and let go of the port
  });
});
