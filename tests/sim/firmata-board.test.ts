import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { loadFirmataPins, thermistorC } from '../../src/drivers/firmata-pins.js';
import { FIRMATA, PIN_MODE, SimFirmataBoard } from '../../sim/firmata-board.js';

/** The simulated StandardFirmata on an in-process byte link, on a virtual clock. */
function rig() {
  const clock = new VirtualClock();
  const rx: number[] = [];
  let push: (b: Uint8Array) => void = () => {};
  const board = new SimFirmataBoard(clock, {
    write: (b) => rx.push(...b),
    onData: (cb) => {
      push = cb;
    },
  });
  const send = (...bytes: number[]) => push(Uint8Array.from(bytes));
  return { clock, board, rx, send };
}

describe('simulated StandardFirmata (Uno)', () => {
  it('answers REPORT_VERSION and QUERY_FIRMWARE', () => {
    const { rx, send } = rig();
    send(FIRMATA.REPORT_VERSION);
    expect(rx.splice(0)).toEqual([0xf9, 2, 5]);
    send(0xf0, FIRMATA.QUERY_FIRMWARE, 0xf7);
    const r = rx.splice(0);
    expect(r.slice(0, 4)).toEqual([0xf0, 0x79, 2, 5]);
    const name = String.fromCharCode(...r.slice(4, -1).filter((_, i) => i % 2 === 0));
    expect(name).toBe('StandardFirmata.ino');
  });

  it('reports 20 pins with PWM on 3, 5, 6, 9, 10, 11 and analog on A0–A5', () => {
    const { rx, send } = rig();
    send(0xf0, FIRMATA.CAPABILITY_QUERY, 0xf7);
    const r = rx.splice(0);
    expect(r[1]).toBe(FIRMATA.CAPABILITY_RESPONSE);
    const pins: number[][] = [[]];
    for (const b of r.slice(2, -1)) {
      if (b === 0x7f) pins.push([]);
      else pins.at(-1)!.push(b);
    }
    pins.pop();
    expect(pins).toHaveLength(20);
    const modes = (p: number) => pins[p]!.filter((_, i) => i % 2 === 0);
    expect([...Array(20).keys()].filter((p) => modes(p).includes(PIN_MODE.PWM))).toEqual([3, 5, 6, 9, 10, 11]);
    expect([...Array(20).keys()].filter((p) => modes(p).includes(PIN_MODE.ANALOG))).toEqual([14, 15, 16, 17, 18, 19]);
    send(0xf0, FIRMATA.ANALOG_MAPPING_QUERY, 0xf7);
    const m = rx.splice(0);
    expect(m.slice(2, -1)).toEqual([...Array(14).fill(0x7f), 0, 1, 2, 3, 4, 5]);
  });

  it('records pin modes, PWM (plain and extended analog) and digital writes with their time; answers pin state', () => {
    const { clock, board, rx, send } = rig();
    send(FIRMATA.SET_PIN_MODE, 9, PIN_MODE.PWM);
    clock.advance(10);
    send(FIRMATA.ANALOG_MESSAGE | 9, 200 & 0x7f, 200 >> 7);
    send(0xf0, FIRMATA.EXTENDED_ANALOG, 9, 0x05, 0x00, 0xf7);
    send(FIRMATA.SET_PIN_MODE, 4, PIN_MODE.OUTPUT);
    send(FIRMATA.DIGITAL_MESSAGE | 0, 0x10, 0); // pin 4 high
    send(FIRMATA.SET_DIGITAL_PIN_VALUE, 4, 0);
    expect(board.writes).toEqual([
      { tMs: 0, pin: 9, kind: 'mode', value: PIN_MODE.PWM },
      { tMs: 10, pin: 9, kind: 'pwm', value: 200 },
      { tMs: 10, pin: 9, kind: 'pwm', value: 5 },
      { tMs: 10, pin: 4, kind: 'mode', value: PIN_MODE.OUTPUT },
      { tMs: 10, pin: 4, kind: 'digital', value: 1 },
      { tMs: 10, pin: 4, kind: 'digital', value: 0 },
    ]);
    rx.splice(0);
    send(0xf0, FIRMATA.PIN_STATE_QUERY, 9, 0xf7);
    expect(rx.splice(0)).toEqual([0xf0, FIRMATA.PIN_STATE_RESPONSE, 9, PIN_MODE.PWM, 5, 0xf7]);
  });

  it('reports analog channels at the sampling interval, the thermistor through the driver conversion', () => {
    const { clock, rx, send } = rig();
    send(0xf0, FIRMATA.SAMPLING_INTERVAL, 100, 0, 0xf7);
    send(FIRMATA.REPORT_ANALOG | 0, 1);
    clock.advance(1000);
    const msgs = rx.splice(0);
    expect(msgs.length).toBe(30); // 10 reports of 3 bytes
    expect(msgs[0]).toBe(FIRMATA.ANALOG_MESSAGE | 0);
    const raw = msgs[1]! | (msgs[2]! << 7);
    expect(thermistorC(raw, loadFirmataPins().pad!.thermistor)).toBeCloseTo(31, 0); // the pad starts at 31 °C
  });

  it('heater pin drives the ThermalPad; stop and electrode inputs are reported as digital ports', () => {
    const { clock, board, rx, send } = rig();
    send(FIRMATA.SET_PIN_MODE, 4, PIN_MODE.OUTPUT);
    send(FIRMATA.SET_DIGITAL_PIN_VALUE, 4, 1);
    clock.advance(5000);
    expect(board.pad.surfaceC).toBeGreaterThan(33);
    send(FIRMATA.SET_PIN_MODE, 2, PIN_MODE.PULLUP);
    send(FIRMATA.REPORT_DIGITAL | 0, 1);
    expect(rx.splice(0)).toEqual([0x90, 0, 0]); // stop released: pin 2 low
    board.setStop(true);
    expect(rx.splice(0)).toEqual([0x90, 0x04, 0]);
    send(FIRMATA.SET_PIN_MODE, 12, PIN_MODE.PULLUP);
    send(FIRMATA.REPORT_DIGITAL | 1, 1);
    rx.splice(0);
    board.setElectrodeContact(0, false); // pin 12 goes high
    expect(rx.splice(0)).toEqual([0x91, 0x10, 0]);
  });
});
