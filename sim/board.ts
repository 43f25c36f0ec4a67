/**
 * The simulated board: a real peer of the firmware. It speaks wire protocol v1
 * byte for byte over any Transport, runs on the shared clock, and enforces the
 * same limits and safety behaviour as firmware-host/core (docs/protocol.md,
 * "What the board does on its own"). The conformance suite runs the same
 * scenarios against both.
 *
 * It is event-driven rather than ticked: ramps are computed exactly, queued
 * commands fire at their due time, and the plants integrate every 100 ms, so a
 * 30-minute session is a few tens of thousands of clock events.
 */
import type { Clock, TimerId } from '../src/clock.js';
import type { Transport } from '../src/drivers/transport.js';
import { crc16 } from '../src/drivers/wire/crc.js';
import { encodeFrame, FrameDecoder } from '../src/drivers/wire/frame.js';
import { decodeMessage, encodeMessage, frameLengthOf, type Message, type MessageBody, type MessageOf } from '../src/drivers/wire/messages.js';
import { BOARD_LIMITS, EVENT_KIND, FAULT, MESSAGES, OUTPUT, OUTPUT_COUNT, PROTOCOL_VERSION, STATUS, type MessageName } from '../src/drivers/wire/spec.js';
import { tensCurrentDensityMaPerCm2 } from '../src/protocol/dose.js';
import { DEFAULT_PAD, Electrode, ThermalPad, UltrasoundHead, type PadParams } from './plants.js';

export const SIM_FIRMWARE_VERSION = [1, 0, 0] as const;
const PLANT_MS = 100;
const EVENT_RING = 16;
/** A rising TENS ramp may start this far (0.1 mA units) above the present value. */
const RAMP_FROM_TOLERANCE = 5;

export interface SimBoardOptions {
  /** Board clock reading at shared-clock time 0 (boards boot before the host connects). */
  bootOffsetMs?: number;
  tensChannels?: 1 | 2;
  hasUltrasound?: boolean;
  hasPad?: boolean;
  /** A profile may give a board lower limits than the standards allow. */
  maxTensMa?: number;
  pad?: Partial<PadParams>;
}

type QueuedCommand =
  | { kind: 'set'; atMs: number; value: number }
  | { kind: 'ramp'; atMs: number; from: number; to: number; durationMs: number }
  | { kind: 'off'; atMs: number };

interface Ramp { t0: number; from: number; to: number; durationMs: number }

interface OutputState {
  /** Present value when no ramp runs (wire units). */
  value: number;
  ramp: Ramp | null;
  rampTimer: TimerId | null;
  queue: QueuedCommand[];
  queueTimer: TimerId | null;
  /** Latched output fault code, 0 when none. */
  fault: number;
  /** Delivered-output meter, independent of the host's bookkeeping. */
  meter: { lastMs: number; onMs: number; valueMs: number; peak: number };
}

interface TensConfig { rateHz: number; pulseWidthUs: number; symmetric: boolean; areaCm2: number; ack: boolean; burstsPerS: number; pulsesPerBurst: number }

export interface SimBoardStats { framesIn: number; framesOut: number; crcErrors: number; framingErrors: number; badMessages: number; eventsResent: number }

export class SimBoard {
  readonly pad: ThermalPad;
  readonly electrodes: Electrode[];
  readonly head = new UltrasoundHead();
  stopInput = false;
  /** Benchmarks: called when a queued command runs, with its due time and the board clock's exact reading then. */
  onExecute: ((output: number, dueMs: number, actualMs: number) => void) | null = null;
  /** Called on every accepted HELLO (the pty server starts its fault clock there). */
  onHello: (() => void) | null = null;

  private readonly bootOffsetMs: number;
  private readonly opts: Required<Omit<SimBoardOptions, 'pad' | 'bootOffsetMs'>>;
  private readonly outputs: OutputState[];
  private readonly decoder: FrameDecoder;
  private seqOut = 0;
  /** Accepting commands: from HELLO until a host timeout. */
  private session = false;
  /** A host has said HELLO since power-up: telemetry and events flow. */
  private talking = false;
  private leaseMs = 400;
  private leaseTimer: TimerId | null = null;
  private lastSeq = -1;
  /** CRC of the last applied frame: a repeat is the same seq AND the same CRC (as the firmware). */
  private lastCrc = -1;
  private lastStatus: number = STATUS.OK;
  private globalFaults = 0; // bitmask, bit = code - 1
  private tens: (TensConfig | null)[] = [null, null];
  private padTarget: number | null = null; // 0.1 °C
  private padAtTargetSent = true;
  private watch: { startC: number; deadlineMs: number } | null = null;
  private runawaySinceMs: number | null = null;
  private padReached = false;
  private eventId = 0;
  private unacked: Uint8Array[] = [];
  private unackedIds: number[] = [];
  private eventTimer: TimerId | null = null;
  private telemetryTimer: TimerId | null = null;
  private powered = true;
  readonly stats: SimBoardStats = { framesIn: 0, framesOut: 0, crcErrors: 0, framingErrors: 0, badMessages: 0, eventsResent: 0 };
  /** Every event the board emitted, decoded, for tests. */
  readonly eventLog: MessageOf<'EVENT'>[] = [];
  /** Pad temperature extremes while powered (for tests). */
  padMinC = Infinity;
  padMaxC = -Infinity;

  constructor(private readonly clock: Clock, private readonly transport: Transport, options: SimBoardOptions = {}) {
    this.bootOffsetMs = options.bootOffsetMs ?? 0;
    this.opts = {
      tensChannels: options.tensChannels ?? 2,
      hasUltrasound: options.hasUltrasound ?? true,
      hasPad: options.hasPad ?? true,
      maxTensMa: Math.min(options.maxTensMa ?? BOARD_LIMITS.maxTensMa, BOARD_LIMITS.maxTensMa),
    };
    this.pad = new ThermalPad({ ...DEFAULT_PAD, ...options.pad });
    this.electrodes = [new Electrode(), new Electrode()];
    this.outputs = Array.from({ length: OUTPUT_COUNT }, () => ({
      value: 0, ramp: null, rampTimer: null, queue: [], queueTimer: null, fault: 0,
      meter: { lastMs: 0, onMs: 0, valueMs: 0, peak: 0 },
    }));
    this.decoder = new FrameDecoder((f) => this.onFrame(f.seq, f.payload), frameLengthOf);
    transport.onData((bytes) => { if (this.powered) this.decoder.push(bytes); });
    this.plantTick();
  }

  // ---------------------------------------------------------------- clock

  boardMs(): number {
    return Math.floor(this.clock.now() + this.bootOffsetMs);
  }

  private at(boardMs: number, fn: () => void): TimerId {
    return this.clock.setTimeout(fn, boardMs - this.bootOffsetMs - this.clock.now());
  }

  // ---------------------------------------------------------------- controls (fault injection, tests)

  setElectrodeOhm(channel: 0 | 1, ohm: number): void {
    const wasOpen = this.leadOff(channel);
    (this.electrodes[channel] as Electrode).ohm = ohm;
    const out = this.outputs[channel] as OutputState;
    if (this.leadOff(channel)) {
      if (this.driven(channel)) this.cutOutput(channel, FAULT.LEAD_OFF);
    } else if (wasOpen && out.fault === FAULT.LEAD_OFF) {
      this.emit(EVENT_KIND.CAUSE_GONE, channel, FAULT.LEAD_OFF, 0, 0);
    }
  }

  setCoupled(coupled: boolean): void {
    const was = this.head.coupled;
    this.head.coupled = coupled;
    const out = this.outputs[OUTPUT.ultrasound] as OutputState;
    if (!coupled) {
      if (this.driven(OUTPUT.ultrasound)) this.cutOutput(OUTPUT.ultrasound, FAULT.UNCOUPLED);
    } else if (!was && out.fault === FAULT.UNCOUPLED) {
      this.emit(EVENT_KIND.CAUSE_GONE, OUTPUT.ultrasound, FAULT.UNCOUPLED, 0, 0);
    }
  }

  setStopInput(pressed: boolean): void {
    this.stopInput = pressed;
    if (pressed) this.latchGlobal(FAULT.STOP_INPUT);
  }

  /** Injected failure: the heater driver sticks on; only the over-temperature cut saves the patient. */
  stickHeater(): void {
    this.pad.heaterStuck = true;
  }

  /** Power loss / cable pulled at the board: it stops answering. */
  powerOff(): void {
    this.powered = false;
    for (let i = 0; i < OUTPUT_COUNT; i++) this.setValue(i, 0);
    this.stopTimers();
  }

  /** Present output in wire units (0.1 mA, 0.01 W/cm², pad target 0.1 °C or 0). */
  outputValue(output: number): number {
    if (output === OUTPUT.pad) return this.padTarget ?? 0;
    return Math.round(this.valueAt(output, this.boardMs()));
  }

  /** Delivered meter of an output: ms above zero, integral of value·ms (wire units), peak. */
  meter(output: number): { onMs: number; valueMs: number; peak: number } {
    this.accumulate(output, this.boardMs());
    const m = (this.outputs[output] as OutputState).meter;
    return { onMs: m.onMs, valueMs: m.valueMs, peak: m.peak };
  }

  faultCodes(): number[] {
    const codes = new Set<number>();
    for (let c = 1; c <= 16; c++) if (this.globalFaults & (1 << (c - 1))) codes.add(c);
    for (const o of this.outputs) if (o.fault) codes.add(o.fault);
    return [...codes].sort((a, b) => a - b);
  }

  get sessionActive(): boolean {
    return this.session;
  }

  stopTimers(): void {
    for (const t of [this.leaseTimer, this.eventTimer, this.telemetryTimer, this.plantTimer]) if (t !== null) this.clock.clearTimeout(t);
    for (const o of this.outputs) {
      if (o.queueTimer !== null) this.clock.clearTimeout(o.queueTimer);
      if (o.rampTimer !== null) this.clock.clearTimeout(o.rampTimer);
    }
    this.leaseTimer = this.eventTimer = this.telemetryTimer = this.plantTimer = null;
  }

  // ---------------------------------------------------------------- frames in

  private onFrame(seq: number, payload: Uint8Array): void {
    this.stats.framesIn++;
    this.stats.crcErrors = this.decoder.stats.crcErrors;
    this.stats.framingErrors = this.decoder.stats.framingErrors;
    if (this.session) this.renewLease();
    const msg = decodeMessage(payload);
    if (msg === null || MESSAGES[msg.type].dir !== 'host') {
      this.stats.badMessages++;
      this.ack(seq, STATUS.BAD_MESSAGE, false);
      return;
    }
    const crc = frameCrc(seq, payload);
    if (msg.type === 'HELLO') return this.hello(seq, crc, msg);
    if (!this.session) return this.ack(seq, STATUS.NO_SESSION, false);
    if (seq === this.lastSeq && crc === this.lastCrc) return this.ack(seq, this.lastStatus, false);
    const status = this.apply(msg);
    this.lastCrc = crc;
    this.ack(seq, status, true);
  }

  private hello(seq: number, crc: number, msg: MessageOf<'HELLO'>): void {
    if (msg.protocolVersion !== PROTOCOL_VERSION) return this.ack(seq, STATUS.BAD_VERSION, false);
    if (msg.leaseMs < BOARD_LIMITS.minLeaseMs || msg.leaseMs > BOARD_LIMITS.maxLeaseMs) return this.ack(seq, STATUS.OUT_OF_LIMIT, false);
    this.leaseMs = msg.leaseMs;
    this.session = true;
    this.talking = true;
    this.renewLease();
    this.lastCrc = crc;
    this.ack(seq, STATUS.OK, true);
    this.onHello?.();
    this.send('IDENTIFY', {
      protocolVersion: PROTOCOL_VERSION,
      fwMajor: SIM_FIRMWARE_VERSION[0], fwMinor: SIM_FIRMWARE_VERSION[1], fwPatch: SIM_FIRMWARE_VERSION[2],
      boardKind: 1,
      tensChannels: this.opts.tensChannels,
      hasUltrasound: this.opts.hasUltrasound ? 1 : 0,
      hasPad: this.opts.hasPad ? 1 : 0,
      maxTensMaX10: this.opts.maxTensMa * 10,
      maxTensSlewMaPerSX10: BOARD_LIMITS.maxTensSlewMaPerS * 10,
      maxUsWPerCm2X100: BOARD_LIMITS.maxUsWPerCm2 * 100,
      maxPadCX10: BOARD_LIMITS.maxPadTargetC * 10,
      minPadCX10: BOARD_LIMITS.minPadTargetC * 10,
      leaseMs: this.leaseMs,
      boardMs: this.boardMs(),
    });
    if (this.telemetryTimer === null) this.telemetryTick();
    // Events raised before the session (none normally) go out now.
    if (this.unacked.length > 0) this.resendEvents();
  }

  private ack(seq: number, status: number, remember: boolean): void {
    if (remember) { this.lastSeq = seq; this.lastStatus = status; }
    this.send('ACK', { ackSeq: seq, status, boardMs: this.boardMs() });
  }

  private apply(msg: Message): number {
    const now = this.boardMs();
    switch (msg.type) {
      case 'PING':
        return STATUS.OK;
      case 'CONFIG_TENS': {
        if (!this.hasOutput(msg.output) || msg.output > OUTPUT.tens2) return STATUS.BAD_OUTPUT;
        const L = BOARD_LIMITS;
        if (msg.rateHz < L.minTensRateHz || msg.rateHz > L.maxTensRateHz) return STATUS.OUT_OF_LIMIT;
        if (msg.pulseWidthUs < L.minTensPulseWidthUs || msg.pulseWidthUs > L.maxTensPulseWidthUs) return STATUS.OUT_OF_LIMIT;
        if (msg.waveform > 1 || msg.electrodeAreaCm2x10 === 0 || msg.modKind > 3 || msg.modMinPct > 100) return STATUS.OUT_OF_LIMIT;
        if (msg.pulsesPerBurst > 0 && msg.burstsPerS * msg.pulsesPerBurst > L.maxTensRateHz) return STATUS.OUT_OF_LIMIT;
        this.tens[msg.output] = {
          rateHz: msg.rateHz, pulseWidthUs: msg.pulseWidthUs, symmetric: msg.waveform === 1,
          areaCm2: msg.electrodeAreaCm2x10 / 10, ack: (msg.flags & 1) === 1,
          burstsPerS: msg.burstsPerS, pulsesPerBurst: msg.pulsesPerBurst,
        };
        return STATUS.OK;
      }
      case 'CONFIG_US':
        if (!this.opts.hasUltrasound) return STATUS.BAD_OUTPUT;
        if (msg.frequencyMHz !== 1 && msg.frequencyMHz !== 3) return STATUS.OUT_OF_LIMIT;
        if (![10, 20, 25, 33, 50, 100].includes(msg.dutyCyclePct) || msg.eraCm2x10 === 0) return STATUS.OUT_OF_LIMIT;
        return STATUS.OK;
      case 'SET':
      case 'RAMP': {
        if (!this.hasOutput(msg.output)) return STATUS.BAD_OUTPUT;
        if (msg.type === 'RAMP' && msg.output === OUTPUT.pad) return STATUS.BAD_MESSAGE;
        const peak = msg.type === 'SET' ? msg.value : Math.max(msg.from, msg.to);
        const limit = this.checkValue(msg.output, peak);
        if (limit !== STATUS.OK) return limit;
        if (msg.type === 'RAMP' && msg.output <= OUTPUT.tens2 && msg.to > msg.from) {
          // Rising slope in 0.1 mA per s against the slew limit.
          if (msg.durationMs === 0 || ((msg.to - msg.from) * 1000) / msg.durationMs > BOARD_LIMITS.maxTensSlewMaPerS * 10 + 1e-9) return STATUS.OUT_OF_LIMIT;
        }
        if (this.blocked(msg.output)) return STATUS.FAULT_LATCHED;
        if (msg.atMs < now - BOARD_LIMITS.lateToleranceMs) return STATUS.LATE;
        const cmd: QueuedCommand = msg.type === 'SET'
          ? { kind: 'set', atMs: msg.atMs, value: msg.value }
          : { kind: 'ramp', atMs: msg.atMs, from: msg.from, to: msg.to, durationMs: msg.durationMs };
        return this.enqueue(msg.output, cmd);
      }
      case 'OFF': {
        const outs = msg.output === OUTPUT.all ? this.allOutputs() : [msg.output];
        if (msg.output !== OUTPUT.all && !this.hasOutput(msg.output)) return STATUS.BAD_OUTPUT;
        if (msg.atMs === 0) {
          for (const o of outs) { this.dropQueue(o); this.off(o, 0); }
          return STATUS.OK;
        }
        if (msg.atMs < now) return STATUS.LATE;
        for (const o of outs) { const s = this.enqueue(o, { kind: 'off', atMs: msg.atMs }); if (s !== STATUS.OK) return s; }
        return STATUS.OK;
      }
      case 'CANCEL': {
        if (msg.output !== OUTPUT.all && !this.hasOutput(msg.output)) return STATUS.BAD_OUTPUT;
        for (const o of msg.output === OUTPUT.all ? this.allOutputs() : [msg.output]) this.dropQueue(o);
        return STATUS.OK;
      }
      case 'CLEAR':
        return this.clear(msg.output);
      case 'ESTOP':
        this.latchGlobal(FAULT.ESTOP);
        return STATUS.OK;
      case 'EVENT_ACK': {
        const i = this.unackedIds.indexOf(msg.eventId);
        if (i >= 0) { this.unackedIds.splice(i, 1); this.unacked.splice(i, 1); }
        return STATUS.OK;
      }
      default:
        return STATUS.BAD_MESSAGE;
    }
  }

  // ---------------------------------------------------------------- limits and faults

  private hasOutput(o: number): boolean {
    if (o === OUTPUT.tens1) return true;
    if (o === OUTPUT.tens2) return this.opts.tensChannels >= 2;
    if (o === OUTPUT.ultrasound) return this.opts.hasUltrasound;
    if (o === OUTPUT.pad) return this.opts.hasPad;
    return false;
  }

  private allOutputs(): number[] {
    return [0, 1, 2, 3].filter((o) => this.hasOutput(o));
  }

  private checkValue(output: number, value: number): number {
    if (output <= OUTPUT.tens2) {
      const cfg = this.tens[output];
      // Unconfigured: the density limit cannot be checked without the electrode area; only zero is allowed.
      if (!cfg) return value === 0 ? STATUS.OK : STATUS.OUT_OF_LIMIT;
      if (value > this.opts.maxTensMa * 10) return STATUS.OUT_OF_LIMIT;
      if (tensCurrentDensityMaPerCm2(configAsProgram(value / 10, cfg)) > (cfg.ack ? BOARD_LIMITS.maxTensDensityAckMaPerCm2 : BOARD_LIMITS.maxTensDensityMaPerCm2) + 1e-9) return STATUS.OUT_OF_LIMIT;
      return STATUS.OK;
    }
    if (output === OUTPUT.ultrasound) {
      // Without CONFIG_US the head runs at 1 MHz, continuous (the firmware's defaults).
      return value > BOARD_LIMITS.maxUsWPerCm2 * 100 ? STATUS.OUT_OF_LIMIT : STATUS.OK;
    }
    return value < BOARD_LIMITS.minPadTargetC * 10 || value > BOARD_LIMITS.maxPadTargetC * 10 ? STATUS.OUT_OF_LIMIT : STATUS.OK;
  }

  private blocked(output: number): boolean {
    return this.globalFaults !== 0 || (this.outputs[output] as OutputState).fault !== 0;
  }

  private leadOff(ch: number): boolean {
    return (this.electrodes[ch] as Electrode).ohm > BOARD_LIMITS.leadOffOhm;
  }

  private driven(o: number): boolean {
    const s = this.outputs[o] as OutputState;
    return s.value > 0 || (s.ramp !== null && Math.max(s.ramp.from, s.ramp.to) > 0);
  }

  private causePresent(code: number, output: number): boolean {
    switch (code) {
      case FAULT.LEAD_OFF: return this.leadOff(output);
      case FAULT.UNCOUPLED: return !this.head.coupled;
      case FAULT.STOP_INPUT: return this.stopInput;
      case FAULT.OVER_TEMP: return this.pad.sensorC > BOARD_LIMITS.padOverTempC;
      case FAULT.UNDER_TEMP: return this.pad.sensorC < BOARD_LIMITS.padUnderTempC;
      case FAULT.HEAD_OVER_TEMP: return this.head.tempC > BOARD_LIMITS.headOverTempC;
      default: return false;
    }
  }

  private clear(output: number): number {
    if (output !== OUTPUT.all) {
      if (!this.hasOutput(output)) return STATUS.BAD_OUTPUT;
      const s = this.outputs[output] as OutputState;
      if (s.fault && this.causePresent(s.fault, output)) return STATUS.CAUSE_PRESENT;
      const cleared = s.fault ? 1 << (s.fault - 1) : 0;
      s.fault = 0;
      if (cleared) this.emit(EVENT_KIND.FAULT_CLEARED, output, 0, cleared, 0);
      return STATUS.OK;
    }
    for (let c = 1; c <= 16; c++) if (this.globalFaults & (1 << (c - 1)) && this.causePresent(c, OUTPUT.all)) return STATUS.CAUSE_PRESENT;
    for (const o of this.allOutputs()) { const s = this.outputs[o] as OutputState; if (s.fault && this.causePresent(s.fault, o)) return STATUS.CAUSE_PRESENT; }
    let cleared = this.globalFaults;
    for (const s of this.outputs) if (s.fault) cleared |= 1 << (s.fault - 1);
    this.globalFaults = 0;
    for (const s of this.outputs) s.fault = 0;
    this.pad.powerCut = false;
    if (cleared) this.emit(EVENT_KIND.FAULT_CLEARED, OUTPUT.all, 0, cleared, 0);
    return STATUS.OK;
  }

  /** Cut one output and latch an output fault on it. */
  private cutOutput(output: number, code: number): void {
    const s = this.outputs[output] as OutputState;
    this.dropQueue(output);
    s.fault = code;
    this.off(output, code);
    this.emit(EVENT_KIND.FAULT_LATCHED, output, code, 0, 0);
  }

  /** Cut everything and latch a board-wide fault. */
  private latchGlobal(code: number): void {
    const bit = 1 << (code - 1);
    const already = (this.globalFaults & bit) !== 0;
    this.globalFaults |= bit;
    if (code === FAULT.OVER_TEMP || code === FAULT.THERMAL_RUNAWAY) this.pad.powerCut = true;
    for (const o of this.allOutputs()) { this.dropQueue(o); this.off(o, code); }
    if (!already) this.emit(EVENT_KIND.FAULT_LATCHED, OUTPUT.all, code, 0, 0);
  }

  private renewLease(): void {
    if (this.leaseTimer !== null) this.clock.clearTimeout(this.leaseTimer);
    this.leaseTimer = this.clock.setTimeout(() => {
      this.leaseTimer = null;
      if (this.session) this.latchGlobal(FAULT.HOST_TIMEOUT);
    }, this.leaseMs);
  }

  // ---------------------------------------------------------------- outputs

  private enqueue(output: number, cmd: QueuedCommand): number {
    const s = this.outputs[output] as OutputState;
    if (s.queue.length >= BOARD_LIMITS.queueDepth) return STATUS.QUEUE_FULL;
    let i = s.queue.length;
    while (i > 0 && (s.queue[i - 1] as QueuedCommand).atMs > cmd.atMs) i--;
    s.queue.splice(i, 0, cmd);
    this.armQueue(output);
    return STATUS.OK;
  }

  private armQueue(output: number): void {
    const s = this.outputs[output] as OutputState;
    if (s.queueTimer !== null) this.clock.clearTimeout(s.queueTimer);
    s.queueTimer = null;
    const head = s.queue[0];
    if (!head) return;
    s.queueTimer = this.at(head.atMs, () => {
      s.queueTimer = null;
      const nowMs = this.boardMs();
      while (s.queue.length > 0 && (s.queue[0] as QueuedCommand).atMs <= nowMs) {
        const cmd = s.queue.shift() as QueuedCommand;
        this.onExecute?.(output, cmd.atMs, this.clock.now() + this.bootOffsetMs);
        this.execute(output, cmd);
      }
      this.armQueue(output);
    });
  }

  private dropQueue(output: number): void {
    const s = this.outputs[output] as OutputState;
    s.queue = [];
    if (s.queueTimer !== null) this.clock.clearTimeout(s.queueTimer);
    s.queueTimer = null;
  }

  private execute(output: number, cmd: QueuedCommand): void {
    const now = cmd.atMs; // executed exactly at its due time
    if (cmd.kind === 'off') return this.off(output, 0);
    if (this.blocked(output)) {
      this.emit(EVENT_KIND.REFUSED, output, STATUS.FAULT_LATCHED, cmd.kind === 'set' ? cmd.value : cmd.to, cmd.atMs);
      return;
    }
    if (output === OUTPUT.pad && cmd.kind === 'set') {
      this.padTarget = cmd.value;
      this.padAtTargetSent = false;
      this.padReached = false;
      this.runawaySinceMs = null;
      const t = this.pad.sensorC;
      this.watch = Math.abs(cmd.value / 10 - t) > BOARD_LIMITS.runawayHysteresisC ? { startC: t, deadlineMs: now + BOARD_LIMITS.watchPeriodMs } : null;
      this.emit(EVENT_KIND.APPLIED_SET, output, 0, cmd.value, 0, now);
      return;
    }
    const present = this.valueAt(output, now);
    if (cmd.kind === 'set') {
      if (output <= OUTPUT.tens2 && cmd.value > present) {
        // Never a jump: follow the set-point at the slew limit.
        const durationMs = Math.ceil(((cmd.value - present) * 1000) / (BOARD_LIMITS.maxTensSlewMaPerS * 10));
        this.startRamp(output, now, present, cmd.value, durationMs);
      } else {
        this.setValue(output, cmd.value, now);
        this.emit(EVENT_KIND.APPLIED_SET, output, 0, cmd.value, 0, now);
      }
    } else {
      if (cmd.from > present + RAMP_FROM_TOLERANCE) {
        this.emit(EVENT_KIND.REFUSED, output, STATUS.OUT_OF_LIMIT, cmd.to, cmd.atMs);
        return;
      }
      this.startRamp(output, now, cmd.from, cmd.to, cmd.durationMs);
    }
    this.checkDrivenCauses(output);
  }

  private checkDrivenCauses(output: number): void {
    if (!this.driven(output)) return;
    if (output <= OUTPUT.tens2 && this.leadOff(output)) this.cutOutput(output, FAULT.LEAD_OFF);
    else if (output === OUTPUT.ultrasound && !this.head.coupled) this.cutOutput(output, FAULT.UNCOUPLED);
  }

  private startRamp(output: number, t0: number, from: number, to: number, durationMs: number): void {
    const s = this.outputs[output] as OutputState;
    this.accumulate(output, t0);
    if (s.rampTimer !== null) this.clock.clearTimeout(s.rampTimer);
    s.ramp = { t0, from, to, durationMs };
    this.emit(EVENT_KIND.RAMP_START, output, 0, to, durationMs, t0);
    s.rampTimer = this.at(t0 + durationMs, () => {
      s.rampTimer = null;
      this.setValue(output, to, t0 + durationMs);
      this.emit(EVENT_KIND.APPLIED_SET, output, 0, to, 0, t0 + durationMs);
    });
  }

  private off(output: number, cause: number): void {
    const wasOn = output === OUTPUT.pad ? this.padTarget !== null : this.driven(output);
    if (output === OUTPUT.pad) { this.padTarget = null; this.watch = null; this.runawaySinceMs = null; }
    this.setValue(output, 0);
    if (wasOn || cause === 0) this.emit(EVENT_KIND.APPLIED_OFF, output, cause, 0, 0);
  }

  private setValue(output: number, value: number, atMs = this.boardMs()): void {
    const s = this.outputs[output] as OutputState;
    this.accumulate(output, atMs);
    if (s.rampTimer !== null) this.clock.clearTimeout(s.rampTimer);
    s.rampTimer = null;
    s.ramp = null;
    s.value = value;
  }

  private valueAt(output: number, t: number): number {
    const s = this.outputs[output] as OutputState;
    const r = s.ramp;
    if (!r) return s.value;
    if (r.durationMs <= 0 || t >= r.t0 + r.durationMs) return r.to;
    if (t <= r.t0) return r.from;
    return r.from + ((r.to - r.from) * (t - r.t0)) / r.durationMs;
  }

  /** Integrate the meter of an output up to board time t (exact for ramps). */
  private accumulate(output: number, t: number): void {
    const s = this.outputs[output] as OutputState;
    const m = s.meter;
    if (t <= m.lastMs) return;
    const a = m.lastMs;
    const va = this.valueAt(output, a);
    const vb = this.valueAt(output, t);
    // Split at the ramp end, where the profile bends.
    const r = s.ramp;
    const bend = r ? r.t0 + r.durationMs : Infinity;
    if (bend > a && bend < t) {
      this.accumulateSegment(m, a, bend, va, this.valueAt(output, bend));
      this.accumulateSegment(m, bend, t, this.valueAt(output, bend), vb);
    } else this.accumulateSegment(m, a, t, va, vb);
    m.lastMs = t;
  }

  private accumulateSegment(m: OutputState['meter'], a: number, b: number, va: number, vb: number): void {
    const dt = b - a;
    m.valueMs += ((va + vb) / 2) * dt;
    // A linear segment is above zero everywhere but at a zero end point.
    if (va > 0 || vb > 0) m.onMs += dt;
    m.peak = Math.max(m.peak, va, vb);
  }

  // ---------------------------------------------------------------- plants, telemetry, events

  private plantTimer: TimerId | null = null;

  private plantTick(): void {
    this.plantTimer = this.clock.setTimeout(() => {
      this.plantStep();
      if (this.powered) this.plantTick();
    }, PLANT_MS);
  }

  private plantStep(): void {
    const now = this.boardMs();
    const target = this.padTarget === null ? null : this.padTarget / 10;
    this.pad.control(target);
    this.pad.step(PLANT_MS / 1000);
    this.head.step(PLANT_MS / 1000, this.valueAt(OUTPUT.ultrasound, now) / 100);
    const t = this.pad.sensorC;
    if (target !== null || this.pad.heaterStuck) { this.padMinC = Math.min(this.padMinC, t); this.padMaxC = Math.max(this.padMaxC, t); }
    const L = BOARD_LIMITS;
    if (t > L.padOverTempC && !(this.globalFaults & (1 << (FAULT.OVER_TEMP - 1)))) this.latchGlobal(FAULT.OVER_TEMP);
    if (target !== null && t < L.padUnderTempC && !(this.globalFaults & (1 << (FAULT.UNDER_TEMP - 1)))) this.latchGlobal(FAULT.UNDER_TEMP);
    if (this.head.tempC > L.headOverTempC && !(this.globalFaults & (1 << (FAULT.HEAD_OVER_TEMP - 1)))) this.latchGlobal(FAULT.HEAD_OVER_TEMP);
    if (target === null) return;
    const err = Math.abs(target - t);
    if (!this.padAtTargetSent && err <= L.atTargetBandC) {
      this.padAtTargetSent = true;
      this.padReached = true;
      this.emit(EVENT_KIND.PAD_AT_TARGET, OUTPUT.pad, 0, this.padTarget as number, 0, now);
    }
    // Runaway watch, after Marlin: approach the target at a minimum rate ...
    if (this.watch) {
      if (err <= L.runawayHysteresisC) this.watch = null;
      else if (Math.abs(t - this.watch.startC) >= L.watchIncreaseC && Math.sign(target - this.watch.startC) === Math.sign(t - this.watch.startC)) {
        this.watch = { startC: t, deadlineMs: now + L.watchPeriodMs };
      } else if (now > this.watch.deadlineMs) return this.latchGlobal(FAULT.THERMAL_RUNAWAY);
    }
    // ... and, once there, do not stray beyond the hysteresis for longer than the period.
    if (this.padReached) {
      if (err > L.runawayHysteresisC) {
        this.runawaySinceMs ??= now;
        if (now - this.runawaySinceMs > L.runawayPeriodMs) this.latchGlobal(FAULT.THERMAL_RUNAWAY);
      } else this.runawaySinceMs = null;
    }
  }

  private telemetryTick(): void {
    this.telemetryTimer = this.clock.setTimeout(() => {
      this.telemetryTimer = null;
      if (!this.powered) return;
      if (this.talking) this.sendTelemetry();
      this.telemetryTick();
    }, BOARD_LIMITS.telemetryMs);
  }

  sendTelemetry(): void {
    const now = this.boardMs();
    let faults = this.globalFaults;
    let outputFaults = 0;
    this.outputs.forEach((o, i) => { if (o.fault) { faults |= 1 << (o.fault - 1); outputFaults |= 1 << (i * 4); } });
    const ohm = (ch: number) => Math.min(0xffff, Math.round((this.electrodes[ch] as Electrode).ohm));
    this.send('TELEMETRY', {
      boardMs: now,
      tens1X10: Math.round(this.valueAt(0, now)),
      tens2X10: Math.round(this.valueAt(1, now)),
      usX100: Math.round(this.valueAt(2, now)),
      padTargetCX10: this.padTarget ?? 0,
      padCX10: clampI16(Math.round(this.pad.sensorC * 10)),
      headCX10: clampI16(Math.round(this.head.tempC * 10)),
      tens1Ohm: ohm(0),
      tens2Ohm: ohm(1),
      coupled: this.head.coupled ? 1 : 0,
      stopInput: this.stopInput ? 1 : 0,
      faults,
      outputFaults,
    });
  }

  private emit(kind: number, output: number, code: number, value: number, aux: number, atMs = this.boardMs()): void {
    this.eventId = (this.eventId + 1) & 0xffff || 1;
    const body = { eventId: this.eventId, boardMs: atMs, kind, output, code, value: Math.round(value), aux: Math.round(aux) };
    this.eventLog.push({ type: 'EVENT', ...body });
    const frame = this.frame('EVENT', body);
    if (this.unacked.length >= EVENT_RING) { this.unacked.shift(); this.unackedIds.shift(); }
    this.unacked.push(frame);
    this.unackedIds.push(this.eventId);
    if (this.talking) this.write(frame);
    if (this.eventTimer === null) this.eventTimer = this.clock.setTimeout(() => this.resendEvents(), BOARD_LIMITS.eventRetryMs);
  }

  private resendEvents(): void {
    this.eventTimer = null;
    if (!this.powered || this.unacked.length === 0) return;
    if (this.talking) for (const f of this.unacked) { this.stats.eventsResent++; this.write(f); }
    this.eventTimer = this.clock.setTimeout(() => this.resendEvents(), BOARD_LIMITS.eventRetryMs);
  }

  private frame<N extends MessageName>(name: N, body: MessageBody<N>): Uint8Array {
    const f = encodeFrame(this.seqOut, encodeMessage(name, body));
    this.seqOut = (this.seqOut + 1) & 0xff;
    return f;
  }

  private send<N extends MessageName>(name: N, body: MessageBody<N>): void {
    this.write(this.frame(name, body));
  }

  private write(frame: Uint8Array): void {
    if (!this.powered) return;
    this.stats.framesOut++;
    this.transport.write(frame);
  }
}

/** CRC-16 of a frame as it was on the wire (len, seq, payload). */
function frameCrc(seq: number, payload: Uint8Array): number {
  const head = new Uint8Array(payload.length + 2);
  head[0] = payload.length + 5;
  head[1] = seq;
  head.set(payload, 2);
  return crc16(head, 0, head.length);
}

/** The board's TENS configuration in the protocol's terms, for the one current-density formula (src/protocol/dose.ts). */
function configAsProgram(peakMa: number, cfg: TensConfig) {
  return {
    amplitudeMa: peakMa, pulseWidthUs: cfg.pulseWidthUs, rateHz: cfg.rateHz, electrodeAreaCm2: cfg.areaCm2,
    waveform: cfg.symmetric ? ('symmetric-biphasic' as const) : ('asymmetric-biphasic' as const),
    ...(cfg.pulsesPerBurst > 0 ? { burst: { burstsPerS: cfg.burstsPerS, pulsesPerBurst: cfg.pulsesPerBurst } } : {}),
  };
}

function clampI16(v: number): number {
  return Math.max(-0x8000, Math.min(0x7fff, v));
}
