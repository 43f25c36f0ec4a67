/**
 * Conformance scenarios: what every board (the AVR firmware on simavr, the simulated
 * board in sim/) must do on the wire, per docs/protocol.md. Each scenario drives a
 * fresh board through a `BoardUnderTest` and checks ACKs, EVENTs and the physical
 * outputs. Written against bytes and time only, so a real-time board (a pty) and a
 * virtual-clock board run the same code.
 */
import { expect } from 'vitest';
import { encodeFrame, FrameDecoder, type DecodedFrame } from '../../src/drivers/wire/frame.js';
import { decodeMessage, encodeMessage, type Message, type MessageBody, type MessageOf } from '../../src/drivers/wire/messages.js';
import { EVENT_KIND, FAULT, OUTPUT, STATUS, type MessageName } from '../../src/drivers/wire/spec.js';
import { contractScenarios } from './contract.js';

/** The board's physical outputs, in engineering units. */
export interface BoardOutputs {
  tensMa: [number, number];
  usWPerCm2: number;
  /** measured TENS pulse rate, Hz, when the board can observe it */
  tensPulseHz?: [number, number];
  /** pad heater/cooler drive, 0 = unpowered (any non-zero value: driven) */
  padDrive: number;
}

export interface BoardUnderTest {
  /** Bytes to the board's UART. */
  write(bytes: Uint8Array): void;
  /** Register the sink of bytes from the board (called once). */
  onData(cb: (bytes: Uint8Array) => void): void;
  /**
   * Let at least `ms` of BOARD time pass (a clock advance on a virtual board; on a
   * real-time board, a wait until the board's own clock says so, never nominal host
   * time). Resolves with the board time that did pass, when known.
   */
  advance(ms: number): Promise<number | void>;
  setStopInput(on: boolean): Promise<void>;
  /** Electrode impedance of TENS channel ch (0|1); Infinity = open. */
  setElectrodeOhm(ch: 0 | 1, ohm: number): Promise<void>;
  /** Ultrasound head coupling as the board's coupling sense sees it. */
  setCoupled(coupled: boolean): Promise<void>;
  /** Hold the pad thermistor at `c` °C (the pad then no longer follows its drive). */
  setPadC(c: number): Promise<void>;
  /** Hold the ultrasound head's thermistor at `c` °C. */
  setHeadC(c: number): Promise<void>;
  readOutputs(): Promise<BoardOutputs>;
  /** Tolerance on analog outputs (PWM resolution), in their units. Default 0.5 mA / 0.05 W/cm². */
  tolerance?: { tensMa: number; usWPerCm2: number };
}

export interface Scenario {
  name: string;
  run(board: BoardUnderTest): Promise<void>;
}

type Ack = MessageOf<'ACK'>;
type Ev = MessageOf<'EVENT'>;

/**
 * A minimal host: sequence numbers, ACK matching, automatic EVENT_ACK, optional keepalive.
 * Stop and wait, as docs/protocol.md requires of a host: while a request waits for its ACK
 * (and is retransmitted), nothing else is sent; EVENT_ACKs wait until it is answered. (A
 * frame sent between a request and its retransmission makes the retransmission a new
 * command to the board, applied again: seen on a loaded machine as a doubled OFF.)
 */
export class HostLink {
  seq = 0;
  readonly frames: { seq: number; msg: Message }[] = [];
  keepalive = true;
  autoAckEvents = true;
  private lastSent = 0;
  private elapsed = 0;
  private inFlight = false;
  private readonly eventAcksDue: number[] = [];
  private readonly dec: FrameDecoder;

  constructor(readonly board: BoardUnderTest) {
    this.dec = new FrameDecoder((f: DecodedFrame) => this.onFrame(f));
    board.onData((b) => this.dec.push(b));
  }

  private onFrame(f: DecodedFrame): void {
    const msg = decodeMessage(f.payload);
    if (!msg) return;
    this.frames.push({ seq: f.seq, msg });
    if (msg.type === 'EVENT' && this.autoAckEvents) {
      if (this.inFlight) this.eventAcksDue.push(msg.eventId);
      else this.sendRaw('EVENT_ACK', { eventId: msg.eventId });
    }
  }

  /** Encode and write a message; returns the seq used. */
  sendRaw<N extends MessageName>(name: N, body: MessageBody<N>, seq = this.seq++ & 0xff): number {
    this.board.write(encodeFrame(seq, encodeMessage(name, body)));
    this.lastSent = this.elapsed;
    return seq;
  }

  writeBytes(bytes: Uint8Array): void {
    this.board.write(bytes);
    this.lastSent = this.elapsed;
  }

  /** Advance in small steps until pred finds a frame (from index `from`), or maxMs passes. */
  async waitFor<T>(pred: (m: Message) => T | undefined | false, maxMs: number, from = 0): Promise<T | undefined> {
    let waited = 0;
    for (;;) {
      for (let i = from; i < this.frames.length; i++) {
        const hit = pred(this.frames[i]!.msg);
        if (hit) return hit;
      }
      if (waited >= maxMs) return undefined;
      const passed = (await this.board.advance(10)) ?? 10;
      waited += passed;
      this.elapsed += passed;
      if (this.keepalive && !this.inFlight && this.elapsed - this.lastSent >= 100) this.sendRaw('PING', {});
    }
  }

  /** Let time pass, keeping the lease alive (unless keepalive is off). */
  async idle(ms: number): Promise<void> {
    await this.waitFor(() => false, ms);
  }

  ackFor(seq: number, from = 0): Ack | undefined {
    for (let i = from; i < this.frames.length; i++) {
      const m = this.frames[i]!.msg;
      if (m.type === 'ACK' && m.ackSeq === seq) return m;
    }
    return undefined;
  }

  /** Send and wait for the ACK, retransmitting the same bytes every 100 ms (up to 8 times) as a host does. */
  async request<N extends MessageName>(name: N, body: MessageBody<N>): Promise<Ack> {
    const from = this.frames.length;
    const seq = this.seq++ & 0xff;
    const bytes = encodeFrame(seq, encodeMessage(name, body));
    this.inFlight = true;
    try {
      for (let attempt = 0; attempt <= 8; attempt++) {
        this.writeBytes(bytes);
        const ack = await this.waitFor((m) => (m.type === 'ACK' && m.ackSeq === seq ? m : undefined), 100, from);
        if (ack) return ack;
      }
      throw new Error(`no ACK for ${name} (seq ${seq})`);
    } finally {
      this.inFlight = false;
      for (const eventId of this.eventAcksDue.splice(0)) this.sendRaw('EVENT_ACK', { eventId });
    }
  }

  async expectStatus<N extends MessageName>(name: N, body: MessageBody<N>, status: keyof typeof STATUS): Promise<Ack> {
    const ack = await this.request(name, body);
    expect(ack.status, `${name} ${JSON.stringify(body)} → status`).toBe(STATUS[status]);
    return ack;
  }

  async hello(leaseMs = 400): Promise<MessageOf<'IDENTIFY'>> {
    const from = this.frames.length;
    await this.expectStatus('HELLO', { protocolVersion: 1, leaseMs }, 'OK');
    const id = await this.waitFor((m) => (m.type === 'IDENTIFY' ? m : undefined), 500, from);
    expect(id, 'IDENTIFY after the ACK of HELLO').toBeDefined();
    return id!;
  }

  /** Position of a received message in the frames list (for order checks). */
  indexOf(m: Message): number {
    return this.frames.findIndex((f) => f.msg === m);
  }

  async boardNow(): Promise<number> {
    return (await this.request('PING', {})).boardMs;
  }

  async event(kind: keyof typeof EVENT_KIND, match: Partial<Ev>, maxMs: number, from = 0): Promise<Ev | undefined> {
    return this.waitFor(
      (m) =>
        m.type === 'EVENT' && m.kind === EVENT_KIND[kind] && Object.entries(match).every(([k, v]) => (m as unknown as Record<string, number>)[k] === v)
          ? m
          : undefined,
      maxMs,
      from,
    );
  }
}

/** Scheduling margin: covers the line, the host's jitter and a real-time board's pacing. */
export const MARGIN_MS = 300;

export const tensConfig = (output: number, rateHz = 100, pulseWidthUs = 100) => ({
  output,
  rateHz,
  pulseWidthUs,
  waveform: 0,
  electrodeAreaCm2x10: 500,
  flags: 0,
  burstsPerS: 0,
  pulsesPerBurst: 0,
  modKind: 0,
  modMinPct: 0,
  modPeriodDs: 0,
});

export function near(actual: number, expected: number, tol: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected} ± ${tol}`).toBeLessThanOrEqual(tol);
}

export const tol = (b: BoardUnderTest) => b.tolerance ?? { tensMa: 0.5, usWPerCm2: 0.05 };

export const basicScenarios: Scenario[] = [
  {
    name: 'HELLO is answered by ACK then IDENTIFY; commands before HELLO get NO_SESSION',
    async run(b) {
      const h = new HostLink(b);
      h.keepalive = false;
      const ack = await h.request('PING', {});
      expect(ack.status).toBe(STATUS.NO_SESSION);
      const id = await h.hello(300);
      expect(id.protocolVersion).toBe(1);
      expect(id.leaseMs).toBe(300);
      expect(id.maxTensMaX10).toBe(800);
      const helloAck = h.frames.find((f) => f.msg.type === 'ACK' && f.msg.ackSeq === 1);
      const idIndex = h.frames.findIndex((f) => f.msg.type === 'IDENTIFY');
      expect(h.frames.indexOf(helloAck!)).toBeLessThan(idIndex);
      const bad = await h.request('HELLO', { protocolVersion: 9, leaseMs: 300 });
      expect(bad.status).toBe(STATUS.BAD_VERSION);
    },
  },
  {
    name: 'a SET scheduled at board time T is applied at T (EVENT boardMs = T) and drives the output',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
      const T = (await h.boardNow()) + MARGIN_MS;
      const from = h.frames.length;
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: T, value: 100 }, 'OK');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T, value: 150 }, 'OK');
      const before = await b.readOutputs();
      expect(before.tensMa[0]).toBe(0);
      expect(before.usWPerCm2).toBe(0);
      // A rising TENS SET is followed at the slew limit and reported as the ramp it is.
      const tens = await h.event('RAMP_START', { output: OUTPUT.tens1 }, 2000, from);
      const us = await h.event('APPLIED_SET', { output: OUTPUT.ultrasound }, 2000, from);
      expect(tens?.boardMs).toBe(T);
      expect(tens?.value).toBe(100);
      expect(tens?.aux).toBe(1000); // 10 mA at the 10 mA/s slew limit takes 1 s
      expect(us?.boardMs).toBe(T);
      expect(us?.value).toBe(150);
      const reached = await h.event('APPLIED_SET', { output: OUTPUT.tens1 }, 2000, from);
      expect(reached?.boardMs).toBe(T + 1000);
      expect(reached?.value).toBe(100);
      await h.idle(100);
      const out = await b.readOutputs();
      near(out.tensMa[0], 10, tol(b).tensMa, 'TENS ch1 mA');
      near(out.usWPerCm2, 1.5, tol(b).usWPerCm2, 'ultrasound W/cm²');
      expect(out.tensMa[1]).toBe(0);
      if (out.tensPulseHz) near(out.tensPulseHz[0], 100, 2, 'TENS ch1 pulse rate');
    },
  },
  {
    name: 'a SET is followed at the slew limit, never as a jump',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens2), 'OK');
      const T = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('SET', { output: OUTPUT.tens2, atMs: T, value: 200 }, 'OK');
      const start = await h.event('RAMP_START', { output: OUTPUT.tens2 }, 2000);
      expect(start?.aux).toBe(2000);
      await h.idle(500);
      const mid = await b.readOutputs();
      expect(mid.tensMa[1]).toBeGreaterThan(2);
      expect(mid.tensMa[1]).toBeLessThan(12); // ~5 mA after 0.5 s, far from 20 mA
    },
  },
  {
    name: 'a RAMP starts at T, ends at T + duration, and reaches its target',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
      const T = (await h.boardNow()) + MARGIN_MS;
      const from = h.frames.length;
      await h.expectStatus('RAMP', { output: OUTPUT.tens1, atMs: T, from: 0, to: 60, durationMs: 1000 }, 'OK');
      const start = await h.event('RAMP_START', { output: OUTPUT.tens1 }, 2000, from);
      expect(start?.boardMs).toBe(T);
      expect(start?.value).toBe(60);
      expect(start?.aux).toBe(1000);
      const end = await h.event('APPLIED_SET', { output: OUTPUT.tens1 }, 2500, from);
      expect(end?.boardMs).toBe(T + 1000);
      expect(end?.value).toBe(60);
      await h.idle(100);
      near((await b.readOutputs()).tensMa[0], 6, tol(b).tensMa, 'TENS ch1 mA after the ramp');
    },
  },
  {
    name: 'lease expiry: no frames for leaseMs turns every output off and latches HOST_TIMEOUT',
    async run(b) {
      const h = new HostLink(b);
      await h.hello(200);
      const T = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T, value: 100 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound }, 2000);
      near((await b.readOutputs()).usWPerCm2, 1, tol(b).usWPerCm2, 'ultrasound before the timeout');
      const from = h.frames.length;
      h.keepalive = false; // the host goes silent
      const fault = await h.event('FAULT_LATCHED', { code: FAULT.HOST_TIMEOUT, output: OUTPUT.all }, 2000, from);
      expect(fault, 'FAULT_LATCHED HOST_TIMEOUT').toBeDefined();
      expect((await b.readOutputs()).usWPerCm2).toBe(0);
      // one APPLIED_OFF for the driven output, with the cause, before the FAULT_LATCHED
      const off = await h.event('APPLIED_OFF', { output: OUTPUT.ultrasound, code: FAULT.HOST_TIMEOUT }, 10, from);
      expect(off, 'APPLIED_OFF ultrasound HOST_TIMEOUT').toBeDefined();
      expect(h.indexOf(off!)).toBeLessThan(h.indexOf(fault!));
      // the session is closed: the board falls silent (no telemetry, no resends) ...
      h.autoAckEvents = false;
      await h.idle(100); // the answers (NO_SESSION) to the EVENT_ACKs already sent arrive
      const quiet = h.frames.length;
      await h.idle(600);
      expect(h.frames.length, 'frames from the board after the lease expired').toBe(quiet);
      // ... and answers commands NO_SESSION until a new HELLO; the fault stays latched
      h.keepalive = true;
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'NO_SESSION');
      h.autoAckEvents = true;
      await h.hello(200);
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'FAULT_LATCHED');
      const clearFrom = h.frames.length;
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'OK');
      const cleared = await h.event('FAULT_CLEARED', { output: OUTPUT.all }, 500, clearFrom);
      expect(cleared?.value, 'FAULT_CLEARED value = the cleared faults bitmask').toBe(1 << (FAULT.HOST_TIMEOUT - 1));
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'OK');
    },
  },
  {
    name: 'BYE: ACK OK, then APPLIED_OFF (code 0) for each driven output; everything off, queues dropped, the session closed with no fault latched; a new HELLO opens a session with none',
    async run(b) {
      const h = new HostLink(b);
      await h.hello(200);
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
      const T = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: T, value: 30 }, 'OK');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T, value: 100 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.tens1, value: 30 }, 2000);
      const later = (await h.boardNow()) + 1500;
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: later, value: 150 }, 'OK'); // queued: BYE drops it
      const on = await b.readOutputs();
      expect(on.tensMa[0]).toBeGreaterThan(2);
      near(on.usWPerCm2, 1, tol(b).usWPerCm2, 'ultrasound before BYE');
      const from = h.frames.length;
      const ack = await h.expectStatus('BYE', {}, 'OK');
      const offT = await h.event('APPLIED_OFF', { output: OUTPUT.tens1 }, 500, from);
      const offU = await h.event('APPLIED_OFF', { output: OUTPUT.ultrasound }, 500, from);
      for (const off of [offT, offU]) {
        expect(off, 'APPLIED_OFF for each driven output').toBeDefined();
        expect(off, "code 0 (commanded), at the BYE's board time").toMatchObject({ code: 0, value: 0, boardMs: ack.boardMs });
        expect(h.indexOf(off!), 'after the ACK').toBeGreaterThan(h.indexOf(ack));
      }
      const out = await b.readOutputs();
      expect([out.tensMa[0], out.usWPerCm2]).toEqual([0, 0]);
      // the session is closed: silence past the lease (no telemetry, no resends, no HOST_TIMEOUT) ...
      h.keepalive = false;
      h.autoAckEvents = false;
      await h.idle(100); // the answers (NO_SESSION) to the EVENT_ACKs already sent arrive
      const quiet = h.frames.length;
      await h.idle(600);
      expect(h.frames.length, 'frames from the board after BYE').toBe(quiet);
      const evs = h.frames
        .slice(from)
        .map((f) => f.msg)
        .filter((m): m is Ev => m.type === 'EVENT');
      expect(
        evs.filter((e) => e.kind === EVENT_KIND.APPLIED_OFF && e.output !== OUTPUT.tens1 && e.output !== OUTPUT.ultrasound),
        'no APPLIED_OFF for outputs that were not driven',
      ).toEqual([]);
      expect(
        evs.filter((e) => e.kind === EVENT_KIND.FAULT_LATCHED),
        'no fault latched',
      ).toEqual([]);
      // ... commands (a resent BYE too) are answered NO_SESSION until a new HELLO
      h.keepalive = true;
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'NO_SESSION');
      await h.expectStatus('BYE', {}, 'NO_SESSION');
      h.autoAckEvents = true;
      const from2 = h.frames.length;
      await h.hello(200);
      const tel = await h.waitFor((m) => (m.type === 'TELEMETRY' ? m : undefined), 1000, from2);
      expect(tel, 'telemetry in the new session').toBeDefined();
      expect([tel!.faults, tel!.outputFaults], 'nothing latched, no HOST_TIMEOUT').toEqual([0, 0]);
      expect(await h.event('APPLIED_OFF', { eventId: offU!.eventId }, 500, from2), 'the unacknowledged events are sent again after HELLO').toBeDefined();
      // the dropped SET never runs; a new one does
      const now = await h.boardNow();
      if (now < later + 100) await h.idle(later + 100 - now);
      expect(
        h.frames
          .slice(from)
          .some((f) => f.msg.type === 'EVENT' && f.msg.kind === EVENT_KIND.APPLIED_SET && f.msg.output === OUTPUT.ultrasound && f.msg.value === 150),
        'the queued SET was dropped',
      ).toBe(false);
      const T2 = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T2, value: 100 }, 'OK');
      expect(await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 100 }, 2000, from2)).toMatchObject({ boardMs: T2 });
    },
  },
  {
    name: 'BYE leaves a fault latched before it latched (and adds none): the next session still has it until CLEAR',
    async run(b) {
      const h = new HostLink(b);
      await h.hello(200);
      const from = h.frames.length;
      await h.expectStatus('ESTOP', {}, 'OK');
      expect(await h.event('FAULT_LATCHED', { code: FAULT.ESTOP, output: OUTPUT.all }, 500, from)).toBeDefined();
      await h.idle(100);
      const byeFrom = h.frames.length;
      await h.expectStatus('BYE', {}, 'OK');
      h.keepalive = false;
      await h.idle(600); // past the lease
      expect(
        h.frames.slice(byeFrom).filter((f) => f.msg.type === 'EVENT'),
        'nothing was driven: no events',
      ).toEqual([]);
      h.keepalive = true;
      const from2 = h.frames.length;
      await h.hello(200);
      const tel = await h.waitFor((m) => (m.type === 'TELEMETRY' ? m : undefined), 1000, from2);
      expect(tel?.faults, 'ESTOP alone: still latched, no HOST_TIMEOUT').toBe(1 << (FAULT.ESTOP - 1));
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'FAULT_LATCHED');
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'OK');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'OK');
    },
  },
  {
    name: 'the stop input cuts every output and latches STOP_INPUT until CLEAR after release',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
      const T = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: T, value: 50 }, 'OK');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: T, value: 100 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound }, 2000);
      await h.idle(600);
      const on = await b.readOutputs();
      expect(on.tensMa[0]).toBeGreaterThan(4);
      const from = h.frames.length;
      await b.setStopInput(true);
      const fault = await h.event('FAULT_LATCHED', { code: FAULT.STOP_INPUT }, 1000, from);
      expect(fault?.output).toBe(OUTPUT.all);
      const off = await b.readOutputs();
      expect(off.tensMa[0]).toBe(0);
      expect(off.usWPerCm2).toBe(0);
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'CAUSE_PRESENT');
      await b.setStopInput(false);
      await h.idle(50);
      expect((await b.readOutputs()).usWPerCm2).toBe(0); // latched: stays off
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'OK');
    },
  },
  {
    name: 'a frame with a bad CRC is ignored: no ACK, output unchanged',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound }, 2000);
      const at = (await h.boardNow()) + MARGIN_MS;
      const seq = h.seq++ & 0xff;
      const bytes = encodeFrame(seq, encodeMessage('SET', { output: OUTPUT.ultrasound, atMs: at, value: 250 }));
      bytes[bytes.length - 3]! ^= 0x5a;
      const from = h.frames.length;
      h.writeBytes(bytes);
      await h.idle(MARGIN_MS + 300);
      expect(h.ackFor(seq, from), 'no ACK for a corrupt frame').toBeUndefined();
      expect(await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 250 }, 0, from)).toBeUndefined();
      near((await b.readOutputs()).usWPerCm2, 1, tol(b).usWPerCm2, 'ultrasound unchanged');
    },
  },
  {
    name: 'out-of-limit commands are refused with OUT_OF_LIMIT and change nothing',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      const at0 = (await h.boardNow()) + MARGIN_MS;
      // An unconfigured TENS channel: the density limit cannot be checked, so only zero is allowed.
      await h.expectStatus('SET', { output: OUTPUT.tens2, atMs: at0, value: 10 }, 'OUT_OF_LIMIT');
      await h.expectStatus('RAMP', { output: OUTPUT.tens2, atMs: at0, from: 0, to: 10, durationMs: 1000 }, 'OUT_OF_LIMIT');
      await h.expectStatus('SET', { output: OUTPUT.tens2, atMs: at0, value: 0 }, 'OK');
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
      const at = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: at, value: 801 }, 'OUT_OF_LIMIT');
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: at, value: 301 }, 'OUT_OF_LIMIT');
      await h.expectStatus('SET', { output: OUTPUT.pad, atMs: at, value: 450 }, 'OUT_OF_LIMIT');
      await h.expectStatus('RAMP', { output: OUTPUT.tens1, atMs: at, from: 0, to: 250, durationMs: 1000 }, 'OUT_OF_LIMIT');
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1, 200), 'OUT_OF_LIMIT');
      await h.expectStatus('HELLO', { protocolVersion: 1, leaseMs: 1000 }, 'OUT_OF_LIMIT');
      await h.expectStatus('SET', { output: 7, atMs: at, value: 1 }, 'BAD_OUTPUT');
      await h.idle(MARGIN_MS + 100);
      const out = await b.readOutputs();
      expect(out.tensMa[0]).toBe(0);
      expect(out.usWPerCm2).toBe(0);
    },
  },
  {
    name: 'a command whose time has passed is refused LATE; a retransmission is ACKed again but applied once',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      const now = await h.boardNow();
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: Math.max(0, now - 100), value: 100 }, 'LATE');
      const at = now + MARGIN_MS;
      const seq = h.seq++ & 0xff;
      const from = h.frames.length;
      const bytes = encodeFrame(seq, encodeMessage('SET', { output: OUTPUT.ultrasound, atMs: at, value: 120 }));
      h.writeBytes(bytes);
      await h.idle(60);
      h.writeBytes(bytes); // the same bytes again, as the host's retransmit does
      await h.idle(MARGIN_MS + 200);
      const acks = h.frames.slice(from).filter((f) => f.msg.type === 'ACK' && f.msg.ackSeq === seq);
      expect(acks.length).toBe(2);
      expect(acks.every((a) => (a.msg as Ack).status === STATUS.OK)).toBe(true);
      const applied = new Set(
        h.frames
          .slice(from)
          .filter((f) => f.msg.type === 'EVENT' && f.msg.kind === EVENT_KIND.APPLIED_SET)
          .map((f) => (f.msg as Ev).eventId),
      );
      expect(applied.size).toBe(1);
      // The same seq with different bytes (a restarted host) is a new command, not a repeat.
      const from2 = h.frames.length;
      const at2 = (await h.boardNow()) + MARGIN_MS;
      const seq2 = h.seq++ & 0xff;
      h.writeBytes(encodeFrame(seq2, encodeMessage('SET', { output: OUTPUT.ultrasound, atMs: at2, value: 130 })));
      await h.idle(60);
      h.writeBytes(encodeFrame(seq2, encodeMessage('SET', { output: OUTPUT.ultrasound, atMs: at2 + 100, value: 140 })));
      expect(await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 130 }, MARGIN_MS + 300, from2)).toBeDefined();
      expect(await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 140 }, 300, from2)).toBeDefined();
    },
  },
  {
    name: 'lead-off cuts the TENS channel, CAUSE_GONE on contact, CLEAR to resume',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('CONFIG_TENS', tensConfig(OUTPUT.tens1), 'OK');
      await h.expectStatus('SET', { output: OUTPUT.tens1, atMs: (await h.boardNow()) + MARGIN_MS, value: 50 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.tens1 }, 2000);
      await h.idle(600);
      expect((await b.readOutputs()).tensMa[0]).toBeGreaterThan(4);
      const from = h.frames.length;
      await b.setElectrodeOhm(0, 25_000);
      const fault = await h.event('FAULT_LATCHED', { code: FAULT.LEAD_OFF, output: OUTPUT.tens1 }, 1000, from);
      expect(fault).toBeDefined();
      expect((await b.readOutputs()).tensMa[0]).toBe(0);
      await h.expectStatus('CLEAR', { output: OUTPUT.tens1 }, 'CAUSE_PRESENT');
      await b.setElectrodeOhm(0, 1500);
      expect(await h.event('CAUSE_GONE', { code: FAULT.LEAD_OFF, output: OUTPUT.tens1 }, 1000, from)).toBeDefined();
      expect((await b.readOutputs()).tensMa[0]).toBe(0);
      await h.expectStatus('CLEAR', { output: OUTPUT.tens1 }, 'OK');
    },
  },
  {
    name: 'coupling loss cuts the ultrasound head, CAUSE_GONE on coupling, CLEAR to resume',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 120 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.ultrasound }, 2000);
      near((await b.readOutputs()).usWPerCm2, 1.2, tol(b).usWPerCm2, 'ultrasound before');
      const from = h.frames.length;
      await b.setCoupled(false);
      expect(await h.event('FAULT_LATCHED', { code: FAULT.UNCOUPLED, output: OUTPUT.ultrasound }, 1000, from)).toBeDefined();
      expect((await b.readOutputs()).usWPerCm2).toBe(0);
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'FAULT_LATCHED');
      await h.expectStatus('CLEAR', { output: OUTPUT.ultrasound }, 'CAUSE_PRESENT');
      await b.setCoupled(true);
      expect(await h.event('CAUSE_GONE', { code: FAULT.UNCOUPLED, output: OUTPUT.ultrasound }, 1000, from)).toBeDefined();
      expect((await b.readOutputs()).usWPerCm2).toBe(0);
      const clearFrom = h.frames.length;
      await h.expectStatus('CLEAR', { output: OUTPUT.ultrasound }, 'OK');
      const cleared = await h.event('FAULT_CLEARED', { output: OUTPUT.ultrasound }, 500, clearFrom);
      expect(cleared?.value).toBe(1 << (FAULT.UNCOUPLED - 1));
      await h.expectStatus('SET', { output: OUTPUT.ultrasound, atMs: (await h.boardNow()) + MARGIN_MS, value: 100 }, 'OK');
      expect(await h.event('APPLIED_SET', { output: OUTPUT.ultrasound, value: 100 }, 2000, clearFrom)).toBeDefined();
    },
  },
  {
    name: 'pad over-temperature latches OVER_TEMP board-wide and cuts the pad; UNDER_TEMP only while the pad is driven',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await b.setPadC(5); // cold, but the pad is not driven: no fault
      await h.idle(300);
      expect(
        h.frames.some((f) => f.msg.type === 'EVENT' && f.msg.kind === EVENT_KIND.FAULT_LATCHED),
        'no fault while the pad is idle',
      ).toBe(false);
      await b.setPadC(30);
      await h.expectStatus('SET', { output: OUTPUT.pad, atMs: (await h.boardNow()) + MARGIN_MS, value: 380 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.pad }, 2000);
      await h.idle(200);
      expect((await b.readOutputs()).padDrive, 'pad heating towards 38 °C').toBeGreaterThan(0);
      let from = h.frames.length;
      await b.setPadC(42);
      expect(await h.event('FAULT_LATCHED', { code: FAULT.OVER_TEMP, output: OUTPUT.all }, 1000, from)).toBeDefined();
      await h.idle(200);
      expect((await b.readOutputs()).padDrive, 'pad unpowered').toBe(0);
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'CAUSE_PRESENT');
      await b.setPadC(30);
      await h.idle(100);
      await h.expectStatus('CLEAR', { output: OUTPUT.all }, 'OK');
      // Driven and too cold: UNDER_TEMP.
      await h.expectStatus('SET', { output: OUTPUT.pad, atMs: (await h.boardNow()) + MARGIN_MS, value: 300 }, 'OK');
      await h.event('APPLIED_SET', { output: OUTPUT.pad }, 2000);
      from = h.frames.length;
      await b.setPadC(5);
      expect(await h.event('FAULT_LATCHED', { code: FAULT.UNDER_TEMP, output: OUTPUT.all }, 1000, from)).toBeDefined();
    },
  },
  {
    name: 'thermal runaway: a pad that does not approach its target within the watch period latches THERMAL_RUNAWAY',
    async run(b) {
      const h = new HostLink(b);
      await h.hello();
      await b.setPadC(25); // and it stays there, whatever the heater does
      const T = (await h.boardNow()) + MARGIN_MS;
      await h.expectStatus('SET', { output: OUTPUT.pad, atMs: T, value: 380 }, 'OK');
      const from = h.frames.length;
      const fault = await h.event('FAULT_LATCHED', { code: FAULT.THERMAL_RUNAWAY, output: OUTPUT.all }, 23_000, from);
      expect(fault, 'THERMAL_RUNAWAY').toBeDefined();
      near(fault!.boardMs - T, 20_000, 500, 'runaway latched after the watch period (ms)');
      await h.idle(200);
      expect((await b.readOutputs()).padDrive).toBe(0);
    },
  },
];

export const scenarios: Scenario[] = [...basicScenarios, ...contractScenarios];
