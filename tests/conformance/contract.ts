/**
 * Conformance scenarios for the rest of docs/protocol.md: configuration rules, every
 * command's edge cases, the event order and content at each latch, the event queue's
 * overflow rule, framing recovery and sequence wrap. Run, like scenarios.ts, against the
 * simulated board (the core in WebAssembly) and the AVR firmware on simavr.
 */
import { expect } from 'vitest';
import { encodeFrame } from '../../src/drivers/wire/frame.js';
import { encodeMessage, type Message, type MessageOf } from '../../src/drivers/wire/messages.js';
import { BOARD_LIMITS, EVENT_KIND, FAULT, OUTPUT, STATUS } from '../../src/drivers/wire/spec.js';
import { HostLink, MARGIN_MS, near, tensConfig, tol, type BoardUnderTest, type Scenario } from './scenarios.js';

type Ev = MessageOf<'EVENT'>;
const isEvent = (m: Message, kind: keyof typeof EVENT_KIND): m is Ev => m.type === 'EVENT' && m.kind === EVENT_KIND[kind];

/** Events received since `from`, once each (resends left out), in order. */
function eventsSince(h: HostLink, from: number): Ev[] {
  const seen = new Set<number>();
  const out: Ev[] = [];
  for (const f of h.frames.slice(from)) {
    if (f.msg.type !== 'EVENT' || seen.has(f.msg.eventId)) continue;
    seen.add(f.msg.eventId);
    out.push(f.msg);
  }
  return out;
}

/** The cut at a board-wide latch: one APPLIED_OFF (with the cause) per driven output, then FAULT_LATCHED for 0xFF. */
async function expectBoardWideLatch(h: HostLink, from: number, code: number, driven: number[]): Promise<void> {
  const fault = await h.event('FAULT_LATCHED', { code, output: OUTPUT.all }, 1500, from);
  expect(fault, `FAULT_LATCHED ${code} for 0xFF`).toBeDefined();
  const evs = eventsSince(h, from);
  const latchAt = evs.indexOf(evs.find((e) => e.eventId === fault!.eventId)!);
  const offs = evs.filter((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.code === code);
  expect(offs.map((e) => e.output).sort(), 'one APPLIED_OFF per driven output, with the cause').toEqual([...driven].sort());
  for (const off of offs) {
    expect(evs.indexOf(off), 'APPLIED_OFF before FAULT_LATCHED').toBeLessThan(latchAt);
    expect(off.boardMs, 'cut and latch at the same board time').toBe(fault!.boardMs);
  }
}

async function driveTensAndUs(h: HostLink): Promise<void> {
  await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
  const T = (await h.boardNow()) + MARGIN_MS;
  await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: T, value: 30 }, 'OK');
  await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T, value: 100 }, 'OK');
  await h.event('APPLIED_SET', { output: OUTPUT.tens1, value: 30 }, 2000);
}

export const contractScenarios: Scenario[] = [
  {
    name: 'CONFIG_US: 1 or 3 MHz, a duty cycle from the list, a non-zero ERA; anything else OUT_OF_LIMIT',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('CONFIG_US', { frequencyMHz: 2, dutyCyclePct: 100, eraCm2x10: 50 }, 'OUT_OF_LIMIT');
      await h.expectStatus('CONFIG_US', { frequencyMHz: 1, dutyCyclePct: 15, eraCm2x10: 50 }, 'OUT_OF_LIMIT');
      await h.expectStatus('CONFIG_US', { frequencyMHz: 3, dutyCyclePct: 100, eraCm2x10: 0 }, 'OUT_OF_LIMIT');
      for (const d of [10, 20, 25, 33, 50, 100]) await h.expectStatus('CONFIG_US', { frequencyMHz: 3, dutyCyclePct: d, eraCm2x10: 50 }, 'OK');
    },
  },
  {
    name: 'CONFIG_TENS bursts: trains must fit in the second, 0 bursts/s means continuous with 0 pulses per burst; density counts burst pulses',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      const cfg = { ...tensConfig(OUTPUT.tens1, 100, 200), electrodeAreaCm2x10: 10 };
      await h.expectStatus('CONFIG_TENS', { ...cfg, burstsPerS: 20, pulsesPerBurst: 6 }, 'OUT_OF_LIMIT'); // 120 pulses/s at 100 Hz
      await h.expectStatus('CONFIG_TENS', { ...cfg, burstsPerS: 0, pulsesPerBurst: 5 }, 'OUT_OF_LIMIT');
      await h.expectStatus('CONFIG_TENS', { ...cfg, burstsPerS: 2, pulsesPerBurst: 0 }, 'OUT_OF_LIMIT');
      await h.expectStatus('CONFIG_TENS', { ...cfg, burstsPerS: 2, pulsesPerBurst: 7 }, 'OK');
      const at = (await h.boardNow()) + MARGIN_MS;
      // 14 pulses/s × 200 µs on 1 cm²: 40 mA is 2.1 mA/cm² RMS, above 2 without the acknowledgement flag
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: at, value: 400 }, 'OUT_OF_LIMIT');
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: at, value: 350 }, 'OK'); // 1.85 mA/cm²
    },
  },
  {
    name: 'RAMP on every output: RAMP_START at atMs (value = to, aux = duration), APPLIED_SET at the end',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await b.setPadC(30);
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens2), 'OK');
      const T = (await h.boardNow()) + MARGIN_MS;
      const from = h.frames.length;
      await h.expectStatus('RAMP', { output: OUTPUT.tens2, atMs: T, from: 0, to: 50, durationMs: 600 }, 'OK');
      await h.expectStatus('RAMP', { output: OUTPUT.ultrasound, atMs: T, from: 0, to: 150, durationMs: 600 }, 'OK');
      await h.expectStatus('RAMP', { output: OUTPUT.pad, atMs: T, from: 300, to: 350, durationMs: 600 }, 'OK');
      await h.expectStatus('RAMP', { output: OUTPUT.pad, atMs: T, from: 300, to: 450, durationMs: 600 }, 'OUT_OF_LIMIT');
      for (const [o, to] of [
        [OUTPUT.tens2, 50],
        [OUTPUT.ultrasound, 150],
        [OUTPUT.pad, 350],
      ] as const) {
        const start = await h.event('RAMP_START', { output: o }, 2000, from);
        expect(start, `RAMP_START ${o}`).toMatchObject({ boardMs: T, value: to, aux: 600 });
        const end = await h.event('APPLIED_SET', { output: o }, 2000, from);
        expect(end, `APPLIED_SET ${o}`).toMatchObject({ boardMs: T + 600, value: to });
      }
      near((await b.readOutputs()).usWPerCm2, 1.5, tol(b).usWPerCm2, 'ultrasound at the ramp end');
    },
  },
  {
    name: 'a TENS RAMP whose `from` lies above the present amplitude is REFUSED when due (value = to, aux = atMs); from = present runs',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: (await h.boardNow()) + MARGIN_MS, value: 50 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.tens1, value: 50 }, 2000);
      const T = (await h.boardNow()) + MARGIN_MS;
      const from = h.frames.length;
      await h.expectStatus('RAMP', { output: OUTPUT.tens1, atMs: T, from: 51, to: 0, durationMs: 500 }, 'OK');
      const refused = await h.event('REFUSED', { output: OUTPUT.tens1 }, 2000, from);
      expect(refused).toMatchObject({ code: STATUS.OUT_OF_LIMIT, value: 0, aux: T, boardMs: T });
      near((await b.readOutputs()).tensMa[0], 5, tol(b).tensMa, 'amplitude unchanged');
      const T2 = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('RAMP', { output: OUTPUT.tens1, atMs: T2, from: 50, to: 0, durationMs: 500 }, 'OK');
      expect(await h.event('APPLIED_SET', { output: OUTPUT.tens1, value: 0 }, 2000, from)).toMatchObject({ boardMs: T2 + 500 });
    },
  },
  {
    name: `the queue holds ${BOARD_LIMITS.queueDepth} commands per output (QUEUE_FULL beyond); CANCEL drops them and keeps the present value`,
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 80 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 80 }, 2000);
      const T = (await h.boardNow()) + 5000;
      for (let i = 0; i < BOARD_LIMITS.queueDepth; i++) await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T + i, value: 100 + i }, 'OK');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T + 99, value: 200 }, 'QUEUE_FULL');
      await h.expectStatus('OFF', { output: OUTPUT.ultrasound, atMs: T + 99 }, 'QUEUE_FULL');
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: T, value: 0 }, 'OK'); // queues are per output
      const from = h.frames.length;
      await h.expectStatus('CANCEL', { output: OUTPUT.ultrasound }, 'OK');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T + 99, value: 90 }, 'OK'); // room again
      await h.expectStatus('CANCEL', { output: OUTPUT.all }, 'OK');
      await h.idle(5400);
      expect(
        eventsSince(h, from).filter((e) => e.output === OUTPUT.ultrasound),
        'nothing cancelled ran',
      ).toEqual([]);
      near((await b.readOutputs()).usWPerCm2, 0.8, tol(b).usWPerCm2, 'present value kept');
    },
  },
  {
    name: 'a scheduled OFF turns the output off at atMs (APPLIED_OFF code 0); OFF now turns every output off with one APPLIED_OFF each and drops the queues',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      const T = (await h.boardNow()) + MARGIN_MS;
      const from = h.frames.length;
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T, value: 100 }, 'OK');
      await h.expectStatus('OFF', { output: OUTPUT.ultrasound, atMs: T + 200 }, 'OK');
      expect(await h.event('APPLIED_OFF', { output: OUTPUT.ultrasound }, 2000, from)).toMatchObject({ boardMs: T + 200, code: 0, value: 0 });
      expect((await b.readOutputs()).usWPerCm2).toBe(0);
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 100 }, 2000, from);
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + 1000, value: 150 }, 'OK');
      const from2 = h.frames.length;
      await h.expectStatus('OFF', { output: OUTPUT.all, atMs: 0 }, 'OK');
      await h.idle(1300);
      const offs = eventsSince(h, from2).filter((e) => e.kind === EVENT_KIND.APPLIED_OFF);
      expect(offs.map((e) => e.output).sort()).toEqual([0, 1, 2, 3]);
      expect(offs.every((e) => e.code === 0)).toBe(true);
      expect(
        eventsSince(h, from2).some((e) => isEvent(e, 'APPLIED_SET')),
        'the queued SET was dropped',
      ).toBe(false);
      expect((await b.readOutputs()).usWPerCm2).toBe(0);
    },
  },
  {
    name: 'ESTOP: one APPLIED_OFF per driven output (code ESTOP) before FAULT_LATCHED for 0xFF; commands FAULT_LATCHED until CLEAR',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await driveTensAndUs(h);
      const from = h.frames.length;
      await h.expectStatus('ESTOP', {}, 'OK');
      await expectBoardWideLatch(h, from, FAULT.ESTOP, [OUTPUT.tens1, OUTPUT.ultrasound]);
      const out = await b.readOutputs();
      expect([out.tensMa[0], out.usWPerCm2]).toEqual([0, 0]);
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'FAULT_LATCHED');
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'OK');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'OK');
    },
  },
  {
    name: 'the stop input: APPLIED_OFF (code STOP_INPUT) for each driven output, then FAULT_LATCHED for 0xFF',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await driveTensAndUs(h);
      const from = h.frames.length;
      await b.setStopInput(true);
      await expectBoardWideLatch(h, from, FAULT.STOP_INPUT, [OUTPUT.tens1, OUTPUT.ultrasound]);
      await b.setStopInput(false);
    },
  },
  {
    name: 'HEAD_OVER_TEMP: a hot ultrasound head latches board-wide, APPLIED_OFF first; CLEAR refused while hot',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await b.setHeadC(30);
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 100 }, 2000);
      const from = h.frames.length;
      await b.setHeadC(BOARD_LIMITS.headOverTempC + 5);
      await expectBoardWideLatch(h, from, FAULT.HEAD_OVER_TEMP, [OUTPUT.ultrasound]);
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'CAUSE_PRESENT');
      await b.setHeadC(30);
      await h.idle(100);
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'OK');
    },
  },
  {
    name: 'lead-off and over-temperature: APPLIED_OFF (with the cause) before FAULT_LATCHED, at the same board time',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await b.setPadC(30);
      await driveTensAndUs(h);
      let from = h.frames.length;
      await b.setElectrodeOhm(0, 50_000);
      const lead = await h.event('FAULT_LATCHED', { code: FAULT.LEAD_OFF, output: OUTPUT.tens1 }, 1500, from);
      const evs = eventsSince(h, from);
      const off = evs.find((e) => isEvent(e, 'APPLIED_OFF') && e.output === OUTPUT.tens1);
      expect(off).toMatchObject({ code: FAULT.LEAD_OFF, boardMs: lead!.boardMs });
      expect(evs.indexOf(off!)).toBeLessThan(evs.findIndex((e) => e.eventId === lead!.eventId));
      await b.setElectrodeOhm(0, 1500);
      await h.expectStatus('SET', { output: OUTPUT.pad, atMs: (await h.boardNow()) + MARGIN_MS, value: 380 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.pad }, 2000);
      from = h.frames.length;
      await b.setPadC(BOARD_LIMITS.padOverTempC + 1);
      await expectBoardWideLatch(h, from, FAULT.OVER_TEMP, [OUTPUT.ultrasound, OUTPUT.pad]);
    },
  },
  {
    name: `event queue overflow: with no EVENT_ACK the board keeps ${BOARD_LIMITS.eventQueueDepth} events, and never drops FAULT_LATCHED or APPLIED_OFF for a lesser one`,
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      h.autoAckEvents = false;
      const T = (await h.boardNow()) + 4 * MARGIN_MS; // 16 requests go out first, one round trip each
      for (let i = 0; i < 8; i++) await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T + 10 * i, value: 50 + i }, 'OK');
      for (let i = 0; i < 8; i++) await h.expectStatus('SET', { output: OUTPUT.pad, atMs: T + 10 * i, value: 300 + i }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.pad, value: 307 }, 2000);
      for (let i = 0; i < 4; i++) await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 60 + i }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 63 }, 2000);
      const from = h.frames.length;
      await h.expectStatus('ESTOP', {}, 'OK'); // 20 lesser events are waiting: the two critical ones must displace two of them
      const latch = await h.event('FAULT_LATCHED', { code: FAULT.ESTOP }, 1000, from);
      expect(latch).toBeDefined();
      await h.idle(100);
      const mark = h.frames.length;
      await h.idle(120); // every event still held is resent every eventRetryMs
      const held = new Map<number, Ev>();
      for (const f of h.frames.slice(mark)) if (f.msg.type === 'EVENT') held.set(f.msg.eventId, f.msg);
      expect(held.size, 'events held').toBeLessThanOrEqual(BOARD_LIMITS.eventQueueDepth);
      expect(held.has(latch!.eventId), 'FAULT_LATCHED still held').toBe(true);
      expect(
        [...held.values()].some((e) => isEvent(e, 'APPLIED_OFF') && e.code === FAULT.ESTOP),
        'APPLIED_OFF still held',
      ).toBe(true);
      // acknowledged, they stop; nothing older comes back
      for (const id of held.keys()) await h.expectStatus('EVENT_ACK', { eventId: id }, 'OK');
      const after = h.frames.length;
      await h.idle(200);
      expect(h.frames.slice(after).filter((f) => f.msg.type === 'EVENT').length, 'events resent after every held one was acknowledged').toBe(0);
    },
  },
  {
    name: 'a truncated frame followed by two valid frames: both valid frames are acknowledged',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      const cut = encodeFrame(h.seq++ & 0xff, encodeMessage('SET', { output: OUTPUT.ultrasound, atMs: 1, value: 1 })).subarray(0, 6);
      const s1 = h.seq++ & 0xff,
        s2 = h.seq++ & 0xff;
      const from = h.frames.length;
      h.writeBytes(new Uint8Array([...cut, ...encodeFrame(s1, encodeMessage('PING', {})), ...encodeFrame(s2, encodeMessage('PING', {}))]));
      await h.idle(100);
      expect(h.ackFor(s1, from)?.status, 'first PING').toBe(STATUS.OK);
      expect(h.ackFor(s2, from)?.status, 'second PING').toBe(STATUS.OK);
    },
  },
  {
    name: 'sequence numbers wrap 255 → 0: every frame is answered; a wrapped seq with new bytes is a new command',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      h.seq = 250;
      for (let i = 0; i < 10; i++) await h.expectStatus('PING', {}, 'OK');
      expect(h.seq & 0xff).toBe(4);
      const from = h.frames.length;
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 77 }, 'OK');
      expect(await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 77 }, 2000, from)).toBeDefined();
    },
  },
];

export type { BoardUnderTest };
