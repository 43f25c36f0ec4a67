/**
 * The bench driver: a stock Arduino running StandardFirmata, driven through
 * johnny-five and firmata-io over serialport. StandardFirmata has no
 * scheduler, no lease and no limits, so this driver does on the HOST what the
 * modality firmware does on the board (docs/protocol.md, "What the board does
 * on its own"): it times set-points and interpolates ramps on the injected
 * clock, enforces the limits and the TENS slew, watches the stop input, the
 * electrode sense and the pad thermistor, latches faults and refuses commands
 * until CLEAR, runs the pad's bang-bang loop and sends telemetry at 4 Hz.
 *
 * That is for the bench only (FIRMATA_BENCH_WARNING): if this process dies or
 * stalls, the Arduino keeps its pins where they were.
 *
 * The board clock IS the host clock here: boardNow() = clock.now().
 */
import { existsSync } from 'node:fs';
import five from 'johnny-five';
import firmataIo from 'firmata-io';
import { SerialPort } from 'serialport';
import type { Clock, TimerId } from '../clock.js';
import { tensCurrentDensityMaPerCm2 } from '../protocol/dose.js';
import { listSerialPorts } from './serial-transport.js';
import { ConnectError, type Board, type BoardEvent, type BoardInfo, type LinkCounters, type OutputName, type TensConfig, type Telemetry, type UltrasoundConfig } from './board.js';
import {
  electrodeOhm, loadFirmataPins, PWM_MAX, thermistorC, type FirmataPinMap,
} from './firmata-pins.js';
import { BOARD_LIMITS, type FaultName, type StatusName } from './wire/spec.js';

export const FIRMATA_BENCH_WARNING = 'Firmata boards are for the bench only: set-points are timed on the host, and the lease and limits are enforced only by the host';

export interface FirmataConnectOptions {
  /** Serial device of the Arduino (/dev/ttyACM0) or of the pty sim. */
  path: string;
  /** A pin map, or the path of a pin map JSON file. Default: profiles/firmata-pins.json. */
  pins?: FirmataPinMap | string | undefined;
  /** Give up after this long (default 5000 ms, at most 10000 ms). */
  connectTimeoutMs?: number | undefined;
  /** Called for every pin write (out) and every input change (in). */
  trace?: ((dir: 'out' | 'in', text: string, hostMs: number) => void) | undefined;
  /** Called with the Firmata bytes in both directions, as they are written and read (for --trace). */
  traceBytes?: ((dir: 'out' | 'in', bytes: Uint8Array, hostMs: number) => void) | undefined;
  /**
   * The byte stream to the board, instead of opening `path` with serialport:
   * tests give an in-process stream to the simulated StandardFirmata on a
   * virtual clock (sim/firmata-stream.ts). `path` then only names it.
   */
  port?: FirmataPort | undefined;
  /** Host-emulated lease: a host stall longer than this latches HOST_TIMEOUT (default 400 ms). */
  leaseMs?: number | undefined;
  /** No report from the board this long = link lost (default 1500 ms). */
  silenceMs?: number | undefined;
  /** Firmata analog sampling interval (default 50 ms, Firmata minimum 10). */
  samplingIntervalMs?: number | undefined;
  /** Ramp interpolation step (default 50 ms). */
  rampStepMs?: number | undefined;
  /** Lead time the engine adds to boardNow (default 50 ms: no line or retransmit to cover). */
  scheduleMarginMs?: number | undefined;
  /** Lists serial ports for the "no such port" message (default: serialport's list, or /dev when udevadm is missing). */
  listPorts?: (() => Promise<string[]>) | undefined;
}

/** The byte stream under firmata-io: serialport's SerialPort, or an in-process stream. */
export interface FirmataPort {
  readonly isOpen: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  write(data: Buffer | Uint8Array | number[], callback?: (err?: Error | null) => void): unknown;
  drain(callback: () => void): unknown;
  close(callback: (err?: Error | null) => void): unknown;
}

/** --trace for Firmata: every chunk of bytes read and every write, before firmata-io sees or sends it. */
function tapPort(port: FirmataPort, clock: Clock, trace: (dir: 'out' | 'in', bytes: Uint8Array, hostMs: number) => void): void {
  port.on('data', (d: Buffer) => trace('in', new Uint8Array(d), clock.now()));
  const write = port.write.bind(port);
  (port as { write: FirmataPort['write'] }).write = (data, cb) => { trace('out', Uint8Array.from(data), clock.now()); return write(data, cb); };
}

/** The Firmata board cannot be used: no port, no StandardFirmata answer, a pin map that does not fit. */
export class FirmataConnectError extends ConnectError {}

type Channel = 'tens1' | 'tens2' | 'ultrasound';
type Cmd = { kind: 'set'; atMs: number; value: number } | { kind: 'ramp'; atMs: number; from: number; to: number; durationMs: number } | { kind: 'off'; atMs: number };
interface Ramp { t0: number; from: number; to: number; durationMs: number }
interface OutState { value: number; ramp: Ramp | null; rampTimer: TimerId | null; queue: Cmd[]; queueTimer: TimerId | null; fault: FaultName | null }

/** A ramp may start this far above the present value (clinical units). */
const RAMP_FROM_TOLERANCE: Record<Channel, number> = { tens1: 0.5, tens2: 0.5, ultrasound: 0.05 };
const EPS = 1e-9;

// firmata-io exports a function that binds a default transport, with the class as a property.
const Firmata = (firmataIo as unknown as { Firmata: new (port: unknown, opts: object, cb: (err?: unknown) => void) => FirmataIo }).Firmata;

interface FirmataIo {
  MODES: { INPUT: number; OUTPUT: number; ANALOG: number; PWM: number; PULLUP: number };
  pins: { supportedModes: number[]; analogChannel: number }[];
  analogPins: number[];
  firmware?: { name?: string; version?: { major: number; minor: number } };
  version?: { major?: number; minor?: number };
  reportVersionTimeoutId?: NodeJS.Timeout;
  pinMode(pin: number, mode: number): void;
  pwmWrite(pin: number, value: number): void;
  digitalWrite(pin: number, value: number): void;
  digitalRead(pin: number, cb: (v: number) => void): void;
  analogRead(ch: number, cb: (v: number) => void): void;
  reportAnalogPin(ch: number, v: 0 | 1): void;
  reportDigitalPin(pin: number, v: 0 | 1): void;
  setSamplingInterval(ms: number): void;
  removeAllListeners(ev?: string): void;
  on(ev: string, cb: (...a: unknown[]) => void): void;
}

// ------------------------------------------------------------------ port listing

function describePorts(ports: string[]): string {
  return ports.length === 0 ? 'no serial ports were found' : `serial ports present: ${ports.join(', ')}`;
}

// ------------------------------------------------------------------ the driver

export class FirmataBoard implements Board {
  readonly info: BoardInfo;
  readonly scheduleMarginMs: number;
  readonly pins: FirmataPinMap;
  private readonly listeners = new Set<(e: BoardEvent) => void>();
  private readonly out: Record<Channel, OutState>;
  private readonly tens: (TensConfig | null)[] = [null, null];
  private usConfigured = false;
  private readonly globalFaults = new Set<FaultName>();
  private readonly leaseMs: number;
  private readonly silenceMs: number;
  private readonly rampStepMs: number;
  // pad
  private padTarget: number | null = null;
  private padFault: FaultName | null = null;
  private padQueue: Cmd[] = [];
  private padQueueTimer: TimerId | null = null;
  private padC = NaN;
  private heaterOn = false;
  private coolerOn = false;
  private padAtTargetSent = true;
  private padReached = false;
  private watch: { startC: number; deadlineMs: number } | null = null;
  private runawaySinceMs: number | null = null;
  // inputs
  private stopActive = false;
  private leadOffNow: boolean[] = [false, false];
  private ohm: (number | null)[] = [null, null];
  // link and timers
  private readonly duty = new Map<number, number>();
  private readonly level = new Map<number, number>();
  private stepTimer: TimerId | null = null;
  private watchdogTimer: TimerId | null = null;
  private telemetryTimer: TimerId | null = null;
  private lastWatchdogMs: number;
  private lastRxMs: number;
  private lost = false;
  private closed = false;
  private readonly c: LinkCounters = { framesSent: 0, framesReceived: 0, retransmits: 0, crcErrors: 0, framingErrors: 0, bytesSent: 0, bytesReceived: 0 };

  private constructor(
    private readonly clock: Clock,
    private readonly io: FirmataIo,
    private readonly port: FirmataPort,
    pins: FirmataPinMap,
    private readonly opts: FirmataConnectOptions,
  ) {
    this.pins = pins;
    this.leaseMs = opts.leaseMs ?? 400;
    this.silenceMs = opts.silenceMs ?? 1500;
    this.rampStepMs = opts.rampStepMs ?? 50;
    this.scheduleMarginMs = opts.scheduleMarginMs ?? 50;
    const blank = (): OutState => ({ value: 0, ramp: null, rampTimer: null, queue: [], queueTimer: null, fault: null });
    this.out = { tens1: blank(), tens2: blank(), ultrasound: blank() };
    const fw = io.firmware;
    this.info = {
      protocolVersion: 0,
      firmware: `${fw?.name ?? 'Firmata'} ${fw?.version ? `${fw.version.major}.${fw.version.minor}` : ''}`.trim(),
      kind: 'firmata',
      tensChannels: pins.tens.length,
      hasUltrasound: pins.ultrasound !== undefined,
      hasPad: pins.pad !== undefined,
      maxTensMa: Math.min(BOARD_LIMITS.maxTensMa, ...pins.tens.map((t) => t.maxMa)),
      maxTensSlewMaPerS: BOARD_LIMITS.maxTensSlewMaPerS,
      maxUsWPerCm2: Math.min(BOARD_LIMITS.maxUsWPerCm2, pins.ultrasound?.maxWPerCm2 ?? BOARD_LIMITS.maxUsWPerCm2),
      maxPadC: BOARD_LIMITS.maxPadTargetC,
      minPadC: BOARD_LIMITS.minPadTargetC,
      leaseMs: this.leaseMs,
      timing: 'host',
    };
    this.lastWatchdogMs = this.lastRxMs = clock.now();
  }

  /**
   * Open the port, wait for StandardFirmata's handshake (version, firmware,
   * capabilities, analog mapping) through johnny-five, check the pin map
   * against the board's capabilities, set the pins up with every output at 0.
   * Fails with a FirmataConnectError, never hangs: a missing port at once (with
   * the ports that do exist), a silent one after connectTimeoutMs.
   */
  static async connect(clock: Clock, opts: FirmataConnectOptions): Promise<FirmataBoard> {
    const timeoutMs = Math.min(10000, Math.max(100, opts.connectTimeoutMs ?? 5000));
    const pins = typeof opts.pins === 'object' ? opts.pins : loadFirmataPins(opts.pins);
    const list = opts.listPorts ?? listSerialPorts;
    if (!opts.port && !existsSync(opts.path)) {
      throw new FirmataConnectError(`no serial port ${opts.path}: ${describePorts(await list())}`);
    }
    return new Promise<FirmataBoard>((resolve, reject) => {
      let settled = false;
      let port: FirmataPort | null = null;
      let io: FirmataIo | null = null;
      let j5: { timer?: NodeJS.Timeout | null; on(ev: string, cb: (...a: unknown[]) => void): void; removeAllListeners(): void } | null = null;
      const cleanup = () => {
        if (io?.reportVersionTimeoutId) clearTimeout(io.reportVersionTimeoutId);
        if (j5?.timer) clearTimeout(j5.timer);
        j5?.removeAllListeners();
        j5?.on('error', () => {});
        if (port?.isOpen) port.close(() => {});
        else port?.on('open', () => port?.close(() => {}));
      };
      const fail = (msg: string) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        cleanup();
        reject(new FirmataConnectError(msg));
      };
      const timer = clock.setTimeout(() => fail(
        `no Firmata answer from ${opts.path} within ${timeoutMs} ms: check that the board runs StandardFirmata (57600 baud), that the cable carries data and that no other program holds the port`,
      ), timeoutMs);
      try {
        port = opts.port ?? new SerialPort({ path: opts.path, baudRate: 57600 });
        if (opts.traceBytes) tapPort(port, clock, opts.traceBytes);
        port.on('error', (e: Error) => fail(`cannot open ${opts.path}: ${e.message}`));
        io = new Firmata(port, {
          // Ask for the version soon: a pty or an already-running board will not announce itself.
          reportVersionTimeout: Math.min(200, Math.floor(timeoutMs / 4)),
          samplingInterval: opts.samplingIntervalMs ?? 50,
        }, (err?: unknown) => { if (err) fail(`cannot open ${opts.path}: ${(err as Error).message ?? String(err)}`); });
        j5 = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs }) as unknown as typeof j5;
        j5!.on('error', (e: unknown) => fail(`johnny-five: ${(e as Error)?.message ?? String(e)}`));
        j5!.on('ready', () => {
          if (settled) return;
          try {
            FirmataBoard.checkCapabilities(io!, pins);
            const board = new FirmataBoard(clock, io!, port!, pins, opts);
            board.start();
            settled = true;
            clock.clearTimeout(timer);
            if (j5?.timer) clearTimeout(j5.timer);
            resolve(board);
          } catch (e) {
            fail(e instanceof Error ? e.message : String(e));
          }
        });
      } catch (e) {
        fail(`cannot use ${opts.path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  private static checkCapabilities(io: FirmataIo, pins: FirmataPinMap): void {
    const M = io.MODES;
    const problems: string[] = [];
    const need = (pin: number, mode: number, what: string, modeName: string) => {
      const p = io.pins[pin];
      if (!p) problems.push(`${what}: the board has no pin ${pin}`);
      else if (!p.supportedModes.includes(mode)) problems.push(`${what}: pin ${pin} cannot do ${modeName}`);
    };
    const needA = (ch: number, what: string) => {
      if (io.analogPins[ch] === undefined) problems.push(`${what}: the board has no analog pin A${ch}`);
    };
    pins.tens.forEach((t, i) => need(t.pin, M.PWM, `tens[${i}]`, 'PWM'));
    if (pins.ultrasound) {
      need(pins.ultrasound.enablePin, M.OUTPUT, 'ultrasound.enablePin', 'digital output');
      need(pins.ultrasound.intensityPin, M.PWM, 'ultrasound.intensityPin', 'PWM');
    }
    if (pins.pad) {
      need(pins.pad.heaterPin, M.OUTPUT, 'pad.heaterPin', 'digital output');
      if (pins.pad.coolerPin !== undefined) need(pins.pad.coolerPin, M.OUTPUT, 'pad.coolerPin', 'digital output');
      needA(pins.pad.thermistor.analogPin, 'pad.thermistor');
    }
    need(pins.stop.pin, pins.stop.pullup ? M.PULLUP : M.INPUT, 'stop', pins.stop.pullup ? 'input with pull-up' : 'digital input');
    pins.electrodeSense.forEach((e, i) => {
      if (e.kind === 'digital') need(e.pin, e.pullup ? M.PULLUP : M.INPUT, `electrodeSense[${i}]`, e.pullup ? 'input with pull-up' : 'digital input');
      else needA(e.analogPin, `electrodeSense[${i}]`);
    });
    if (problems.length) throw new FirmataConnectError(`the pin map does not fit this board:\n  ${problems.join('\n  ')}`);
  }

  private start(): void {
    const io = this.io;
    const M = io.MODES;
    this.port.on('data', (d: Buffer) => { this.c.bytesReceived += d.length; this.c.framesReceived++; this.lastRxMs = this.clock.now(); });
    this.port.on('close', () => this.linkLost(`the port ${this.opts.path} closed`));
    // Outputs, all at 0.
    for (const t of this.pins.tens) { io.pinMode(t.pin, M.PWM); this.pwm(t.pin, 0, true); }
    if (this.pins.ultrasound) {
      io.pinMode(this.pins.ultrasound.enablePin, M.OUTPUT); this.digital(this.pins.ultrasound.enablePin, 0, true);
      io.pinMode(this.pins.ultrasound.intensityPin, M.PWM); this.pwm(this.pins.ultrasound.intensityPin, 0, true);
    }
    if (this.pins.pad) {
      io.pinMode(this.pins.pad.heaterPin, M.OUTPUT); this.digital(this.pins.pad.heaterPin, 0, true);
      if (this.pins.pad.coolerPin !== undefined) { io.pinMode(this.pins.pad.coolerPin, M.OUTPUT); this.digital(this.pins.pad.coolerPin, 0, true); }
    }
    // Inputs.
    const s = this.pins.stop;
    io.pinMode(s.pin, s.pullup ? M.PULLUP : M.INPUT);
    io.digitalRead(s.pin, (v) => this.onStop(v === (s.activeWhen === 'high' ? 1 : 0)));
    this.pins.electrodeSense.forEach((e, i) => {
      if (e.kind === 'digital') {
        io.pinMode(e.pin, e.pullup ? M.PULLUP : M.INPUT);
        io.digitalRead(e.pin, (v) => this.onElectrode(i, v === (e.leadOffWhen === 'high' ? 1 : 0) ? null : 1200));
      } else {
        io.analogRead(e.analogPin, (raw) => this.onElectrode(i, electrodeOhm(raw, e.refOhm)));
      }
    });
    if (this.pins.pad) {
      const th = this.pins.pad.thermistor;
      io.analogRead(th.analogPin, (raw) => { this.padC = thermistorC(raw, th); });
    } else {
      // Keep one analog report running: it is the board's heartbeat for the silence check.
      io.analogRead(0, () => {});
    }
    this.lastWatchdogMs = this.lastRxMs = this.clock.now();
    this.watchdog();
    this.telemetryTick();
  }

  // ---------------------------------------------------------------- Board

  boardNow(): number {
    return Math.round(this.clock.now());
  }

  configureTens(output: 'tens1' | 'tens2', cfg: TensConfig): void {
    const cmd = `CONFIG_TENS ${output}`;
    if (!this.hasOutput(output)) return this.refuse(output, 'BAD_OUTPUT', cmd);
    const L = BOARD_LIMITS;
    const bad = cfg.rateHz < L.minTensRateHz || cfg.rateHz > L.maxTensRateHz
      || cfg.pulseWidthUs < L.minTensPulseWidthUs || cfg.pulseWidthUs > L.maxTensPulseWidthUs
      || !(cfg.electrodeAreaCm2 > 0)
      || (cfg.burst !== undefined && cfg.burst.burstsPerS * cfg.burst.pulsesPerBurst > L.maxTensRateHz)
      || (cfg.modulation !== undefined && (cfg.modulation.minPct < 0 || cfg.modulation.minPct > 100));
    if (bad) return this.refuse(output, 'OUT_OF_LIMIT', cmd);
    this.tens[output === 'tens1' ? 0 : 1] = cfg;
  }

  configureUltrasound(cfg: UltrasoundConfig): void {
    if (!this.info.hasUltrasound) return this.refuse('ultrasound', 'BAD_OUTPUT', 'CONFIG_US');
    if ((cfg.frequencyMHz !== 1 && cfg.frequencyMHz !== 3) || ![10, 20, 25, 33, 50, 100].includes(cfg.dutyCyclePct) || !(cfg.eraCm2 > 0)) {
      return this.refuse('ultrasound', 'OUT_OF_LIMIT', 'CONFIG_US');
    }
    this.usConfigured = true;
  }

  set(output: OutputName, atMs: number, value: number): void {
    this.schedule(output, { kind: 'set', atMs, value }, `SET ${output} ${value}`);
  }

  ramp(output: OutputName, atMs: number, from: number, to: number, durationMs: number): void {
    this.schedule(output, { kind: 'ramp', atMs, from, to, durationMs }, `RAMP ${output} ${from}→${to}`);
  }

  off(output: OutputName | 'all', atMs: number | null): void {
    const cmd = `OFF ${output}`;
    if (output !== 'all' && !this.hasOutput(output)) return this.refuse(output, 'BAD_OUTPUT', cmd);
    const outs = output === 'all' ? this.allOutputs() : [output];
    if (atMs === null) {
      for (const o of outs) { this.dropQueue(o); this.turnOff(o, null); }
      return;
    }
    if (atMs < this.clock.now()) return this.refuse(output, 'LATE', cmd);
    for (const o of outs) if (!this.enqueue(o, { kind: 'off', atMs }, cmd)) return;
  }

  cancel(output: OutputName | 'all'): void {
    if (output !== 'all' && !this.hasOutput(output)) return this.refuse(output, 'BAD_OUTPUT', `CANCEL ${output}`);
    for (const o of output === 'all' ? this.allOutputs() : [output]) this.dropQueue(o);
  }

  clear(output: OutputName | 'all'): void {
    const cmd = `CLEAR ${output}`;
    const now = this.boardNow();
    if (output !== 'all') {
      if (!this.hasOutput(output)) return this.refuse(output, 'BAD_OUTPUT', cmd);
      const f = this.outFault(output);
      if (f && this.causePresent(f, output)) return this.refuse(output, 'CAUSE_PRESENT', cmd);
      this.setOutFault(output, null);
      this.emit({ type: 'faultCleared', output, boardMs: now });
      return;
    }
    for (const f of this.globalFaults) if (this.causePresent(f, 'all')) return this.refuse('all', 'CAUSE_PRESENT', cmd);
    for (const o of this.allOutputs()) { const f = this.outFault(o); if (f && this.causePresent(f, o)) return this.refuse('all', 'CAUSE_PRESENT', cmd); }
    this.globalFaults.clear();
    for (const o of this.allOutputs()) this.setOutFault(o, null);
    this.lastWatchdogMs = this.clock.now();
    this.emit({ type: 'faultCleared', output: 'all', boardMs: now });
  }

  estop(): void {
    this.latchGlobal('ESTOP');
  }

  subscribe(listener: (e: BoardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  counters(): LinkCounters {
    return { ...this.c };
  }

  /** Every output to 0 on the wire, then close the port. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.lost) this.allPinsOff();
    this.closed = true;
    this.stopTimers();
    for (const o of this.allOutputs()) this.dropQueue(o);
    this.io.removeAllListeners();
    // A write still in flight when the port closes fails with EBADF; after close that is not news.
    this.io.on('error', () => undefined);
    this.port.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.drain(() => this.port.close(() => resolve()));
    });
  }

  // ---------------------------------------------------------------- scheduling (host-timed)

  private schedule(output: OutputName, cmd: Cmd, describe: string): void {
    if (!this.hasOutput(output)) return this.refuse(output, 'BAD_OUTPUT', describe);
    if (cmd.kind === 'ramp' && output === 'pad') return this.refuse(output, 'BAD_MESSAGE', describe);
    if (cmd.kind === 'off') return;
    const peak = cmd.kind === 'set' ? cmd.value : Math.max(cmd.from, cmd.to);
    const limit = this.checkValue(output, peak);
    if (limit) return this.refuse(output, limit, describe);
    if (cmd.kind === 'ramp' && (output === 'tens1' || output === 'tens2') && cmd.to > cmd.from) {
      if (cmd.durationMs <= 0 || ((cmd.to - cmd.from) * 1000) / cmd.durationMs > BOARD_LIMITS.maxTensSlewMaPerS + 1e-6) return this.refuse(output, 'OUT_OF_LIMIT', describe);
    }
    if (this.blocked(output)) return this.refuse(output, 'FAULT_LATCHED', describe);
    if (cmd.atMs < this.clock.now() - BOARD_LIMITS.lateToleranceMs) return this.refuse(output, 'LATE', describe);
    this.enqueue(output, cmd, describe);
  }

  private checkValue(output: OutputName, v: number): StatusName | null {
    if (!Number.isFinite(v) || v < 0) return 'OUT_OF_LIMIT';
    if (output === 'tens1' || output === 'tens2') {
      const cfg = this.tens[output === 'tens1' ? 0 : 1];
      if (!cfg) return 'BAD_MESSAGE';
      if (v > this.info.maxTensMa + EPS) return 'OUT_OF_LIMIT';
      const density = tensCurrentDensityMaPerCm2({ ...cfg, amplitudeMa: v });
      const max = cfg.highDensityAcknowledged ? BOARD_LIMITS.maxTensDensityAckMaPerCm2 : BOARD_LIMITS.maxTensDensityMaPerCm2;
      return density > max + 1e-6 ? 'OUT_OF_LIMIT' : null;
    }
    if (output === 'ultrasound') {
      if (!this.usConfigured) return 'BAD_MESSAGE';
      return v > this.info.maxUsWPerCm2 + EPS ? 'OUT_OF_LIMIT' : null;
    }
    return v < BOARD_LIMITS.minPadTargetC - EPS || v > BOARD_LIMITS.maxPadTargetC + EPS ? 'OUT_OF_LIMIT' : null;
  }

  private enqueue(output: OutputName, cmd: Cmd, describe: string): boolean {
    const q = output === 'pad' ? this.padQueue : this.out[output].queue;
    if (q.length >= BOARD_LIMITS.queueDepth) { this.refuse(output, 'QUEUE_FULL', describe); return false; }
    let i = q.length;
    while (i > 0 && q[i - 1]!.atMs > cmd.atMs) i--;
    q.splice(i, 0, cmd);
    this.armQueue(output);
    return true;
  }

  private armQueue(output: OutputName): void {
    const pad = output === 'pad';
    const s = pad ? null : this.out[output];
    const q = pad ? this.padQueue : s!.queue;
    const old = pad ? this.padQueueTimer : s!.queueTimer;
    if (old !== null) this.clock.clearTimeout(old);
    const head = q[0];
    let t: TimerId | null = null;
    if (head && !this.closed) {
      t = this.clock.setTimeout(() => {
        if (pad) this.padQueueTimer = null; else s!.queueTimer = null;
        const now = this.clock.now();
        while (q.length > 0 && q[0]!.atMs <= now) this.execute(output, q.shift()!);
        this.armQueue(output);
      }, head.atMs - this.clock.now());
    }
    if (pad) this.padQueueTimer = t; else s!.queueTimer = t;
  }

  private dropQueue(output: OutputName): void {
    if (output === 'pad') {
      this.padQueue = [];
      if (this.padQueueTimer !== null) this.clock.clearTimeout(this.padQueueTimer);
      this.padQueueTimer = null;
      return;
    }
    const s = this.out[output];
    s.queue = [];
    if (s.queueTimer !== null) this.clock.clearTimeout(s.queueTimer);
    s.queueTimer = null;
  }

  private execute(output: OutputName, cmd: Cmd): void {
    // Applied when the timer fires; stamped with the scheduled time, as the board stamps its tick.
    const now = Math.max(cmd.atMs, 0);
    if (cmd.kind === 'off') return this.turnOff(output, null);
    if (this.blocked(output)) return this.refuse(output, 'FAULT_LATCHED', `queued command for ${output}`);
    if (output === 'pad') {
      if (cmd.kind !== 'set') return;
      this.padTarget = cmd.value;
      this.padAtTargetSent = false;
      this.padReached = false;
      this.runawaySinceMs = null;
      const t = this.padC;
      this.watch = Number.isFinite(t) && Math.abs(cmd.value - t) > BOARD_LIMITS.runawayHysteresisC ? { startC: t, deadlineMs: now + BOARD_LIMITS.watchPeriodMs } : null;
      this.emit({ type: 'applied', output, boardMs: now, action: 'set', value: cmd.value });
      this.padControl();
      return;
    }
    const present = this.valueAt(output, this.clock.now());
    if (cmd.kind === 'set') {
      if ((output === 'tens1' || output === 'tens2') && cmd.value > present) {
        // Never a jump: follow the set-point at the slew limit.
        const durationMs = Math.ceil(((cmd.value - present) * 1000) / BOARD_LIMITS.maxTensSlewMaPerS);
        this.startRamp(output, now, present, cmd.value, durationMs);
      } else {
        this.setValue(output, cmd.value);
        this.emit({ type: 'applied', output, boardMs: now, action: 'set', value: cmd.value });
      }
    } else {
      if (cmd.from > present + RAMP_FROM_TOLERANCE[output]) return this.refuse(output, 'OUT_OF_LIMIT', `queued command for ${output}`);
      this.startRamp(output, now, cmd.from, cmd.to, cmd.durationMs);
    }
    this.checkDrivenCauses(output);
  }

  private startRamp(output: Channel, t0: number, from: number, to: number, durationMs: number): void {
    const s = this.out[output];
    if (s.rampTimer !== null) this.clock.clearTimeout(s.rampTimer);
    s.ramp = { t0, from, to, durationMs };
    this.emit({ type: 'applied', output, boardMs: t0, action: 'ramp', value: to, durationMs });
    this.writeOutput(output, this.valueAt(output, this.clock.now()));
    s.rampTimer = this.clock.setTimeout(() => {
      s.rampTimer = null;
      this.setValue(output, to);
      this.emit({ type: 'applied', output, boardMs: t0 + durationMs, action: 'set', value: to });
    }, t0 + durationMs - this.clock.now());
    this.armStep();
  }

  /** One timer interpolates every running ramp at rampStepMs. */
  private armStep(): void {
    if (this.stepTimer !== null || this.closed) return;
    this.stepTimer = this.clock.setTimeout(() => {
      this.stepTimer = null;
      const now = this.clock.now();
      let any = false;
      for (const o of ['tens1', 'tens2', 'ultrasound'] as const) {
        if (!this.out[o].ramp) continue;
        any = true;
        this.writeOutput(o, this.valueAt(o, now));
      }
      if (any) this.armStep();
    }, this.rampStepMs);
  }

  private valueAt(output: Channel, t: number): number {
    const s = this.out[output];
    const r = s.ramp;
    if (!r) return s.value;
    if (r.durationMs <= 0 || t >= r.t0 + r.durationMs) return r.to;
    if (t <= r.t0) return r.from;
    return r.from + ((r.to - r.from) * (t - r.t0)) / r.durationMs;
  }

  private setValue(output: Channel, value: number): void {
    const s = this.out[output];
    if (s.rampTimer !== null) this.clock.clearTimeout(s.rampTimer);
    s.rampTimer = null;
    s.ramp = null;
    s.value = value;
    this.writeOutput(output, value);
  }

  private driven(output: OutputName): boolean {
    if (output === 'pad') return this.padTarget !== null;
    const s = this.out[output];
    return s.value > 0 || (s.ramp !== null && Math.max(s.ramp.from, s.ramp.to) > 0);
  }

  /** Off now; cause: the fault that caused it (null = commanded). */
  private turnOff(output: OutputName, cause: FaultName | null): void {
    const wasOn = this.driven(output);
    if (output === 'pad') {
      this.padTarget = null;
      this.watch = null;
      this.runawaySinceMs = null;
      this.padDrive(false, false);
    } else this.setValue(output, 0);
    if (wasOn || cause === null) this.emit({ type: 'applied', output, boardMs: this.boardNow(), action: 'off', value: 0, ...(cause ? { cause } : {}) });
  }

  // ---------------------------------------------------------------- pins

  private writeOutput(output: Channel, value: number): void {
    if (output === 'ultrasound') {
      const u = this.pins.ultrasound;
      if (!u) return;
      this.digital(u.enablePin, value > 0 ? 1 : 0);
      this.pwm(u.intensityPin, Math.round((Math.min(value, u.maxWPerCm2) / u.maxWPerCm2) * PWM_MAX));
      return;
    }
    const ch = this.pins.tens[output === 'tens1' ? 0 : 1];
    if (!ch) return;
    this.pwm(ch.pin, Math.round((Math.min(value, ch.maxMa) / ch.maxMa) * PWM_MAX));
  }

  private pwm(pin: number, duty: number, force = false): void {
    if (this.closed || (!force && this.duty.get(pin) === duty)) return;
    this.duty.set(pin, duty);
    this.c.framesSent++;
    this.c.bytesSent += pin > 15 ? 6 : 3;
    this.opts.trace?.('out', `pwm ${pin} = ${duty}`, this.clock.now());
    try { this.io.pwmWrite(pin, duty); } catch { /* port gone: the silence check reports it */ }
  }

  private digital(pin: number, v: 0 | 1, force = false): void {
    if (this.closed || (!force && this.level.get(pin) === v)) return;
    this.level.set(pin, v);
    this.c.framesSent++;
    this.c.bytesSent += 3;
    this.opts.trace?.('out', `digital ${pin} = ${v}`, this.clock.now());
    try { this.io.digitalWrite(pin, v); } catch { /* as above */ }
  }

  private padDrive(heat: boolean, cool: boolean): void {
    const p = this.pins.pad;
    if (!p) return;
    this.heaterOn = heat;
    this.coolerOn = cool && p.coolerPin !== undefined;
    this.digital(p.heaterPin, heat ? 1 : 0);
    if (p.coolerPin !== undefined) this.digital(p.coolerPin, cool ? 1 : 0);
  }

  private allPinsOff(): void {
    for (const t of this.pins.tens) this.pwm(t.pin, 0, true);
    if (this.pins.ultrasound) { this.pwm(this.pins.ultrasound.intensityPin, 0, true); this.digital(this.pins.ultrasound.enablePin, 0, true); }
    if (this.pins.pad) { this.digital(this.pins.pad.heaterPin, 0, true); if (this.pins.pad.coolerPin !== undefined) this.digital(this.pins.pad.coolerPin, 0, true); }
  }

  // ---------------------------------------------------------------- faults

  private hasOutput(o: OutputName): boolean {
    if (o === 'tens1') return true;
    if (o === 'tens2') return this.info.tensChannels >= 2;
    if (o === 'ultrasound') return this.info.hasUltrasound;
    return this.info.hasPad;
  }

  private allOutputs(): OutputName[] {
    return (['tens1', 'tens2', 'ultrasound', 'pad'] as const).filter((o) => this.hasOutput(o));
  }

  private outFault(o: OutputName): FaultName | null {
    return o === 'pad' ? this.padFault : this.out[o].fault;
  }

  private setOutFault(o: OutputName, f: FaultName | null): void {
    if (o === 'pad') this.padFault = f; else this.out[o].fault = f;
  }

  private blocked(o: OutputName): boolean {
    return this.globalFaults.size > 0 || this.outFault(o) !== null;
  }

  private causePresent(f: FaultName, o: OutputName | 'all'): boolean {
    switch (f) {
      case 'LEAD_OFF': return o === 'tens1' ? this.leadOffNow[0]! : o === 'tens2' ? this.leadOffNow[1]! : false;
      case 'STOP_INPUT': return this.stopActive;
      case 'OVER_TEMP': return this.padC > BOARD_LIMITS.padOverTempC;
      case 'UNDER_TEMP': return this.padC < BOARD_LIMITS.padUnderTempC;
      default: return false;
    }
  }

  private cutOutput(o: OutputName, code: FaultName): void {
    this.dropQueue(o);
    this.setOutFault(o, code);
    this.turnOff(o, code);
    this.emit({ type: 'fault', code, output: o, boardMs: this.boardNow() });
  }

  private latchGlobal(code: FaultName): void {
    const already = this.globalFaults.has(code);
    this.globalFaults.add(code);
    for (const o of this.allOutputs()) { this.dropQueue(o); this.turnOff(o, code); }
    this.allPinsOff();
    if (!already) this.emit({ type: 'fault', code, output: 'all', boardMs: this.boardNow() });
  }

  private checkDrivenCauses(o: OutputName): void {
    if (!this.driven(o)) return;
    if (o === 'tens1' && this.leadOffNow[0]) this.cutOutput(o, 'LEAD_OFF');
    else if (o === 'tens2' && this.leadOffNow[1]) this.cutOutput(o, 'LEAD_OFF');
  }

  // ---------------------------------------------------------------- inputs

  private onStop(active: boolean): void {
    if (this.closed) return;
    if (active !== this.stopActive) this.opts.trace?.('in', `stop input ${active ? 'active' : 'released'}`, this.clock.now());
    this.stopActive = active;
    if (active) this.latchGlobal('STOP_INPUT');
  }

  private onElectrode(ch: number, ohm: number | null): void {
    if (this.closed) return;
    this.ohm[ch] = ohm;
    const off = ohm === null || ohm > BOARD_LIMITS.leadOffOhm;
    const was = this.leadOffNow[ch]!;
    if (off === was) return;
    this.leadOffNow[ch] = off;
    const o: Channel = ch === 0 ? 'tens1' : 'tens2';
    this.opts.trace?.('in', `electrode ${o} ${off ? 'open' : 'contact'}`, this.clock.now());
    if (off) {
      if (this.driven(o)) this.cutOutput(o, 'LEAD_OFF');
    } else if (this.out[o].fault === 'LEAD_OFF') {
      this.emit({ type: 'causeGone', output: o, code: 'LEAD_OFF', boardMs: this.boardNow() });
    }
  }

  // ---------------------------------------------------------------- periodic: lease, silence, pad loop, telemetry

  private watchdog(): void {
    const period = Math.max(10, Math.floor(this.leaseMs / 4));
    this.watchdogTimer = this.clock.setTimeout(() => {
      this.watchdogTimer = null;
      if (this.closed) return;
      const now = this.clock.now();
      // The host-emulated lease: a host that stalled longer than the lease could not have timed anything.
      if (now - this.lastWatchdogMs > this.leaseMs) this.latchGlobal('HOST_TIMEOUT');
      this.lastWatchdogMs = now;
      if (!this.lost && now - this.lastRxMs > this.silenceMs) {
        this.linkLost(`no report from the Firmata board on ${this.opts.path} for ${this.silenceMs} ms`);
      }
      this.watchdog();
    }, period);
  }

  private telemetryTick(): void {
    this.telemetryTimer = this.clock.setTimeout(() => {
      this.telemetryTimer = null;
      if (this.closed) return;
      this.padControl();
      this.emit({ type: 'telemetry', telemetry: this.telemetry() });
      this.telemetryTick();
    }, BOARD_LIMITS.telemetryMs);
  }

  /** Bang-bang on the heater and cooler pins from the thermistor, plus the thermal checks of the board. */
  private padControl(): void {
    const p = this.pins.pad;
    if (!p || !Number.isFinite(this.padC)) return;
    const t = this.padC;
    const L = BOARD_LIMITS;
    const now = this.boardNow();
    if (t > L.padOverTempC && !this.globalFaults.has('OVER_TEMP')) return this.latchGlobal('OVER_TEMP');
    if (t < L.padUnderTempC && !this.globalFaults.has('UNDER_TEMP')) return this.latchGlobal('UNDER_TEMP');
    const target = this.padTarget;
    if (target === null || this.blocked('pad')) { if (this.heaterOn || this.coolerOn) this.padDrive(false, false); return; }
    const h = p.hysteresisC;
    let heat = this.heaterOn, cool = this.coolerOn;
    if (t < target - h) { heat = true; cool = false; } else if (t >= target) heat = false;
    if (t > target + h) { cool = true; heat = false; } else if (t <= target) cool = false;
    if (heat !== this.heaterOn || cool !== this.coolerOn) this.padDrive(heat, cool);
    const err = Math.abs(target - t);
    if (!this.padAtTargetSent && err <= L.atTargetBandC) {
      this.padAtTargetSent = true;
      this.padReached = true;
      this.emit({ type: 'padAtTarget', targetC: target, boardMs: now });
    }
    if (this.watch) {
      if (err <= L.runawayHysteresisC) this.watch = null;
      else if (Math.abs(t - this.watch.startC) >= L.watchIncreaseC && Math.sign(target - this.watch.startC) === Math.sign(t - this.watch.startC)) {
        this.watch = { startC: t, deadlineMs: now + L.watchPeriodMs };
      } else if (now > this.watch.deadlineMs) return this.latchGlobal('THERMAL_RUNAWAY');
    }
    if (this.padReached) {
      if (err > L.runawayHysteresisC) {
        this.runawaySinceMs ??= now;
        if (now - this.runawaySinceMs > L.runawayPeriodMs) this.latchGlobal('THERMAL_RUNAWAY');
      } else this.runawaySinceMs = null;
    }
  }

  latchedFaults(): FaultName[] {
    return this.telemetry().faults;
  }

  private telemetry(): Telemetry {
    const now = this.clock.now();
    const faults = new Set<FaultName>(this.globalFaults);
    for (const o of this.allOutputs()) { const f = this.outFault(o); if (f) faults.add(f); }
    return {
      boardMs: Math.round(now),
      tensMa: [this.valueAt('tens1', now), this.valueAt('tens2', now)],
      usWPerCm2: this.valueAt('ultrasound', now),
      padTargetC: this.padTarget,
      padC: Number.isFinite(this.padC) ? Math.round(this.padC * 10) / 10 : NaN,
      headC: NaN, // no head sensor on the bench board
      electrodeOhm: this.pins.electrodeSense.length ? [this.ohm[0] ?? null, this.ohm[1] ?? null] : [null, null],
      coupled: true, // no coupling sensor: never reported uncoupled
      stopInput: this.stopActive,
      faults: [...faults],
    };
  }

  // ---------------------------------------------------------------- events

  private refuse(output: OutputName | 'all', status: StatusName, command: string): void {
    this.emit({ type: 'refused', output, status, boardMs: this.boardNow(), command });
  }

  /** Events go out on the next clock turn, never from inside the caller's command. */
  private emit(e: BoardEvent): void {
    if (this.closed) return;
    this.clock.setTimeout(() => { for (const l of [...this.listeners]) l(e); }, 0);
  }

  private linkLost(reason: string): void {
    if (this.lost || this.closed) return;
    this.allPinsOff(); // best effort, if the line still carries anything
    this.lost = true;
    this.emit({ type: 'linkLost', reason });
  }

  private stopTimers(): void {
    for (const t of [this.stepTimer, this.watchdogTimer, this.telemetryTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.stepTimer = this.watchdogTimer = this.telemetryTimer = null;
    for (const o of ['tens1', 'tens2', 'ultrasound'] as const) {
      const s = this.out[o];
      if (s.rampTimer !== null) this.clock.clearTimeout(s.rampTimer);
      s.rampTimer = null;
    }
  }
}

