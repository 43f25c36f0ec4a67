/**
 * The board driver for wire protocol v1 (AVR firmware or the simulated board),
 * over any Transport: an in-process line in CI, a serial port or a pty on the
 * bench. Acks and retransmission (one frame in flight, same bytes resent),
 * clock synchronisation from ACK round trips, heartbeat to keep the board's
 * lease, reliable events acknowledged and de-duplicated.
 *
 * Board times: the Board interface's times (boardNow, atMs, event boardMs) are
 * the board's clock extended to 64 bits and mapped to the host's rate
 * (clock-sync.ts); on the wire they are the board's raw u32 milliseconds. For a
 * board whose oscillator is exact the two are the same numbers.
 */
import type { Clock, TimerId } from '../clock.js';
import type { Board, BoardEvent, BoardInfo, LinkCounters, OutputName, TensConfig, Telemetry, UltrasoundConfig } from './board.js';
import { ConnectError, OUTPUT_NAMES } from './board.js';
import { ClockExtender, ClockSync, low32, type ClockEstimate } from './clock-sync.js';
import type { Transport } from './transport.js';
import { fromWire, toWire, WIRE_QUANTITIES as WQ, type WireQuantity } from './wire/units.js';
import { encodeFrame, FrameDecoder } from './wire/frame.js';
import { decodeMessage, encodeMessage, frameLengthOf, type Message, type MessageBody, type MessageOf } from './wire/messages.js';
import { BOARD_LIMITS, EVENT_KIND, FAULT_NAME, HOST_TIMING, LINE, MESSAGES, OUTPUT, PROTOCOL_VERSION, STATUS, STATUS_NAME, type FaultName, type MessageName } from './wire/spec.js';

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

const OUT_ID: Record<OutputName | 'all', number> = { tens1: OUTPUT.tens1, tens2: OUTPUT.tens2, ultrasound: OUTPUT.ultrasound, pad: OUTPUT.pad, all: OUTPUT.all };

function outName(id: number): OutputName | 'all' {
  return id === OUTPUT.all ? 'all' : (OUTPUT_NAMES[id] ?? 'all');
}

/** What SET/RAMP `value` means, per output (wire/units.ts: the table validate checks against). */
const VALUE: Record<OutputName, WireQuantity> = { tens1: WQ.tensAmplitudeMa, tens2: WQ.tensAmplitudeMa, ultrasound: WQ.usIntensityWPerCm2, pad: WQ.padTargetC };

export function faultNames(mask: number): FaultName[] {
  const out: FaultName[] = [];
  for (let c = 1; c <= 16; c++) if (mask & (1 << (c - 1)) && FAULT_NAME[c]) out.push(FAULT_NAME[c] as FaultName);
  return out;
}

/** A frame to send. Its seq is given when it is first sent, so frames go out in seq order even when an urgent one jumps the queue. */
interface Pending { payload: Uint8Array; frame: Uint8Array; seq: number; name: MessageName; describe: string; output: OutputName | 'all' | null; tries: number; sentAt: number }

/** A scheduled command held on the host until holdBeyondMs before it is due; built when released. */
interface Held { atMs: number; order: number; output: OutputName | 'all'; send: () => void }

/** A silence timer firing this much late means the host itself was stalled: wait once more this long for frames already on the line. */
const STALL_GRACE_MS = 50;

export class SerialBoard implements Board {
  info!: BoardInfo;
  readonly scheduleMarginMs: number;
  private readonly leaseMs: number;
  private readonly retransmitMs: number;
  private readonly maxTries: number;
  private readonly silenceMs: number;
  private readonly decoder: FrameDecoder;
  private readonly listeners = new Set<(e: BoardEvent) => void>();
  private seq = 0;
  private queue: Pending[] = [];
  private inFlight: Pending | null = null;
  private retransmitTimer: TimerId | null = null;
  private heartbeatTimer: TimerId | null = null;
  private silenceTimer: TimerId | null = null;
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
  private readonly c: LinkCounters = { framesSent: 0, framesReceived: 0, retransmits: 0, crcErrors: 0, framingErrors: 0, bytesSent: 0, bytesReceived: 0 };

  private constructor(private readonly clock: Clock, private readonly transport: Transport, private readonly opts: SerialBoardOptions) {
    this.leaseMs = opts.leaseMs ?? HOST_TIMING.leaseMs;
    this.retransmitMs = opts.retransmitMs ?? HOST_TIMING.retransmitMs;
    this.maxTries = opts.maxTries ?? HOST_TIMING.maxTries;
    this.silenceMs = opts.silenceMs ?? HOST_TIMING.silenceMs;
    this.scheduleMarginMs = opts.scheduleMarginMs ?? HOST_TIMING.scheduleMarginMs;
    this.holdBeyondMs = opts.holdBeyondMs ?? 2000;
    this.decoder = new FrameDecoder((f) => this.onFrame(f.seq, f.payload), frameLengthOf);
    transport.onData((bytes) => {
      this.c.bytesReceived += bytes.length;
      this.decoder.push(bytes);
      this.c.crcErrors = this.decoder.stats.crcErrors;
      this.c.framingErrors = this.decoder.stats.framingErrors;
    });
    transport.onClose((reason) => this.linkLost(`the port closed (${reason})`));
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
        reject(new BoardConnectError(`no answer from the board on ${opts.label ?? 'the link'} within ${timeoutMs} ms: check the cable, the port and that the board runs modality firmware (115200 baud)`));
      }, timeoutMs);
      board.identifyWaiter = (m) => {
        board.identifyWaiter = null;
        if (m.protocolVersion !== PROTOCOL_VERSION) {
          clock.clearTimeout(timer);
          board.shutdown();
          reject(new BoardConnectError(`the board speaks wire protocol v${m.protocolVersion}; this modality speaks v${PROTOCOL_VERSION}`));
          return;
        }
        board.info = {
          protocolVersion: m.protocolVersion,
          firmware: `${m.fwMajor}.${m.fwMinor}.${m.fwPatch}`,
          kind: m.boardKind === 1 ? 'simulated' : m.boardKind === 2 ? 'avr' : 'unknown',
          tensChannels: m.tensChannels,
          hasUltrasound: m.hasUltrasound === 1,
          hasPad: m.hasPad === 1,
          maxTensMa: m.maxTensMaX10 / 10,
          maxTensSlewMaPerS: m.maxTensSlewMaPerSX10 / 10,
          maxUsWPerCm2: m.maxUsWPerCm2X100 / 100,
          maxPadC: m.maxPadCX10 / 10,
          minPadC: m.minPadCX10 / 10,
          leaseMs: m.leaseMs,
          // Not in HELLO: the firmware is built with these same constants (wire_spec.h, generated from spec.ts).
          maxTensDensityAckMaPerCm2: BOARD_LIMITS.maxTensDensityAckMaPerCm2,
          runawayHysteresisC: BOARD_LIMITS.runawayHysteresisC,
          runawayPeriodMs: BOARD_LIMITS.runawayPeriodMs,
          timing: 'board',
        };
        board.armSilence();
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
    const mod = cfg.modulation;
    this.enqueue('CONFIG_TENS', {
      output: OUT_ID[output],
      rateHz: toWire(WQ.tensRateHz, cfg.rateHz),
      pulseWidthUs: toWire(WQ.tensPulseWidthUs, cfg.pulseWidthUs),
      waveform: cfg.waveform === 'symmetric-biphasic' ? 1 : 0,
      electrodeAreaCm2x10: toWire(WQ.electrodeAreaCm2, cfg.electrodeAreaCm2),
      flags: cfg.highDensityAcknowledged ? 1 : 0,
      burstsPerS: toWire(WQ.burstsPerS, cfg.burst?.burstsPerS ?? 0),
      pulsesPerBurst: toWire(WQ.pulsesPerBurst, cfg.burst?.pulsesPerBurst ?? 0),
      modKind: mod ? { rate: 1, width: 2, amplitude: 3 }[mod.kind] : 0,
      modMinPct: toWire(WQ.modMinPct, mod?.minPct ?? 100),
      modPeriodDs: mod ? toWire(WQ.modPeriodS, mod.periodS) : 0,
    }, `CONFIG_TENS ${output}`, output);
  }

  configureUltrasound(cfg: UltrasoundConfig): void {
    this.enqueue('CONFIG_US', {
      frequencyMHz: toWire(WQ.usFrequencyMHz, cfg.frequencyMHz),
      dutyCyclePct: toWire(WQ.usDutyCyclePct, cfg.dutyCyclePct),
      eraCm2x10: toWire(WQ.eraCm2, cfg.eraCm2),
    }, 'CONFIG_US', 'ultrasound');
  }

  set(output: OutputName, atMs: number, value: number): void {
    this.schedule(output, atMs, () =>
      this.enqueue('SET', { output: OUT_ID[output], atMs: this.wireAt(atMs), value: toWire(VALUE[output], value) }, `SET ${output} ${value}`, output));
  }

  ramp(output: OutputName, atMs: number, from: number, to: number, durationMs: number): void {
    this.schedule(output, atMs, () => {
      const fromW = toWire(VALUE[output], from), toW = toWire(VALUE[output], to);
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
    return { ...this.c, ...this.transport.hostStats?.() };
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
    if (!(atMs - this.sync.engineNow(this.clock.now()) > this.holdBeyondMs)) { send(); return; }
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
    this.holdTimer = this.clock.setTimeout(() => {
      this.holdTimer = null;
      this.releaseHeld();
    }, Math.max(0, Math.ceil(wait)));
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
    const p: Pending = { payload: encodeMessage(name, body), frame: new Uint8Array(0), seq: -1, name, describe, output, tries: 0, sentAt: 0 };
    if (urgent) this.queue.unshift(p);
    else this.queue.push(p);
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || this.closed || this.lost) return;
    const next = this.queue.shift();
    if (!next) return;
    next.seq = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    next.frame = encodeFrame(next.seq, next.payload);
    this.inFlight = next;
    this.transmit(next);
  }

  private transmit(p: Pending): void {
    p.tries++;
    if (p.tries > 1) this.c.retransmits++;
    p.sentAt = this.clock.now();
    this.c.framesSent++;
    this.c.bytesSent += p.frame.length;
    this.opts.trace?.('out', decodeMessage(p.frame.subarray(2, p.frame.length - 3)), p.frame, p.sentAt);
    this.transport.write(p.frame, { repeatable: p.name !== 'HELLO' });
    this.armHeartbeat();
    this.retransmitTimer = this.clock.setTimeout(() => {
      this.retransmitTimer = null;
      if (this.inFlight !== p) return;
      if (p.tries >= this.maxTries) {
        if (p.name === 'HELLO' && this.identifyWaiter) { p.tries = 0; this.transmit(p); return; } // keep knocking until connect times out
        this.linkLost(`the board did not acknowledge ${p.describe} after ${p.tries} tries`);
        return;
      }
      this.transmit(p);
    }, this.retransmitMs);
  }

  private armHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeatTimer = null;
      if (!this.inFlight && this.queue.length === 0) this.enqueue('PING', {}, 'PING', null);
      else this.armHeartbeat();
    }, Math.floor((this.leaseMs * HOST_TIMING.heartbeatMs) / HOST_TIMING.leaseMs)); // a quarter of the lease
  }

  private armSilence(): void {
    if (this.silenceTimer !== null) this.clock.clearTimeout(this.silenceTimer);
    const dueMs = this.clock.now() + this.silenceMs;
    const check = (graceUsed: boolean) => {
      // A timer that fires late means this process was stalled: the board's frames may be
      // waiting unread behind the timer. Give them one turn of the event loop to arrive.
      if (!graceUsed && this.clock.now() - dueMs > STALL_GRACE_MS) {
        this.silenceTimer = this.clock.setTimeout(() => check(true), STALL_GRACE_MS);
        return;
      }
      this.linkLost(`no frame from the board for ${this.silenceMs} ms`);
    };
    this.silenceTimer = this.clock.setTimeout(() => check(false), this.silenceMs);
  }

  // ---------------------------------------------------------------- receiving

  private onFrame(seq: number, payload: Uint8Array): void {
    this.c.framesReceived++;
    const msg = decodeMessage(payload);
    this.opts.trace?.('in', msg, encodeFrame(seq, payload), this.clock.now()); // the same bytes as arrived (the CRC matched)
    // After a link loss we still listen: the board's own account (HOST_TIMEOUT, ...) may follow.
    if (this.closed) return;
    if (this.info && !this.lost) this.armSilence();
    if (!msg) return;
    switch (msg.type) {
      case 'ACK': return this.onAck(msg);
      case 'IDENTIFY':
        this.sync.addRough(this.clock.now(), this.ext.extend(msg.boardMs)); // a first guess, until ACK round trips measure better
        this.identifyWaiter?.(msg);
        return;
      case 'TELEMETRY': {
        const telemetry = this.telemetry(msg);
        this.lastFaults = telemetry.faults;
        this.telemetryWaiter?.();
        return this.emit({ type: 'telemetry', telemetry });
      }
      case 'EVENT': return this.onEvent(msg);
      default: return;
    }
  }

  private onAck(m: MessageOf<'ACK'>): void {
    const p = this.inFlight;
    if (!p || m.ackSeq !== p.seq) return; // a late duplicate answer
    if (this.retransmitTimer !== null) this.clock.clearTimeout(this.retransmitTimer);
    this.retransmitTimer = null;
    this.inFlight = null;
    const board64 = this.ext.extend(m.boardMs);
    // Only first-try round trips are unambiguous samples of the clock.
    if (p.tries === 1) this.sync.addSample(p.sentAt, this.clock.now(), board64, p.frame.length * MS_PER_BYTE, ACK_BYTES * MS_PER_BYTE);
    if (p.name === 'BYE') { // the session is over, whatever the status: send nothing more
      this.shutdown();
      this.byeDone?.();
      return;
    }
    if (m.status !== STATUS.OK) {
      this.emit({ type: 'refused', output: p.output, status: STATUS_NAME[m.status] ?? 'BAD_MESSAGE', boardMs: Math.round(this.sync.fromBoard(board64)), command: p.describe });
    }
    this.pump();
  }

  private onEvent(m: MessageOf<'EVENT'>): void {
    this.enqueue('EVENT_ACK', { eventId: m.eventId }, `EVENT_ACK ${m.eventId}`, null, true);
    if (this.seenEvents.includes(m.eventId)) return;
    this.seenEvents.push(m.eventId);
    if (this.seenEvents.length > 64) this.seenEvents.shift();
    const output = outName(m.output);
    const value = output === 'all' ? m.value : fromWire(VALUE[output], m.value);
    const fault = FAULT_NAME[m.code];
    const boardMs = this.engineTime(m.boardMs);
    switch (m.kind) {
      case EVENT_KIND.APPLIED_SET:
        if (output !== 'all') this.emit({ type: 'applied', output, boardMs, action: 'set', value });
        return;
      case EVENT_KIND.RAMP_START:
        if (output !== 'all') this.emit({ type: 'applied', output, boardMs, action: 'ramp', value, durationMs: Math.round(this.sync.durationFromBoard(m.aux)) });
        return;
      case EVENT_KIND.APPLIED_OFF:
        if (fault) this.dropHeld(output); // a cut: the board dropped that queue
        // protocol v1 boards send one APPLIED_OFF per output; an older firmware sent one for 0xFF
        // after a board-wide latch: it cut every output, and the accounting must see each cut
        for (const o of output === 'all' ? OUTPUT_NAMES : [output]) this.emit({ type: 'applied', output: o, boardMs, action: 'off', value: 0, ...(fault ? { cause: fault } : {}) });
        return;
      case EVENT_KIND.FAULT_LATCHED:
        this.dropHeld(output); // a latch drops the queues it blocks
        return this.emit({ type: 'fault', code: fault ?? 'LIMIT', output, boardMs });
      case EVENT_KIND.FAULT_CLEARED:
        return this.emit({ type: 'faultCleared', output, boardMs });
      case EVENT_KIND.CAUSE_GONE:
        if (output !== 'all') this.emit({ type: 'causeGone', output, code: fault ?? 'LIMIT', boardMs });
        return;
      case EVENT_KIND.PAD_AT_TARGET:
        return this.emit({ type: 'padAtTarget', targetC: fromWire(WQ.padTargetC, m.value), boardMs });
      case EVENT_KIND.REFUSED:
        return this.emit({ type: 'refused', output, status: STATUS_NAME[m.code] ?? 'BAD_MESSAGE', boardMs, command: `queued command for ${output}` });
      default:
        return;
    }
  }

  private telemetry(m: MessageOf<'TELEMETRY'>): Telemetry {
    return {
      boardMs: this.engineTime(m.boardMs),
      tensMa: [fromWire(WQ.tensAmplitudeMa, m.tens1X10), fromWire(WQ.tensAmplitudeMa, m.tens2X10)],
      usWPerCm2: fromWire(WQ.usIntensityWPerCm2, m.usX100),
      padTargetC: m.padTargetCX10 === 0 ? null : fromWire(WQ.padTargetC, m.padTargetCX10),
      padC: m.padCX10 / 10,
      headC: m.headCX10 / 10,
      electrodeOhm: [m.tens1Ohm === 0xffff ? null : m.tens1Ohm, m.tens2Ohm === 0xffff ? null : m.tens2Ohm],
      coupled: m.coupled === 1,
      stopInput: m.stopInput === 1,
      faults: faultNames(m.faults),
    };
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
    this.stopSending();
  }

  private stopSending(): void {
    for (const t of [this.retransmitTimer, this.heartbeatTimer, this.silenceTimer, this.holdTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.retransmitTimer = this.heartbeatTimer = this.silenceTimer = this.holdTimer = null;
    this.held = [];
    this.queue = [];
    this.inFlight = null;
  }
}
