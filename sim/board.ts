/**
 * The simulated board: the firmware's own core (firmware-host/core/, compiled to
 * WebAssembly as sim/board-core.wasm) wrapped in plant models. Every rule of the board
 * (limits, queues, ramps, slew, latches, clearing, the runaway watch, events, the lease)
 * is the core's; this file only
 *   - keeps the core's clock: board time = shared-clock time × (1 + crystal error) + boot
 *     offset, and runs the core's 1 ms ticks lazily, up to the next time the core says
 *     it has something to do (mod_next_wake), a byte arrives or an input changes;
 *   - passes bytes both ways over a Transport;
 *   - steps the plants (pad, electrodes, head) every 100 ms from the core's outputs and
 *     feeds their readings back as the core's inputs (the sensors).
 * So a 30-minute session is a few tens of thousands of clock events, and each crosses
 * into WebAssembly once, however many ticks it covers.
 */
import { readFileSync } from 'node:fs';
import type { Clock, TimerId } from '../src/clock.js';
import type { Transport } from '../src/drivers/transport.js';
import { decodeMessage, type MessageOf } from '../src/drivers/wire/messages.js';
import { MESSAGES, OUTPUT } from '../src/drivers/wire/spec.js';
import { DEFAULT_PAD, Electrode, ThermalPad, UltrasoundHead, type PadParams } from './plants.js';

const PLANT_MS = 100;
/** firmware-host/core/modality.h MOD_DEFECT_* */
const DEFECT = { noRunaway: 0x0001, dropDue: (o: number) => 0x0100 << o } as const;
const OHM_OPEN = 0xffff;

export interface SimBoardOptions {
  /** Board clock reading at shared-clock time 0 (boards boot before the host connects). */
  bootOffsetMs?: number;
  /** Crystal error of the board's clock, parts per million (+5000: the board's ms are 0.5 % short, its clock runs fast). */
  driftPpm?: number;
  pad?: Partial<PadParams>;
}

export interface SimBoardStats { framesIn: number; framesOut: number; crcErrors: number; framingErrors: number; eventsDropped: number }

interface CoreExports {
  memory: WebAssembly.Memory;
  sim_init(nowMs: number): void;
  sim_advance(toMs: number): void;
  sim_rx_buffer(): number;
  sim_rx(n: number): void;
  sim_set_inputs(padCx10: number, headCx10: number, ohm1: number, ohm2: number, coupled: number, stop: number): void;
  sim_now(): number;
  sim_next_wake(): number;
  sim_output(o: number): number;
  sim_heater_pct(): number;
  sim_cooler_pct(): number;
  sim_session(): number;
  sim_set_defects(mask: number): void;
  sim_board_faults(): number;
  sim_faults(): number;
  sim_meter_on_ms(o: number): number;
  sim_meter_value_ms(o: number): number;
  sim_meter_peak(o: number): number;
  sim_frames_in(): number;
  sim_crc_errors(): number;
  sim_framing_errors(): number;
  sim_events_dropped(): number;
}

export const CORE_WASM_URL = new URL('./board-core.wasm', import.meta.url);
let coreModule: WebAssembly.Module | null = null;
/** The compiled core, loaded once per process (each board gets its own instance and memory). */
function core(): WebAssembly.Module {
  coreModule ??= new WebAssembly.Module(readFileSync(CORE_WASM_URL));
  return coreModule;
}

export class SimBoard {
  readonly pad: ThermalPad;
  readonly electrodes = [new Electrode(), new Electrode()];
  readonly head = new UltrasoundHead();
  stopInput = false;
  /** Benchmarks: called with each new event and how late (board ms, fractional) it went out after its own time stamp. */
  onEvent: ((e: MessageOf<'EVENT'>, lateMs: number) => void) | null = null;
  /** Called on every HELLO the board accepts (the pty server starts its fault clock there). */
  onHello: (() => void) | null = null;
  /** Every event the board emitted, once each (resends left out), decoded, for tests. */
  readonly eventLog: MessageOf<'EVENT'>[] = [];
  /** Pad temperature extremes while the pad is driven or its heater stuck (for tests). */
  padMinC = Infinity;
  padMaxC = -Infinity;

  private readonly c: CoreExports;
  private readonly bootOffsetMs: number;
  private readonly rate: number;
  private readonly rxView: Uint8Array;
  private readonly rxCap = 256;
  private powered = true;
  private wakeTimer: TimerId | null = null;
  private wakeAt = -1;
  private plantTimer: TimerId | null = null;
  private framesOut = 0;
  private loggedIds = new Set<number>();
  private readonly loggedOrder: number[] = [];

  constructor(private readonly clock: Clock, private readonly transport: Transport, options: SimBoardOptions = {}) {
    this.bootOffsetMs = options.bootOffsetMs ?? 0;
    this.rate = 1 + (options.driftPpm ?? 0) * 1e-6;
    this.pad = new ThermalPad({ ...DEFAULT_PAD, ...options.pad });
    const instance = new WebAssembly.Instance(core(), { env: { tx: (ptr: number, n: number) => this.onTx(ptr, n) } });
    this.c = instance.exports as unknown as CoreExports;
    this.rxView = new Uint8Array(this.c.memory.buffer, this.c.sim_rx_buffer(), this.rxCap);
    this.c.sim_init(this.boardMs());
    this.writeInputs();
    transport.onData((bytes) => this.onBytes(bytes));
    this.plantTick();
    this.schedule();
  }

  // ---------------------------------------------------------------- clock

  /** The board's own clock: what its millisecond counter reads now. */
  boardMs(): number {
    return Math.floor(this.clock.now() * this.rate + this.bootOffsetMs);
  }

  /** Shared-clock time at which the board's counter reaches boardMs. */
  private hostTimeOf(boardMs: number): number {
    if (this.rate === 1) return boardMs - this.bootOffsetMs;
    let t = (boardMs - this.bootOffsetMs) / this.rate;
    while (Math.floor(t * this.rate + this.bootOffsetMs) < boardMs) t += 1e-6;
    return t;
  }

  /** Run the core's ticks up to the present board time. */
  private catchUp(): void {
    if (this.powered) this.c.sim_advance(this.boardMs() >>> 0);
  }

  /** Wake when the core next has something to do on its own. */
  private schedule(): void {
    if (!this.powered) return;
    // The core counts u32 ms (it wraps); it is caught up, so its now is boardMs() and the wake is that far ahead.
    const boardWake = this.boardMs() + ((this.c.sim_next_wake() - this.c.sim_now()) >>> 0);
    if (boardWake === this.wakeAt && this.wakeTimer !== null) return;
    if (this.wakeTimer !== null) this.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = boardWake;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = null;
      this.catchUp();
      this.schedule();
    }, Math.max(0, this.hostTimeOf(boardWake) - this.clock.now()));
  }

  // ---------------------------------------------------------------- the wire

  private onBytes(bytes: Uint8Array): void {
    if (!this.powered) return;
    this.catchUp();
    for (let i = 0; i < bytes.length; i += this.rxCap) {
      const chunk = bytes.subarray(i, i + this.rxCap);
      this.rxView.set(chunk);
      this.c.sim_rx(chunk.length);
    }
    if (this.helloSeen) { this.helloSeen = false; this.onHello?.(); }
    this.schedule();
  }

  private helloSeen = false;

  /** The core transmits whole frames: <len><seq><payload><crc16><sync>. */
  private onTx(ptr: number, n: number): void {
    const frame = new Uint8Array(this.c.memory.buffer, ptr, n).slice();
    this.framesOut++;
    const id = frame[2];
    if (id === MESSAGES.IDENTIFY.id) this.helloSeen = true; // the core answers an accepted HELLO with IDENTIFY
    else if (id === MESSAGES.EVENT.id) this.logEvent(frame.subarray(2, n - 3));
    this.transport.write(frame);
  }

  private logEvent(payload: Uint8Array): void {
    const msg = decodeMessage(payload);
    if (msg?.type !== 'EVENT' || this.loggedIds.has(msg.eventId)) return;
    this.loggedIds.add(msg.eventId);
    this.loggedOrder.push(msg.eventId);
    if (this.loggedOrder.length > 1024) this.loggedIds.delete(this.loggedOrder.shift() as number);
    this.eventLog.push(msg);
    this.onEvent?.(msg, this.clock.now() * this.rate + this.bootOffsetMs - (this.boardMs() - ((this.boardMs() - msg.boardMs) >>> 0)));
  }

  // ---------------------------------------------------------------- plants and sensors

  private plantTick(): void {
    this.plantTimer = this.clock.setTimeout(() => {
      this.plantTimer = null;
      if (!this.powered) return;
      this.sensorsRead(() => this.plantStep());
      this.plantTick();
    }, PLANT_MS);
  }

  private plantStep(): void {
    const dtS = PLANT_MS / 1000;
    const padDriven = this.c.sim_output(OUTPUT.pad) !== 0;
    // The pad's supply relay opens while a board-wide fault is latched: a stuck heater
    // heats until the board latches (over-temperature, runaway watch, stop, ...).
    this.pad.powerCut = this.c.sim_board_faults() !== 0;
    this.pad.drive = (this.c.sim_heater_pct() - this.c.sim_cooler_pct()) / 100;
    this.pad.step(dtS);
    this.head.step(dtS, this.c.sim_output(OUTPUT.ultrasound) / 100);
    if (padDriven || this.pad.heaterStuck) {
      this.padMinC = Math.min(this.padMinC, this.pad.sensorC);
      this.padMaxC = Math.max(this.padMaxC, this.pad.sensorC);
    }
  }

  private writeInputs(): void {
    const ohm = (e: Electrode) => (Number.isFinite(e.ohm) ? Math.max(0, Math.min(OHM_OPEN, Math.round(e.ohm))) : OHM_OPEN);
    this.c.sim_set_inputs(
      clampI16(Math.round(this.pad.sensorC * 10)), clampI16(Math.round(this.head.tempC * 10)),
      ohm(this.electrodes[0] as Electrode), ohm(this.electrodes[1] as Electrode),
      this.head.coupled ? 1 : 0, this.stopInput ? 1 : 0,
    );
  }

  /**
   * The sensors change now (a plant step, an injected fault): the core's tick for the
   * present board millisecond sees the new readings, as the firmware's tick sees the ADC
   * sampled just before it. If that tick has already run (another event at the same
   * millisecond), they count from the next one.
   */
  private sensorsRead(change: () => void): void {
    if (!this.powered) { change(); return; }
    const nowB = this.boardMs();
    const behind = (nowB - this.c.sim_now()) >>> 0;
    if (behind > 0) this.c.sim_advance((nowB - 1) >>> 0);
    change();
    this.writeInputs();
    if (behind > 0) {
      this.c.sim_advance(nowB >>> 0);
      this.schedule();
      return;
    }
    const next = nowB + 1;
    if (this.wakeTimer !== null && next >= this.wakeAt) return;
    if (this.wakeTimer !== null) this.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = next;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = null;
      this.catchUp();
      this.schedule();
    }, Math.max(0, this.hostTimeOf(next) - this.clock.now()));
  }

  // ---------------------------------------------------------------- controls (fault injection, tests)

  setElectrodeOhm(channel: 0 | 1, ohm: number): void {
    this.sensorsRead(() => { (this.electrodes[channel] as Electrode).ohm = ohm; });
  }

  setCoupled(coupled: boolean): void {
    this.sensorsRead(() => { this.head.coupled = coupled; });
  }

  setStopInput(pressed: boolean): void {
    this.sensorsRead(() => { this.stopInput = pressed; });
  }

  /** Hold the pad thermistor at c °C (the pad no longer heats, cools or drifts), as the firmware runner does. */
  holdPadC(c: number): void {
    this.sensorsRead(() => {
      Object.assign(this.pad.p, { maxHeatCPerS: 0, maxCoolCPerS: 0, tauS: Infinity });
      this.pad.surfaceC = this.pad.sensorC = c;
    });
  }

  /** Hold the ultrasound head's thermistor at c °C (it no longer warms or cools). */
  holdHeadC(c: number): void {
    this.sensorsRead(() => { this.head.tempC = c; this.head.held = true; });
  }

  /** Injected failure: the heater driver sticks on; only the board's cut of the pad saves the patient. */
  stickHeater(): void {
    this.pad.heaterStuck = true;
  }

  /**
   * Defect injection (the core is built with MOD_DEFECTS for the simulation only): a board
   * that breaks its own rules, to prove the host's mirrors catch it.
   *   noRunaway: the runaway watch never latches;  dropDue: due commands of these outputs vanish unrun.
   */
  injectDefects(d: { noRunaway?: boolean; dropDue?: number[] }): void {
    this.catchUp();
    let mask = d.noRunaway ? DEFECT.noRunaway : 0;
    for (const o of d.dropDue ?? []) mask |= DEFECT.dropDue(o);
    this.c.sim_set_defects(mask);
  }

  /** Power loss / cable pulled at the board: it stops answering, every output dead. */
  powerOff(): void {
    this.catchUp();
    this.powered = false;
    this.pad.powerCut = true;
    this.stopTimers();
  }

  // ---------------------------------------------------------------- what the board does (tests, benchmarks)

  /** Present output in wire units (0.1 mA, 0.01 W/cm², pad target 0.1 °C or 0). */
  outputValue(output: number): number {
    if (!this.powered) return 0;
    this.catchUp();
    return this.c.sim_output(output);
  }

  /** Pad heater (+) or cooler (−) drive, −1..1, as the board drives it now. */
  padDrive(): number {
    if (!this.powered) return 0;
    this.catchUp();
    return (this.c.sim_heater_pct() - this.c.sim_cooler_pct()) / 100;
  }

  /** Delivered meter of an output, kept per 1 ms tick: ms above zero, sum of value·ms (wire units), peak. */
  meter(output: number): { onMs: number; valueMs: number; peak: number } {
    this.catchUp();
    return { onMs: this.c.sim_meter_on_ms(output), valueMs: this.c.sim_meter_value_ms(output), peak: this.c.sim_meter_peak(output) };
  }

  /** Latched fault codes, board-wide and per output. */
  faultCodes(): number[] {
    this.catchUp();
    const f = this.c.sim_faults();
    const codes: number[] = [];
    for (let code = 1; code <= 16; code++) if (f & (1 << (code - 1))) codes.push(code);
    return codes;
  }

  get sessionActive(): boolean {
    return this.c.sim_session() === 1;
  }

  get stats(): SimBoardStats {
    return {
      framesIn: this.c.sim_frames_in(), framesOut: this.framesOut, crcErrors: this.c.sim_crc_errors(),
      framingErrors: this.c.sim_framing_errors(), eventsDropped: this.c.sim_events_dropped(),
    };
  }

  stopTimers(): void {
    for (const t of [this.wakeTimer, this.plantTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.wakeTimer = this.plantTimer = null;
  }
}

function clampI16(v: number): number {
  return Math.max(-0x8000, Math.min(0x7fff, v));
}
