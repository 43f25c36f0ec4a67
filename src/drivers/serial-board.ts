/**
 * The board driver for wire protocol v1 (AVR firmware or the simulated board),
 * over any Transport: an in-process line in CI, a serial port or a pty on the
 * bench. Acks and retransmission (one frame in flight, same bytes resent),
 * clock synchronisation from ACK round trips, heartbeat to keep the board's
 * lease, reliable events acknowledged and de-duplicated.
 */
import type { Clock, TimerId } from '../clock.js';
import type { Board, BoardEvent, BoardInfo, LinkCounters, OutputName, TensConfig, Telemetry, UltrasoundConfig } from './board.js';
import { ConnectError, OUTPUT_NAMES } from './board.js';
import type { Transport } from './transport.js';
import { encodeFrame, FrameDecoder } from './wire/frame.js';
import { decodeMessage, encodeMessage, frameLengthOf, type Message, type MessageBody, type MessageOf } from './wire/messages.js';
import { EVENT_KIND, FAULT, OUTPUT, PROTOCOL_VERSION, STATUS, type FaultName, type MessageName, type StatusName } from './wire/spec.js';

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
}

/** The modality board did not answer, or answered with another protocol version. */
export class BoardConnectError extends ConnectError {}

const FAULT_NAME = Object.fromEntries(Object.entries(FAULT).map(([k, v]) => [v, k])) as Record<number, FaultName>;
const STATUS_NAME = Object.fromEntries(Object.entries(STATUS).map(([k, v]) => [v, k])) as Record<number, StatusName>;
const OUT_ID: Record<OutputName | 'all', number> = { tens1: OUTPUT.tens1, tens2: OUTPUT.tens2, ultrasound: OUTPUT.ultrasound, pad: OUTPUT.pad, all: OUTPUT.all };

function outName(id: number): OutputName | 'all' {
  return id === OUTPUT.all ? 'all' : (OUTPUT_NAMES[id] ?? 'all');
}

/** Wire units per clinical unit, per output. */
const SCALE: Record<OutputName, number> = { tens1: 10, tens2: 10, ultrasound: 100, pad: 10 };

export function faultNames(mask: number): FaultName[] {
  const out: FaultName[] = [];
  for (let c = 1; c <= 16; c++) if (mask & (1 << (c - 1)) && FAULT_NAME[c]) out.push(FAULT_NAME[c] as FaultName);
  return out;
}

interface Pending { frame: Uint8Array; seq: number; name: MessageName; describe: string; output: OutputName | 'all' | null; tries: number; sentAt: number }

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
  private offsetMs: number | null = null;
  private syncSamples: { rtt: number; offset: number }[] = [];
  private seenEvents: number[] = [];
  private identifyWaiter: ((m: MessageOf<'IDENTIFY'>) => void) | null = null;
  private telemetryWaiter: (() => void) | null = null;
  private lastFaults: FaultName[] = [];
  private lost = false;
  private closed = false;
  private readonly c: LinkCounters = { framesSent: 0, framesReceived: 0, retransmits: 0, crcErrors: 0, framingErrors: 0, bytesSent: 0, bytesReceived: 0 };

  private constructor(private readonly clock: Clock, private readonly transport: Transport, private readonly opts: SerialBoardOptions) {
    this.leaseMs = opts.leaseMs ?? 400;
    this.retransmitMs = opts.retransmitMs ?? 50;
    this.maxTries = opts.maxTries ?? 8;
    this.silenceMs = opts.silenceMs ?? 1500;
    this.scheduleMarginMs = opts.scheduleMarginMs ?? 250;
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
    const timeoutMs = opts.connectTimeoutMs ?? 3000;
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
    return Math.round(this.clock.now() + (this.offsetMs ?? 0));
  }

  configureTens(output: 'tens1' | 'tens2', cfg: TensConfig): void {
    const mod = cfg.modulation;
    this.enqueue('CONFIG_TENS', {
      output: OUT_ID[output],
      rateHz: Math.round(cfg.rateHz),
      pulseWidthUs: Math.round(cfg.pulseWidthUs),
      waveform: cfg.waveform === 'symmetric-biphasic' ? 1 : 0,
      electrodeAreaCm2x10: Math.round(cfg.electrodeAreaCm2 * 10),
      flags: cfg.highDensityAcknowledged ? 1 : 0,
      burstsPerS: cfg.burst?.burstsPerS ?? 0,
      pulsesPerBurst: cfg.burst?.pulsesPerBurst ?? 0,
      modKind: mod ? { rate: 1, width: 2, amplitude: 3 }[mod.kind] : 0,
      modMinPct: mod?.minPct ?? 100,
      modPeriodDs: mod ? Math.round(mod.periodS * 10) : 0,
    }, `CONFIG_TENS ${output}`, output);
  }

  configureUltrasound(cfg: UltrasoundConfig): void {
    this.enqueue('CONFIG_US', { frequencyMHz: cfg.frequencyMHz, dutyCyclePct: cfg.dutyCyclePct, eraCm2x10: Math.round(cfg.eraCm2 * 10) }, 'CONFIG_US', 'ultrasound');
  }

  set(output: OutputName, atMs: number, value: number): void {
    this.enqueue('SET', { output: OUT_ID[output], atMs: Math.round(atMs), value: Math.round(value * SCALE[output]) }, `SET ${output} ${value}`, output);
  }

  ramp(output: OutputName, atMs: number, from: number, to: number, durationMs: number): void {
    const s = SCALE[output];
    this.enqueue('RAMP', { output: OUT_ID[output], atMs: Math.round(atMs), from: Math.round(from * s), to: Math.round(to * s), durationMs: Math.round(durationMs) }, `RAMP ${output} ${from}→${to}`, output);
  }

  off(output: OutputName | 'all', atMs: number | null): void {
    this.enqueue('OFF', { output: OUT_ID[output], atMs: atMs === null ? 0 : Math.max(1, Math.round(atMs)) }, `OFF ${output}`, output, atMs === null);
  }

  cancel(output: OutputName | 'all'): void {
    this.enqueue('CANCEL', { output: OUT_ID[output] }, `CANCEL ${output}`, output);
  }

  clear(output: OutputName | 'all'): void {
    this.enqueue('CLEAR', { output: OUT_ID[output] }, `CLEAR ${output}`, output);
  }

  estop(): void {
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
    return { ...this.c };
  }

  async close(): Promise<void> {
    this.shutdown();
    await this.transport.close();
  }

  // ---------------------------------------------------------------- sending

  private enqueue<N extends MessageName>(name: N, body: MessageBody<N>, describe: string, output: OutputName | 'all' | null, urgent = false): void {
    if (this.closed || this.lost) return;
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    const p: Pending = { frame: encodeFrame(seq, encodeMessage(name, body)), seq, name, describe, output, tries: 0, sentAt: 0 };
    if (urgent) this.queue.unshift(p);
    else this.queue.push(p);
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || this.closed || this.lost) return;
    const next = this.queue.shift();
    if (!next) return;
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
    this.transport.write(p.frame);
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
    }, Math.floor(this.leaseMs / 4));
  }

  private armSilence(): void {
    if (this.silenceTimer !== null) this.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = this.clock.setTimeout(() => this.linkLost(`no frame from the board for ${this.silenceMs} ms`), this.silenceMs);
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
      case 'IDENTIFY': this.sample(msg.boardMs, 1e6); // a first guess, until ACK round trips measure better
         this.identifyWaiter?.(msg); return;
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
    // Only first-try round trips are unambiguous samples of the clock offset.
    if (p.tries === 1) this.sample(m.boardMs, this.clock.now() - p.sentAt);
    if (m.status !== STATUS.OK) {
      this.emit({ type: 'refused', output: p.output, status: STATUS_NAME[m.status] ?? 'BAD_MESSAGE', boardMs: m.boardMs, command: p.describe });
    }
    this.pump();
  }

  /** Clock sync, as Klipper's clocksync: trust the sample with the shortest round trip lately. */
  private sample(boardMs: number, rttMs: number): void {
    const hostMid = this.clock.now() - rttMs / 2;
    this.syncSamples.push({ rtt: rttMs, offset: boardMs - hostMid });
    if (this.syncSamples.length > 32) this.syncSamples.shift();
    let best = this.syncSamples[0] as { rtt: number; offset: number };
    for (const s of this.syncSamples) if (s.rtt < best.rtt) best = s;
    this.offsetMs = best.offset;
  }

  private onEvent(m: MessageOf<'EVENT'>): void {
    this.enqueue('EVENT_ACK', { eventId: m.eventId }, `EVENT_ACK ${m.eventId}`, null, true);
    if (this.seenEvents.includes(m.eventId)) return;
    this.seenEvents.push(m.eventId);
    if (this.seenEvents.length > 64) this.seenEvents.shift();
    const output = outName(m.output);
    const value = output === 'all' ? m.value : m.value / SCALE[output];
    const fault = FAULT_NAME[m.code];
    switch (m.kind) {
      case EVENT_KIND.APPLIED_SET:
        if (output !== 'all') this.emit({ type: 'applied', output, boardMs: m.boardMs, action: 'set', value });
        return;
      case EVENT_KIND.RAMP_START:
        if (output !== 'all') this.emit({ type: 'applied', output, boardMs: m.boardMs, action: 'ramp', value, durationMs: m.aux });
        return;
      case EVENT_KIND.APPLIED_OFF:
        if (output !== 'all') this.emit({ type: 'applied', output, boardMs: m.boardMs, action: 'off', value: 0, ...(fault ? { cause: fault } : {}) });
        return;
      case EVENT_KIND.FAULT_LATCHED:
        return this.emit({ type: 'fault', code: fault ?? 'LIMIT', output, boardMs: m.boardMs });
      case EVENT_KIND.FAULT_CLEARED:
        return this.emit({ type: 'faultCleared', output, boardMs: m.boardMs });
      case EVENT_KIND.CAUSE_GONE:
        if (output !== 'all') this.emit({ type: 'causeGone', output, code: fault ?? 'LIMIT', boardMs: m.boardMs });
        return;
      case EVENT_KIND.PAD_AT_TARGET:
        return this.emit({ type: 'padAtTarget', targetC: m.value / 10, boardMs: m.boardMs });
      case EVENT_KIND.REFUSED:
        return this.emit({ type: 'refused', output, status: STATUS_NAME[m.code] ?? 'BAD_MESSAGE', boardMs: m.boardMs, command: `queued command for ${output}` });
      default:
        return;
    }
  }

  private telemetry(m: MessageOf<'TELEMETRY'>): Telemetry {
    return {
      boardMs: m.boardMs,
      tensMa: [m.tens1X10 / 10, m.tens2X10 / 10],
      usWPerCm2: m.usX100 / 100,
      padTargetC: m.padTargetCX10 === 0 ? null : m.padTargetCX10 / 10,
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
    this.emit({ type: 'linkLost', reason });
  }

  private shutdown(): void {
    this.closed = true;
    this.stopSending();
  }

  private stopSending(): void {
    for (const t of [this.retransmitTimer, this.heartbeatTimer, this.silenceTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.retransmitTimer = this.heartbeatTimer = this.silenceTimer = null;
    this.queue = [];
    this.inFlight = null;
  }
}
