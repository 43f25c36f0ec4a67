/**
 * The simulated board: the firmware's own core (src/drivers/core/board-core.ts, the C
 * of firmware-host/core/ compiled to WebAssembly) wrapped in plant models. Every rule of
 * the board (limits, queues, ramps, slew, latches, clearing, the runaway watch, events,
 * the lease) is the core's; this file only
 *   - carries bytes both ways over a Transport;
 *   - steps the plants (pad, electrodes, head) every 100 ms from the core's outputs and
 *     feeds their readings back as the core's sensor inputs;
 *   - offers the controls of fault injection (stop button, lead-off, coupling, a stuck
 *     heater, power loss, a crystal error, board defects) and what tests read back.
 * A 30-minute session is a few tens of thousands of clock events.
 */
import type { Clock, TimerId } from '../src/clock.js';
import { BoardCore, CORE_DEFECT, type CoreInputs } from '../src/drivers/core/board-core.js';
import type { Transport } from '../src/drivers/transport.js';
import { decodeMessage, type MessageOf } from '../src/drivers/wire/messages.js';
import { MESSAGES, OUTPUT } from '../src/drivers/wire/spec.js';
import { DEFAULT_PAD, Electrode, ThermalPad, UltrasoundHead, type PadParams } from './plants.js';

const PLANT_MS = 100;

export interface SimBoardOptions {
  /** Board clock reading at shared-clock time 0 (boards boot before the host connects). */
  bootOffsetMs?: number;
  /** Crystal error of the board's clock, parts per million (+5000: the board's clock runs 0.5 % fast). */
  driftPpm?: number;
  pad?: Partial<PadParams>;
  /** A device profile may give the board less: fewer TENS channels, no head, no pad, a lower TENS limit. */
  tensChannels?: 1 | 2;
  hasUltrasound?: boolean;
  hasPad?: boolean;
  maxTensMa?: number;
}

export interface SimBoardStats {
  framesIn: number;
  framesOut: number;
  crcErrors: number;
  framingErrors: number;
  eventsDropped: number;
}

export class SimBoard {
  readonly pad: ThermalPad;
  readonly electrodes = [new Electrode(), new Electrode()];
  readonly head = new UltrasoundHead();
  stopInput = false;
  /** Benchmarks: called with each new event and how late (board ms) it went out after its own time stamp. */
  onEvent: ((e: MessageOf<'EVENT'>, lateMs: number) => void) | null = null;
  /** Called on every HELLO the board accepts (the pty server starts its fault clock there). */
  onHello: (() => void) | null = null;
  /** Every event the board emitted, once each (resends left out), decoded, for tests. */
  readonly eventLog: MessageOf<'EVENT'>[] = [];
  /** Pad temperature extremes while the pad is driven or its heater stuck (for tests). */
  padMinC = Infinity;
  padMaxC = -Infinity;

  private readonly core: BoardCore;
  private readonly rate: number;
  private readonly bootOffsetMs: number;
  private powered = true;
  private plantTimer: TimerId | null = null;
  private framesOut = 0;
  private helloSeen = false;
  private readonly loggedIds = new Set<number>();
  private readonly loggedOrder: number[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly transport: Transport,
    options: SimBoardOptions = {},
  ) {
    this.pad = new ThermalPad({ ...DEFAULT_PAD, ...options.pad });
    this.rate = 1 + (options.driftPpm ?? 0) * 1e-6;
    this.bootOffsetMs = options.bootOffsetMs ?? 0;
    this.core = new BoardCore(clock, {
      bootOffsetMs: this.bootOffsetMs,
      driftPpm: options.driftPpm ?? 0,
      inputs: this.readings(),
      has: {
        ...(options.tensChannels !== undefined ? { tensChannels: options.tensChannels } : {}),
        ...(options.hasUltrasound !== undefined ? { ultrasound: options.hasUltrasound } : {}),
        ...(options.hasPad !== undefined ? { pad: options.hasPad } : {}),
        ...(options.maxTensMa !== undefined ? { maxTensMa: options.maxTensMa } : {}),
      },
    });
    this.core.onTx = (frame) => this.onTx(frame);
    transport.onData((bytes) => {
      if (!this.powered) return;
      this.core.receive(bytes);
      if (this.helloSeen) {
        this.helloSeen = false;
        this.onHello?.();
      }
    });
    this.plantTick();
  }

  /** The board's own clock. */
  boardMs(): number {
    return this.core.boardMs();
  }

  // ---------------------------------------------------------------- the wire

  private onTx(frame: Uint8Array): void {
    this.framesOut++;
    const id = frame[2];
    if (id === MESSAGES.IDENTIFY.id)
      this.helloSeen = true; // the core answers an accepted HELLO with IDENTIFY
    else if (id === MESSAGES.EVENT.id) this.logEvent(frame.subarray(2, frame.length - 3));
    if (this.powered) this.transport.write(frame);
  }

  private logEvent(payload: Uint8Array): void {
    const msg = decodeMessage(payload);
    if (msg?.type !== 'EVENT' || this.loggedIds.has(msg.eventId)) return;
    this.loggedIds.add(msg.eventId);
    this.loggedOrder.push(msg.eventId);
    if (this.loggedOrder.length > 1024) this.loggedIds.delete(this.loggedOrder.shift() as number);
    this.eventLog.push(msg);
    if (this.onEvent) {
      const exact = this.clock.now() * this.rate + this.bootOffsetMs; // the board clock, unrounded
      const stamped = exact - ((Math.floor(exact) - msg.boardMs) >>> 0); // the event's u32 time, unwrapped
      this.onEvent(msg, exact - stamped);
    }
  }

  // ---------------------------------------------------------------- plants and sensors

  private readings(): CoreInputs {
    return {
      padCx10: this.pad.sensorC * 10,
      headCx10: this.head.tempC * 10,
      tensOhm: [(this.electrodes[0] as Electrode).ohm, (this.electrodes[1] as Electrode).ohm],
      coupled: this.head.coupled,
      stop: this.stopInput,
    };
  }

  /** A change to the plants or the inputs, now: the core's present tick reads the sensors after it. */
  private sensorsChange(change: () => void): void {
    change();
    if (this.powered) this.core.sense(this.readings());
  }

  private plantTick(): void {
    this.plantTimer = this.clock.setTimeout(() => {
      this.plantTimer = null;
      if (!this.powered) return;
      this.sensorsChange(() => this.plantStep());
      this.plantTick();
    }, PLANT_MS);
  }

  private plantStep(): void {
    const dtS = PLANT_MS / 1000;
    // The pad's supply relay opens while a board-wide fault is latched: a stuck heater
    // heats until the board latches (over-temperature, runaway watch, stop, ...).
    this.pad.powerCut = this.core.boardFaultBits() !== 0;
    this.pad.drive = (this.core.heaterPct() - this.core.coolerPct()) / 100;
    this.pad.step(dtS);
    this.head.step(dtS, this.core.output(OUTPUT.ultrasound) / 100);
    if (this.core.output(OUTPUT.pad) !== 0 || this.pad.heaterStuck) {
      this.padMinC = Math.min(this.padMinC, this.pad.sensorC);
      this.padMaxC = Math.max(this.padMaxC, this.pad.sensorC);
    }
  }

  // ---------------------------------------------------------------- controls (fault injection, tests)

  setElectrodeOhm(channel: 0 | 1, ohm: number): void {
    this.sensorsChange(() => {
      (this.electrodes[channel] as Electrode).ohm = ohm;
    });
  }

  setCoupled(coupled: boolean): void {
    this.sensorsChange(() => {
      this.head.coupled = coupled;
    });
  }

  setStopInput(pressed: boolean): void {
    this.sensorsChange(() => {
      this.stopInput = pressed;
    });
  }

  /** Hold the pad thermistor at c °C (the pad no longer heats, cools or drifts), as the firmware runner does. */
  holdPadC(c: number): void {
    this.sensorsChange(() => {
      Object.assign(this.pad.p, { maxHeatCPerS: 0, maxCoolCPerS: 0, tauS: Infinity });
      this.pad.surfaceC = this.pad.sensorC = c;
    });
  }

  /** Hold the ultrasound head's thermistor at c °C (it no longer warms or cools). */
  holdHeadC(c: number): void {
    this.sensorsChange(() => {
      this.head.tempC = c;
      this.head.held = true;
    });
  }

  /** Injected failure: the heater driver sticks on; only the board's cut of the pad saves the patient. */
  stickHeater(): void {
    this.pad.heaterStuck = true;
  }

  /**
   * Defect injection (the core is built with MOD_DEFECTS for the host only): a board that
   * breaks its own rules, to prove the host's mirrors catch it.
   *   noRunaway: the runaway watch never latches;  dropDue: due commands of these outputs vanish unrun.
   */
  injectDefects(d: { noRunaway?: boolean; dropDue?: number[] }): void {
    let mask = d.noRunaway ? CORE_DEFECT.noRunaway : 0;
    for (const o of d.dropDue ?? []) mask |= CORE_DEFECT.dropDue(o);
    this.core.setDefects(mask);
  }

  /** Power loss / cable pulled at the board: it stops answering, every output dead. */
  powerOff(): void {
    this.core.catchUp();
    this.powered = false;
    this.pad.powerCut = true;
    this.stopTimers();
  }

  // ---------------------------------------------------------------- what the board does (tests, benchmarks)

  /** Present output in wire units (0.1 mA, 0.01 W/cm², pad target 0.1 °C or 0). */
  outputValue(output: number): number {
    if (!this.powered) return 0;
    this.core.catchUp();
    return this.core.output(output);
  }

  /** Pad heater (+) or cooler (−) drive, −1..1, as the board drives it now. */
  padDrive(): number {
    if (!this.powered) return 0;
    this.core.catchUp();
    return (this.core.heaterPct() - this.core.coolerPct()) / 100;
  }

  /** Delivered meter of an output, kept per tick: ms above zero, sum of value·ms (wire units), peak. */
  meter(output: number): { onMs: number; valueMs: number; peak: number } {
    this.core.catchUp();
    return this.core.meter(output);
  }

  /** Latched fault codes, board-wide and per output. */
  faultCodes(): number[] {
    this.core.catchUp();
    const f = this.core.faultBits();
    const codes: number[] = [];
    for (let code = 1; code <= 16; code++) if (f & (1 << (code - 1))) codes.push(code);
    return codes;
  }

  get sessionActive(): boolean {
    return this.core.session;
  }

  get stats(): SimBoardStats {
    return { ...this.core.counters(), framesOut: this.framesOut };
  }

  stopTimers(): void {
    this.core.stop();
    if (this.plantTimer !== null) this.clock.clearTimeout(this.plantTimer);
    this.plantTimer = null;
  }
}
