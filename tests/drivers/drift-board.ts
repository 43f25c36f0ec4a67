/**
 * A minimal board for clock tests: speaks the wire (ACK, IDENTIFY, TELEMETRY,
 * and an EVENT when a SET/RAMP/OFF comes due), with a millisecond clock that
 * runs `ppm` fast (or slow) against the shared clock and starts at `bootMs`
 * (64-bit; the wire carries its low 32 bits, so it wraps like the AVR's).
 * It enforces nothing: the rules live in the real boards.
 */
import { type Clock, VirtualClock } from '../../src/clock.js';
import { createLinkPair } from '../../sim/link.js';
import { connectOnVirtualClock } from '../helpers.js';
import type { Transport } from '../../src/drivers/transport.js';
import { low32, U32 } from '../../src/drivers/clock-sync.js';
import { encodeFrame, FrameDecoder } from '../../src/drivers/wire/frame.js';
import { decodeMessage, encodeMessage, frameLengthOf, type MessageBody } from '../../src/drivers/wire/messages.js';
import { EVENT_KIND, PROTOCOL_VERSION, STATUS, type MessageName } from '../../src/drivers/wire/spec.js';

export interface Received {
  name: string;
  atMs: number;
  atMs64: number;
  durationMs?: number;
  hostMs: number;
}
export interface Executed {
  name: string;
  output: number;
  boardMs64: number;
  hostMs: number;
  durationMs?: number;
}

export class DriftBoard {
  readonly received: Received[] = [];
  readonly executed: Executed[] = [];
  private seq = 0;
  private eventId = 0;
  private telemetry = false;
  /** Present output values in wire units (tens1, tens2, ultrasound, pad). */
  private readonly values = [0, 0, 0, 0];
  /** Timers of queued commands, per output (CANCEL and OFF now drop them). */
  private readonly pending: number[][] = [];
  /** Extra ms the board waits before answering each frame (its loop is busy). */
  answerDelayMs: () => number = () => 0;

  constructor(
    private readonly clock: Clock,
    private readonly t: Transport,
    readonly ppm: number,
    readonly bootMs: number,
  ) {
    const dec = new FrameDecoder((f) => this.onFrame(f.seq, f.payload), frameLengthOf);
    t.onData((b) => dec.push(b));
  }

  /** The board's exact (unrounded) 64-bit clock at shared-clock time hostMs. */
  exact(hostMs = this.clock.now()): number {
    return this.bootMs + hostMs * (1 + this.ppm * 1e-6);
  }

  /** Its millisecond counter (64-bit). */
  nowMs(hostMs = this.clock.now()): number {
    return Math.floor(this.exact(hostMs));
  }

  /** The shared-clock time at which the board's clock reads board64. */
  hostAt(board64: number): number {
    return (board64 - this.bootMs) / (1 + this.ppm * 1e-6);
  }

  private send<N extends MessageName>(name: N, body: MessageBody<N>): void {
    this.t.write(encodeFrame(this.seq, encodeMessage(name, body)));
    this.seq = (this.seq + 1) & 0xff;
  }

  /** A u32 time from the host, to the 64-bit time nearest the board's now. */
  private extend(atMs: number): number {
    const now = this.nowMs();
    let d = (atMs - low32(now)) % U32;
    if (d < 0) d += U32;
    if (d >= U32 / 2) d -= U32;
    return now + d;
  }

  private onFrame(seq: number, payload: Uint8Array): void {
    const m = decodeMessage(payload);
    if (!m) return;
    const answer = () => {
      this.send('ACK', { ackSeq: seq, status: STATUS.OK, boardMs: low32(this.nowMs()) });
      if (m.type === 'HELLO') {
        this.send('IDENTIFY', {
          protocolVersion: PROTOCOL_VERSION,
          fwMajor: 0,
          fwMinor: 0,
          fwPatch: 1,
          boardKind: 1,
          tensChannels: 2,
          hasUltrasound: 1,
          hasPad: 1,
          maxTensMaX10: 800,
          maxTensSlewMaPerSX10: 100,
          maxUsWPerCm2X100: 300,
          maxPadCX10: 400,
          minPadCX10: 100,
          leaseMs: m.leaseMs,
          boardMs: low32(this.nowMs()),
        });
        if (!this.telemetry) {
          this.telemetry = true;
          this.tick();
        }
      }
    };
    const d = this.answerDelayMs();
    if (d > 0) this.clock.setTimeout(answer, d);
    else answer();
    if (m.type === 'CANCEL' || (m.type === 'OFF' && m.atMs === 0)) {
      const outs = m.output === 0xff ? [0, 1, 2, 3] : [m.output];
      for (const o of outs) {
        for (const id of this.pending[o] ?? []) this.clock.clearTimeout(id);
        this.pending[o] = [];
      }
      if (m.type === 'OFF')
        for (const o of outs) {
          this.values[o] = 0;
          this.send('EVENT', { eventId: ++this.eventId, boardMs: low32(this.nowMs()), kind: EVENT_KIND.APPLIED_OFF, output: o, code: 0, value: 0, aux: 0 });
        }
    }
    if (m.type === 'SET' || m.type === 'RAMP' || (m.type === 'OFF' && m.atMs !== 0)) {
      const at64 = this.extend(m.atMs);
      const r: Received = { name: m.type, atMs: m.atMs, atMs64: at64, hostMs: this.clock.now() };
      if (m.type === 'RAMP') r.durationMs = m.durationMs;
      this.received.push(r);
      const queue = (this.pending[m.output] ??= []);
      queue.push(
        this.clock.setTimeout(
          () => {
            const e: Executed = { name: m.type, output: m.output, boardMs64: at64, hostMs: this.clock.now() };
            if (m.type === 'RAMP') e.durationMs = m.durationMs;
            this.executed.push(e);
            const kind = m.type === 'SET' ? EVENT_KIND.APPLIED_SET : m.type === 'RAMP' ? EVENT_KIND.RAMP_START : EVENT_KIND.APPLIED_OFF;
            const value = m.type === 'SET' ? m.value : m.type === 'RAMP' ? m.to : 0;
            const outs = m.output === 0xff ? [0, 1, 2, 3] : [m.output];
            if (m.type !== 'RAMP') for (const o of outs) this.values[o] = value;
            for (const o of outs)
              this.send('EVENT', { eventId: ++this.eventId, boardMs: low32(at64), kind, output: o, code: 0, value, aux: m.type === 'RAMP' ? m.durationMs : 0 });
            if (m.type === 'RAMP') {
              // The ramp ends durationMs later on the board's clock, reported as APPLIED_SET (as the real boards do).
              const end64 = at64 + m.durationMs;
              this.clock.setTimeout(
                () => {
                  this.values[m.output] = m.to;
                  this.executed.push({ name: 'RAMP_END', output: m.output, boardMs64: end64, hostMs: this.clock.now() });
                  this.send('EVENT', {
                    eventId: ++this.eventId,
                    boardMs: low32(end64),
                    kind: EVENT_KIND.APPLIED_SET,
                    output: m.output,
                    code: 0,
                    value: m.to,
                    aux: 0,
                  });
                },
                Math.max(0, this.hostAt(end64) - this.clock.now()),
              );
            }
          },
          Math.max(0, this.hostAt(at64) - this.clock.now()),
        ),
      );
    }
  }

  /** Latch a fault (FAULT_LATCHED event; output 0xFF board-wide) and drop the queues it blocks, as the real boards do. */
  latch(code: number, output: number): void {
    const outs = output === 0xff ? [0, 1, 2, 3] : [output];
    for (const o of outs) {
      for (const id of this.pending[o] ?? []) this.clock.clearTimeout(id);
      this.pending[o] = [];
      this.values[o] = 0;
    }
    this.send('EVENT', { eventId: ++this.eventId, boardMs: low32(this.nowMs()), kind: EVENT_KIND.FAULT_LATCHED, output, code, value: 0, aux: 0 });
  }

  private tick(): void {
    this.send('TELEMETRY', {
      boardMs: low32(this.nowMs()),
      tens1X10: this.values[0]!,
      tens2X10: this.values[1]!,
      usX100: this.values[2]!,
      padTargetCX10: this.values[3]!,
      padCX10: 300,
      headCX10: 300,
      tens1Ohm: 1000,
      tens2Ohm: 1000,
      coupled: 1,
      stopInput: 0,
      faults: 0,
      outputFaults: 0,
    });
    this.clock.setTimeout(() => this.tick(), 250 / (1 + this.ppm * 1e-6));
  }
}

/** A SerialBoard connected (on a virtual clock) to a DriftBoard whose clock runs `ppm` off. */
export async function connectDrift(ppm: number, bootMs = 5000) {
  const clock = new VirtualClock();
  const link = createLinkPair(clock);
  const fake = new DriftBoard(clock, link.board, ppm, bootMs);
  const { board, events } = await connectOnVirtualClock(clock, link.host, 'drift');
  return { clock, fake, board, events };
}
