/**
 * The reliable frame link under the serial driver (serial-board.ts): one frame
 * in flight, resent byte for byte until acknowledged (or the link is given up
 * as lost), urgent frames ahead of the queue, a PING when nothing else keeps
 * the board's lease, a watch for a silent board, and the link counters. It
 * knows frames and messages, not what they mean: the driver decides that.
 */
import type { Clock, TimerId } from '../clock.js';
import type { LinkCounters, OutputName } from './board.js';
import type { Transport } from './transport.js';
import { encodeFrame, FrameDecoder } from './wire/frame.js';
import { decodeMessage, encodeMessage, frameLengthOf, type Message, type MessageBody, type MessageOf } from './wire/messages.js';
import { HOST_TIMING, type MessageName } from './wire/spec.js';

/** A frame to send. Its seq is given when it is first sent, so frames go out in seq order even when an urgent one jumps the queue. */
export interface Pending {
  payload: Uint8Array;
  frame: Uint8Array;
  seq: number;
  name: MessageName;
  describe: string;
  output: OutputName | 'all' | null;
  tries: number;
  sentAt: number;
  /** The board's clock as its frames last told it when this frame was first sent (null: nothing heard yet). */
  boardMsAtFirst: number | null;
}

export interface SerialLinkOptions {
  leaseMs: number;
  retransmitMs: number;
  maxTries: number;
  silenceMs: number;
  trace?: ((dir: 'out' | 'in', msg: Message | null, bytes: Uint8Array, hostMs: number) => void) | undefined;
}

/** What the driver does with what the link hears. */
export interface SerialLinkHandlers {
  /** The in-flight frame was acknowledged (its ACK, whatever the status). */
  acked(p: Pending, ack: MessageOf<'ACK'>): void;
  /** Any other message from the board. */
  message(msg: Exclude<Message, { type: 'ACK' }>): void;
  /** The link is lost (no ACK after maxTries, the board silent, the port closed). */
  lost(reason: string): void;
  /** Still connecting: HELLO is sent again and again until connect times out, never given up. */
  connecting(): boolean;
  /** Is the silence watch on (the board identified, the link not lost)? */
  watching(): boolean;
}

/** A silence timer firing this much late means the host itself was stalled: wait once more this long for frames already on the line. */
const STALL_GRACE_MS = 50;

export class SerialLink {
  private seq = 0;
  /** The board's clock (u32 ms) in the newest frame heard that carries it (ACK, EVENT, TELEMETRY, ...). */
  private lastBoardMs: number | null = null;
  private queue: Pending[] = [];
  private inFlight: Pending | null = null;
  private retransmitTimer: TimerId | null = null;
  private heartbeatTimer: TimerId | null = null;
  private silenceTimer: TimerId | null = null;
  private readonly decoder: FrameDecoder;
  /** Sending has stopped: the link was lost, or closed. */
  stopped = false;
  /** Closed by the driver: incoming frames are ignored too. */
  closed = false;
  readonly counters: LinkCounters = { framesSent: 0, framesReceived: 0, retransmits: 0, crcErrors: 0, framingErrors: 0, bytesSent: 0, bytesReceived: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly transport: Transport,
    private readonly o: SerialLinkOptions,
    private readonly h: SerialLinkHandlers,
  ) {
    this.decoder = new FrameDecoder((f) => this.onFrame(f.seq, f.payload), frameLengthOf);
    transport.onData((bytes) => {
      this.counters.bytesReceived += bytes.length;
      this.decoder.push(bytes);
      this.counters.crcErrors = this.decoder.stats.crcErrors;
      this.counters.framingErrors = this.decoder.stats.framingErrors;
    });
    transport.onClose((reason) => h.lost(`the port closed (${reason})`));
  }

  send<N extends MessageName>(name: N, body: MessageBody<N>, describe: string, output: OutputName | 'all' | null, urgent = false): void {
    if (this.stopped) return;
    const p: Pending = {
      payload: encodeMessage(name, body),
      frame: new Uint8Array(0),
      seq: -1,
      name,
      describe,
      output,
      tries: 0,
      sentAt: 0,
      boardMsAtFirst: null,
    };
    if (urgent) this.queue.unshift(p);
    else this.queue.push(p);
    this.pump();
  }

  /** Stop sending: timers off, queue and in-flight frame dropped. */
  stop(): void {
    this.stopped = true;
    for (const t of [this.retransmitTimer, this.heartbeatTimer, this.silenceTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.retransmitTimer = this.heartbeatTimer = this.silenceTimer = null;
    this.queue = [];
    this.inFlight = null;
  }

  armSilence(): void {
    if (this.silenceTimer !== null) this.clock.clearTimeout(this.silenceTimer);
    const dueMs = this.clock.now() + this.o.silenceMs;
    const check = (graceUsed: boolean) => {
      // A timer that fires late means this process was stalled: the board's frames may be
      // waiting unread behind the timer. Give them one turn of the event loop to arrive.
      if (!graceUsed && this.clock.now() - dueMs > STALL_GRACE_MS) {
        this.silenceTimer = this.clock.setTimeout(() => check(true), STALL_GRACE_MS);
        return;
      }
      this.h.lost(`no frame from the board for ${this.o.silenceMs} ms`);
    };
    this.silenceTimer = this.clock.setTimeout(() => check(false), this.o.silenceMs);
  }

  private pump(): void {
    if (this.inFlight || this.stopped) return;
    const next = this.queue.shift();
    if (!next) return;
    next.seq = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    next.frame = encodeFrame(next.seq, next.payload);
    this.inFlight = next;
    this.transmit(next);
  }

  private transmit(p: Pending): void {
    if (p.tries === 0) p.boardMsAtFirst = this.lastBoardMs;
    p.tries++;
    if (p.tries > 1) this.counters.retransmits++;
    p.sentAt = this.clock.now();
    this.counters.framesSent++;
    this.counters.bytesSent += p.frame.length;
    this.o.trace?.('out', decodeMessage(p.frame.subarray(2, p.frame.length - 3)), p.frame, p.sentAt);
    this.transport.write(p.frame, { repeatable: p.name !== 'HELLO' });
    this.armHeartbeat();
    this.retransmitTimer = this.clock.setTimeout(() => {
      this.retransmitTimer = null;
      if (this.inFlight !== p) return;
      if (p.tries >= this.o.maxTries) {
        if (p.name === 'HELLO' && this.h.connecting()) {
          p.tries = 0;
          this.transmit(p);
          return;
        } // keep knocking until connect times out
        if (this.boardStillCatchingUp(p)) {
          this.transmit(p);
          return;
        }
        this.h.lost(`the board did not acknowledge ${p.describe} after ${p.tries} tries`);
        return;
      }
      this.transmit(p);
    }, this.o.retransmitMs);
  }

  /**
   * The tries are spent, but the board's own clock, as its frames report it, has not yet
   * moved on by the time they cover (maxTries × retransmitMs) since the first send: a
   * board that runs slow (a simulated AVR behind real time on a loaded machine) or frames
   * this host has not read yet (its own stall). Keep sending: the budget is counted on
   * the board's clock. A board that falls silent is lost by the silence watch instead.
   */
  private boardStillCatchingUp(p: Pending): boolean {
    if (p.boardMsAtFirst === null || this.lastBoardMs === null || !this.h.watching()) return false;
    const movedOnMs = (this.lastBoardMs - p.boardMsAtFirst) >>> 0;
    return movedOnMs < this.o.maxTries * this.o.retransmitMs;
  }

  private armHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.clock.setTimeout(
      () => {
        this.heartbeatTimer = null;
        if (!this.inFlight && this.queue.length === 0) this.send('PING', {}, 'PING', null);
        else this.armHeartbeat();
      },
      Math.floor((this.o.leaseMs * HOST_TIMING.heartbeatMs) / HOST_TIMING.leaseMs),
    ); // a quarter of the lease
  }

  private onFrame(seq: number, payload: Uint8Array): void {
    this.counters.framesReceived++;
    const msg = decodeMessage(payload);
    this.o.trace?.('in', msg, encodeFrame(seq, payload), this.clock.now()); // the same bytes as arrived (the CRC matched)
    // After a link loss we still listen: the board's own account (HOST_TIMEOUT, ...) may follow.
    if (this.closed) return;
    if (this.h.watching()) this.armSilence();
    if (!msg) return;
    if ('boardMs' in msg && typeof msg.boardMs === 'number') this.lastBoardMs = msg.boardMs;
    if (msg.type === 'ACK') return this.onAck(msg);
    this.h.message(msg);
  }

  private onAck(m: MessageOf<'ACK'>): void {
    const p = this.inFlight;
    if (!p || m.ackSeq !== p.seq) return; // a late duplicate answer
    if (this.retransmitTimer !== null) this.clock.clearTimeout(this.retransmitTimer);
    this.retransmitTimer = null;
    this.inFlight = null;
    this.h.acked(p, m);
    this.pump();
  }
}
