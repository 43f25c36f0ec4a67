/**
 * The board driver for wire protocol v1 (AVR firmware or the simulated board),
 * over any Transport: an in-process line in CI, a serial port or a pty on the
 * bench. Three parts: the reliable frame link (serial-link.ts: acks and
 * retransmission, heartbeat to keep the board's lease, the silence watch), the
 * message mapping (serial-messages.ts: wire integers and ids <-> clinical units
 * and names), and here the Board itself: the connect handshake, clock
 * synchronisation from ACK round trips (clock-sync.ts), commands held until
 * shortly before they are due, reliable events acknowledged and de-duplicated.
 *
 * Board times: the Board interface's times (boardNow, atMs, event boardMs) are
 * the board's clock extended to 64 bits and mapped to the host's rate
 * (clock-sync.ts); on the wire they are the board's raw u32 milliseconds. For a
 * board whose oscillator is exact the two are the same numbers.
 */
import type { Clock, TimerId } from '../clock.js';
import type { Board, BoardEvent, BoardInfo, LinkCounters, OutputName, TensConfig, UltrasoundConfig } from './board.js';
import { ConnectError } from './board.js';
import { ClockExtender, ClockSync, low32, type ClockEstimate } from './clock-sync.js';
import { SerialLink, type Pending } from './serial-link.js';
import { boardInfoFrom, eventsFrom, OUT_ID, tensConfigBody, telemetryFrom, ultrasoundConfigBody, VALUE, type BoardTimes } from './serial-messages.js';
import type { Transport } from './transport.js';
import { toWire } from './wire/units.js';
import { frameLengthOf, type Message, type MessageBody, type MessageOf } from './wire/messages.js';
import { HOST_TIMING, LINE, MESSAGES, PROTOCOL_VERSION, STATUS, STATUS_NAME, type FaultName, type MessageName } from './wire/spec.js';

export { faultNames } from './serial-messages.js';

export interface SerialBoardOptions {
  leaseMs?: number;
  /** Resend an unacknowledged frame after this long. */
  retransmitMs?: number;
  maxTries?: number;
  /** Board silent this long (no frame at all) = link lost. */
  silenceMs?: number;
  connectTimeoutMs?: number;
  scheduleMarginMs?: number;
  /** Called for every frame in both directions (for --trace). */
  trace?: (dir: 'out' | 'in', msg: Message | null, bytes: Uint8Array, hostMs: number) => void;
  /** Describes the link in errors ("serial:/dev/ttyUSB0"). */
  label?: string;
  /**
   * A SET/RAMP/OFF due further ahead than this (board ms) is held on the host and
   * sent this long before it is due, so its board time is computed with the clock
   * estimate of then rather than of now (a 30-minute plateau's end, sent at the
   * start, would otherwise carry the start's rate error). Infinity: send at once.
   */
  holdBeyondMs?: number;
}

/** The modality board did not answer, or answered with another protocol version. */
export class BoardConnectError extends ConnectError {}

/** Line time of one byte, and the length of an ACK frame (for the clock samples). */
const MS_PER_BYTE = (LINE.bitsPerByte * 1000) / LINE.baudRate;
const ACK_BYTES = frameLengthOf(MESSAGES.ACK.id) ?? 12;

/** A scheduled command held on the host until holdBeyondMs before it is due; built when released. */
interface Held {
  atMs: number;
  order: number;
  output: OutputName | 'all';
  send: () => void;
}

export class SerialBoard implements Board {
  info!: BoardInfo;
  readonly scheduleMarginMs: number;
  private readonly leaseMs: number;
  private readonly link: SerialLink;
  private readonly listeners = new Set<(e: BoardEvent) => void>();
  private readonly sync = new ClockSync();
  private readonly ext = new ClockExtender();
  private readonly holdBeyondMs: number;
  private held: Held[] = [];
  private heldOrder = 0;
  private holdTimer: TimerId | null = null;
  private lastNow = -Infinity;
  private seenEvents: number[] = [];
  private identifyWaiter: ((m: MessageOf<'IDENTIFY'>) => void) | null = null;
  private telemetryWaiter: (() => void) | null = null;
  private lastFaults: FaultName[] = [];
  private lost = false;
  private closed = false;
  /** close(): resolves the wait for BYE's ACK (or for the link to be given up). */
  private byeDone: (() => void) | null = null;
  /** The board's clock as the message mapping needs it. */
  private readonly times: BoardTimes = {
    engineTime: (boardMs) => this.engineTime(boardMs),
    durationFromBoard: (ms) => this.sync.durationFromBoard(ms),
  };

  private constructor(
    private readonly clock: Clock,
    private readonly transport: Transport,
    opts: SerialBoardOptions,
  ) {
    this.leaseMs = opts.leaseMs ?? HOST_TIMING.leaseMs;
    this.scheduleMarginMs = opts.scheduleMarginMs ?? HOST_TIMING.scheduleMarginMs;
    this.holdBeyondMs = opts.holdBeyondMs ?? 2000;
    this.link = new SerialLink(
      clock,
      transport,
      {
        leaseMs: this.leaseMs,
        retransmitMs: opts.retransmitMs ?? HOST_TIMING.retransmitMs,
        maxTries: opts.maxTries ?? HOST_TIMING.maxTries,
        silenceMs: opts.silenceMs ?? HOST_TIMING.silenceMs,
        trace: opts.trace,
      },
      {
        acked: (p, m) => this.onAck(p, m),
        message: (m) => this.onMessage(m),
        lost: (reason) => this.linkLost(reason),
        connecting: () => this.identifyWaiter !== null,
        watching: () => !!this.info && !this.lost,
      },
    );
  }

  /**
   * Open a session: HELLO until the board answers with ACK and IDENTIFY, or fail
   * with a clear message after connectTimeoutMs. Resolves on the given clock, so
   * with a virtual clock the caller must keep running it.
   */
  static connect(clock: Clock, transport: Transport, opts: SerialBoardOptions = {}): Promise<SerialBoard> {
    const board = new SerialBoard(clock, transport, opts);
    const timeoutMs = opts.connectTimeoutMs ?? HOST_TIMING.connectTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        board.identifyWaiter = null;
        board.telemetryWaiter = null;
        board.shutdown();
        reject(
          new BoardConnectError(
            `no answer from the board on ${opts.label ?? 'the link'} within ${timeoutMs} ms: check the cable, the port and that the board runs modality firmware (115200 baud)`,
          ),
        );
      }, timeoutMs);
      board.identifyWaiter = (m) => {
        board.identifyWaiter = null;
        if (m.protocolVersion !== PROTOCOL_VERSION) {
          clock.clearTimeout(timer);
          board.shutdown();
          reject(new BoardConnectError(`the board speaks wire protocol v${m.protocolVersion}; this modality speaks v${PROTOCOL_VERSION}`));
          return;
        }
        board.info = boardInfoFrom(m);
        board.link.armSilence();
        // Resolve on the first telemetry: then the faults the board has latched are known.
        board.telemetryWaiter = () => {
          clock.clearTimeout(timer);
          board.telemetryWaiter = null;
          resolve(board);
        };
      };
      board.enqueue('HELLO', { protocolVersion: PROTOCOL_VERSION, leaseMs: board.leaseMs }, 'HELLO', null, true);
    });
  }

  // ---------------------------------------------------------------- Board

  boardNow(): number {
    // Never backwards, even when a new fit moves the estimate back by a fraction of a ms.
    const v = Math.round(this.sync.engineNow(this.clock.now()));
    if (v > this.lastNow) this.lastNow = v;
    return this.lastNow;
  }

  /** The clock estimate: the board's rate against the host's, its standard error, the rate the mapping uses. */
  clockEstimate(): ClockEstimate {
    return this.sync.estimate();
  }

  configureTens(output: 'tens1' | 'tens2', cfg: TensConfig): void {
    this.enqueue('CONFIG_TENS', tensConfigBody(output, cfg), `CONFIG_TENS ${output}`, output);
  }

  configureUltrasound(cfg: UltrasoundConfig): void {
    this.enqueue('CONFIG_US', ultrasoundConfigBody(cfg), 'CONFIG_US', 'ultrasound');
  }

  set(output: OutputName, atMs: number, value: number): void {
    this.schedule(output, atMs, () =>
      this.enqueue('SET', { output: OUT_ID[output], atMs: this.wireAt(atMs), value: toWire(VALUE[output], value) }, `SET ${output} ${value}`, output),
    );
  }

  ramp(output: OutputName, atMs: number, from: number, to: number, durationMs: number): void {
    this.schedule(output, atMs, () => {
      const fromW = toWire(VALUE[output], from),
        toW = toWire(VALUE[output], to);
      let dur = Math.round(this.sync.durationToBoard(durationMs));
      if ((output === 'tens1' || output === 'tens2') && toW > fromW && this.info) {
        // A slow board counts a ramp at the slew limit in fewer of its own ms, and would refuse it:
        // stretch it to the board's limit (by at most the clock error) rather than have it refused.
        const minDur = Math.ceil(((toW - fromW) * 1000) / (this.info.maxTensSlewMaPerS * 10) - 1e-9);
        if (dur < minDur && Math.round(durationMs) >= minDur) dur = minDur;
      }
      this.enqueue('RAMP', { output: OUT_ID[output], atMs: this.wireAt(atMs), from: fromW, to: toW, durationMs: dur }, `RAMP ${output} ${from}→${to}`, output);
    });
  }

  off(output: OutputName | 'all', atMs: number | null): void {
    if (atMs === null) {
      this.dropHeld(output);
      this.enqueue('OFF', { output: OUT_ID[output], atMs: 0 }, `OFF ${output}`, output, true);
      return;
    }
    // atMs 0 on the wire means "now": a scheduled OFF whose low 32 bits are 0 (once in 49.7 days) goes 1 ms later.
    this.schedule(output, atMs, () => this.enqueue('OFF', { output: OUT_ID[output], atMs: Math.max(1, this.wireAt(atMs)) }, `OFF ${output}`, output));
  }

  cancel(output: OutputName | 'all'): void {
    this.dropHeld(output);
    this.enqueue('CANCEL', { output: OUT_ID[output] }, `CANCEL ${output}`, output);
  }

  clear(output: OutputName | 'all'): void {
    this.enqueue('CLEAR', { output: OUT_ID[output] }, `CLEAR ${output}`, output);
  }

  estop(): void {
    this.dropHeld('all');
    this.enqueue('ESTOP', {}, 'ESTOP', 'all', true);
  }

  latchedFaults(): FaultName[] {
    return [...this.lastFaults];
  }

  subscribe(listener: (e: BoardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  counters(): LinkCounters {
    return { ...this.link.counters, ...this.transport.hostStats?.() };
  }

  /**
   * End the session: BYE, after the frames already queued, so the board turns every
   * output off and closes the session without latching HOST_TIMEOUT; then close the
   * transport. Waits for BYE's ACK, whatever its status (NO_SESSION: a resend whose first
   * ACK was lost; BAD_MESSAGE: a board from before BYE, whose lease then runs out as it
   * always did), or for the link to be given up after maxTries sends. Frames that follow
   * the ACK (the board's APPLIED_OFF events) are not handled: the board sends them again
   * to the next session. With a virtual clock the caller must keep running it.
   */
  async close(): Promise<void> {
    if (this.info && !this.closed && !this.lost) {
      await new Promise<void>((resolve) => {
        this.byeDone = resolve;
        this.enqueue('BYE', {}, 'BYE', 'all');
      });
    }
    this.shutdown();
    await this.transport.close();
  }

  // ---------------------------------------------------------------- time

  /** An engine (Board interface) board time → the u32 atMs on the wire. */
  private wireAt(atMs: number): number {
    return low32(this.sync.toBoard(atMs));
  }

  /** A u32 boardMs from the wire → the engine's board time (64-bit, at the host's rate). */
  private engineTime(boardMs: number): number {
    return Math.round(this.sync.fromBoard(this.ext.extend(boardMs)));
  }

  /** Send a scheduled command now, or hold it until holdBeyondMs before it is due. */
  private schedule(output: OutputName | 'all', atMs: number, send: () => void): void {
    if (this.closed || this.lost) return;
    if (!(atMs - this.sync.engineNow(this.clock.now()) > this.holdBeyondMs)) {
      send();
      return;
    }
    this.held.push({ atMs, order: this.heldOrder++, output, send });
    this.armHold();
  }

  private armHold(): void {
    if (this.holdTimer !== null) this.clock.clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.held.length === 0 || this.closed || this.lost) return;
    let next = Infinity;
    for (const h of this.held) next = Math.min(next, h.atMs);
    const wait = next - this.holdBeyondMs - this.sync.engineNow(this.clock.now());
    this.holdTimer = this.clock.setTimeout(
      () => {
        this.holdTimer = null;
        this.releaseHeld();
      },
      Math.max(0, Math.ceil(wait)),
    );
  }

  private releaseHeld(): void {
    const now = this.sync.engineNow(this.clock.now());
    const due = this.held.filter((h) => h.atMs - now <= this.holdBeyondMs + 1).sort((a, b) => a.atMs - b.atMs || a.order - b.order);
    this.held = this.held.filter((h) => !due.includes(h));
    for (const h of due) h.send();
    this.armHold();
  }

  /** The board dropped (or is told to drop) an output's queue: drop what the host holds for it too. */
  private dropHeld(output: OutputName | 'all'): void {
    if (this.held.length === 0) return;
    this.held = output === 'all' ? [] : this.held.filter((h) => h.output !== output);
    this.armHold();
  }

  // ---------------------------------------------------------------- sending

  private enqueue<N extends MessageName>(name: N, body: MessageBody<N>, describe: string, output: OutputName | 'all' | null, urgent = false): void {
    if (this.closed || this.lost) return;
    this.link.send(name, body, describe, output, urgent);
  }

  // ---------------------------------------------------------------- receiving

  private onMessage(msg: Exclude<Message, { type: 'ACK' }>): void {
    switch (msg.type) {
      case 'IDENTIFY':
        this.sync.addRough(this.clock.now(), this.ext.extend(msg.boardMs)); // a first guess, until ACK round trips measure better
        this.identifyWaiter?.(msg);
        return;
      case 'TELEMETRY': {
        const telemetry = telemetryFrom(msg, this.times);
        this.lastFaults = telemetry.faults;
        this.telemetryWaiter?.();
        return this.emit({ type: 'telemetry', telemetry });
      }
      case 'EVENT':
        return this.onEvent(msg);
      default:
        return;
    }
  }

  /** The in-flight frame's ACK: a clock sample, and a refusal if the board refused it. */
  private onAck(p: Pending, m: MessageOf<'ACK'>): void {
    const board64 = this.ext.extend(m.boardMs);
    // Only first-try round trips are unambiguous samples of the clock.
    if (p.tries === 1) this.sync.addSample(p.sentAt, this.clock.now(), board64, p.frame.length * MS_PER_BYTE, ACK_BYTES * MS_PER_BYTE);
    if (p.name === 'BYE') {
      // the session is over, whatever the status: send nothing more
      this.shutdown();
      this.byeDone?.();
      return;
    }
    if (m.status !== STATUS.OK) {
      this.emit({
        type: 'refused',
        output: p.output,
        status: STATUS_NAME[m.status] ?? 'BAD_MESSAGE',
        boardMs: Math.round(this.sync.fromBoard(board64)),
        command: p.describe,
      });
    }
  }

  private onEvent(m: MessageOf<'EVENT'>): void {
    this.enqueue('EVENT_ACK', { eventId: m.eventId }, `EVENT_ACK ${m.eventId}`, null, true);
    if (this.seenEvents.includes(m.eventId)) return;
    this.seenEvents.push(m.eventId);
    if (this.seenEvents.length > 64) this.seenEvents.shift();
    const { events, dropHeld } = eventsFrom(m, this.times);
    if (dropHeld !== null) this.dropHeld(dropHeld); // the board dropped that queue (a cut, a latch): drop what the host holds for it
    for (const e of events) this.emit(e);
  }

  private emit(e: BoardEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  private linkLost(reason: string): void {
    if (this.lost || this.closed) return;
    this.lost = true;
    this.stopSending();
    this.byeDone?.(); // close() waits no longer
    this.emit({ type: 'linkLost', reason });
  }

  private shutdown(): void {
    this.closed = true;
    this.link.closed = true;
    this.stopSending();
  }

  private stopSending(): void {
    this.link.stop();
    this.transport.silence?.();
    if (this.holdTimer !== null) this.clock.clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.held = [];
  }
}
