/**
 * The board's rules, run on the host: the firmware's portable core
 * (firmware-host/core/, compiled to WebAssembly as board-core.wasm by
 * `make -C firmware-host wasm`) on a Clock. Two boards use it:
 *   - the simulated board (sim/board.ts), around its plant models;
 *   - the Firmata bench board (firmata-board.ts), around a stock Arduino's pins.
 * Neither writes a rule of its own. This class only keeps the core's clock and runs its
 * 1 ms ticks lazily: up to the next time the core says it has something to do
 * (mod_next_wake), or when bytes arrive or a sensor reading changes; while nothing
 * ramps or slews (mod_steady) the WASM layer ticks straight there in one call.
 *
 * Board time = clock time × (1 + crystal error) + boot offset, in whole milliseconds.
 */
import { readFileSync } from 'node:fs';
import type { Clock, TimerId } from '../../clock.js';
import { packagePath } from '../../util/package-root.js';

/** The board core compiled to WebAssembly (`make -C firmware-host wasm`); shipped in the package at this path. */
export const BOARD_CORE_WASM = packagePath('src', 'drivers', 'core', 'board-core.wasm');

/** The core's sensor inputs, in the firmware's units (0.1 °C, Ω with 0xFFFF open). */
export interface CoreInputs {
  padCx10: number;
  headCx10: number;
  tensOhm: [number, number];
  coupled: boolean;
  stop: boolean;
}

export interface BoardCoreOptions {
  /** Board clock reading at clock time 0. */
  bootOffsetMs?: number;
  /** Crystal error, parts per million (+5000: the board's clock runs 0.5 % fast). */
  driftPpm?: number;
  inputs: CoreInputs;
  /** What the board has (default: two TENS channels, the head, the pad, the full TENS range). */
  has?: { tensChannels?: number; ultrasound?: boolean; pad?: boolean; maxTensMa?: number };
}

interface CoreExports {
  memory: WebAssembly.Memory;
  sim_init(nowMs: number): void;
  sim_advance(toMs: number): void;
  sim_rx_buffer(): number;
  sim_rx(n: number): void;
  sim_set_inputs(padCx10: number, headCx10: number, ohm1: number, ohm2: number, coupled: number, stop: number): void;
  sim_set_defects(mask: number): void;
  sim_configure(tensChannels: number, hasUs: number, hasPad: number, maxTensX10: number): void;
  sim_now(): number;
  sim_next_wake(): number;
  sim_output(o: number): number;
  sim_heater_pct(): number;
  sim_cooler_pct(): number;
  sim_session(): number;
  sim_faults(): number;
  sim_board_faults(): number;
  sim_meter_on_ms(o: number): number;
  sim_meter_value_ms(o: number): number;
  sim_meter_peak(o: number): number;
  sim_frames_in(): number;
  sim_crc_errors(): number;
  sim_framing_errors(): number;
  sim_events_dropped(): number;
}

export const OHM_OPEN = 0xffff;
/** firmware-host/core/modality.h MOD_DEFECT_*: defect injection, compiled into this WASM build only. */
export const CORE_DEFECT = { noRunaway: 0x0001, dropDue: (o: number) => 0x0100 << o } as const;

/** Sensor readings in the core's units: Ω (0xFFFF open) and 0.1 °C (unreadable: very cold, as an open thermistor reads). */
function ohmOf(v: number): number {
  return Number.isFinite(v) ? Math.max(0, Math.min(OHM_OPEN, Math.round(v))) : OHM_OPEN;
}
function cx10Of(v: number): number {
  return Number.isNaN(v) ? -0x8000 : Math.max(-0x8000, Math.min(0x7fff, Math.round(v)));
}

let coreModule: WebAssembly.Module | null = null;
/** The compiled core, loaded once per process (each board gets its own instance and memory). */
function coreModuleOnce(): WebAssembly.Module {
  coreModule ??= new WebAssembly.Module(readFileSync(BOARD_CORE_WASM));
  return coreModule;
}

export class BoardCore {
  /** Called with every frame the core transmits (whole frames: <len><seq><payload><crc16><sync>). */
  onTx: (frame: Uint8Array) => void = () => undefined;
  /** Called after the core has run up to the present (an I/O layer pushes the outputs to its pins here). */
  onAdvance: () => void = () => undefined;

  private readonly c: CoreExports;
  private readonly bootOffsetMs: number;
  private readonly rate: number;
  private readonly rxView: Uint8Array;
  private readonly rxCap = 256;
  private inputs: CoreInputs;
  private running = true;
  private wakeTimer: TimerId | null = null;
  private wakeAt = -1;

  constructor(
    private readonly clock: Clock,
    opts: BoardCoreOptions,
  ) {
    this.bootOffsetMs = opts.bootOffsetMs ?? 0;
    this.rate = 1 + (opts.driftPpm ?? 0) * 1e-6;
    this.inputs = opts.inputs;
    const instance = new WebAssembly.Instance(coreModuleOnce(), {
      env: { tx: (ptr: number, n: number) => this.onTx(new Uint8Array(this.c.memory.buffer, ptr, n).slice()) },
    });
    this.c = instance.exports as unknown as CoreExports;
    this.rxView = new Uint8Array(this.c.memory.buffer, this.c.sim_rx_buffer(), this.rxCap);
    this.c.sim_init(this.boardMs() >>> 0);
    const has = opts.has ?? {};
    this.c.sim_configure(has.tensChannels ?? 2, has.ultrasound === false ? 0 : 1, has.pad === false ? 0 : 1, Math.round((has.maxTensMa ?? 0xffff) * 10));
    this.writeInputs();
    this.schedule();
  }

  // ---------------------------------------------------------------- clock

  /** The board's own clock: what its millisecond counter reads now (not wrapped). */
  boardMs(): number {
    return Math.floor(this.clock.now() * this.rate + this.bootOffsetMs);
  }

  /** Clock time at which the board's counter reaches boardMs. */
  private clockTimeOf(boardMs: number): number {
    if (this.rate === 1) return boardMs - this.bootOffsetMs;
    let t = (boardMs - this.bootOffsetMs) / this.rate;
    while (Math.floor(t * this.rate + this.bootOffsetMs) < boardMs) t += 1e-6;
    return t;
  }

  /** Run the core's ticks up to the present board time. */
  catchUp(): void {
    if (!this.running) return;
    this.c.sim_advance(this.boardMs() >>> 0);
    this.onAdvance();
  }

  /** Wake when the core next has something to do on its own. */
  private schedule(): void {
    if (!this.running) return;
    // The core counts u32 ms (it wraps); it is caught up, so its now is boardMs() and the wake that far ahead.
    this.wakeTo(this.boardMs() + ((this.c.sim_next_wake() - this.c.sim_now()) >>> 0), false);
  }

  private wakeTo(boardWake: number, onlyEarlier: boolean): void {
    if (this.wakeTimer !== null) {
      if (boardWake === this.wakeAt || (onlyEarlier && boardWake > this.wakeAt)) return;
      this.clock.clearTimeout(this.wakeTimer);
    }
    this.wakeAt = boardWake;
    this.wakeTimer = this.clock.setTimeout(
      () => {
        this.wakeTimer = null;
        this.catchUp();
        this.schedule();
      },
      Math.max(0, this.clockTimeOf(boardWake) - this.clock.now()),
    );
  }

  // ---------------------------------------------------------------- the wire and the sensors

  /** Bytes from the host, at the present board time. */
  receive(bytes: Uint8Array): void {
    if (!this.running) return;
    this.catchUp();
    for (let i = 0; i < bytes.length; i += this.rxCap) {
      const chunk = bytes.subarray(i, i + this.rxCap);
      this.rxView.set(chunk);
      this.c.sim_rx(chunk.length);
    }
    this.onAdvance();
    this.schedule();
  }

  /**
   * New sensor readings, now: the core's tick for the present board millisecond sees them,
   * as the firmware's tick sees the ADC sampled just before it. If that tick has already
   * run (another event in the same millisecond), they count from the next one.
   */
  sense(inputs: Partial<CoreInputs>): void {
    this.inputs = { ...this.inputs, ...inputs };
    if (!this.running) return;
    const nowB = this.boardMs();
    const behind = (nowB - this.c.sim_now()) >>> 0;
    if (behind > 0) this.c.sim_advance((nowB - 1) >>> 0);
    this.writeInputs();
    if (behind > 0) {
      this.c.sim_advance(nowB >>> 0);
      this.onAdvance();
      this.schedule();
    } else {
      this.wakeTo(nowB + 1, true);
    }
  }

  /** The sensor readings the core has now. */
  get sensed(): Readonly<CoreInputs> {
    return this.inputs;
  }

  private writeInputs(): void {
    const i = this.inputs;
    this.c.sim_set_inputs(cx10Of(i.padCx10), cx10Of(i.headCx10), ohmOf(i.tensOhm[0]), ohmOf(i.tensOhm[1]), i.coupled ? 1 : 0, i.stop ? 1 : 0);
  }

  // ---------------------------------------------------------------- what the core drives (call catchUp() first for the present)

  /** An output's value in wire units (0.1 mA, 0.01 W/cm², pad target 0.1 °C or 0). */
  output(o: number): number {
    return this.c.sim_output(o);
  }

  heaterPct(): number {
    return this.c.sim_heater_pct();
  }

  coolerPct(): number {
    return this.c.sim_cooler_pct();
  }

  /** Latched faults, bit = code − 1, board-wide and per output. */
  faultBits(): number {
    return this.c.sim_faults();
  }

  /** Board-wide latched faults only. */
  boardFaultBits(): number {
    return this.c.sim_board_faults();
  }

  get session(): boolean {
    return this.c.sim_session() === 1;
  }

  /** Delivered meter of an output, kept per tick: ms above zero, sum of value·ms (wire units), peak. */
  meter(o: number): { onMs: number; valueMs: number; peak: number } {
    return { onMs: this.c.sim_meter_on_ms(o), valueMs: this.c.sim_meter_value_ms(o), peak: this.c.sim_meter_peak(o) };
  }

  counters(): { framesIn: number; crcErrors: number; framingErrors: number; eventsDropped: number } {
    return {
      framesIn: this.c.sim_frames_in(),
      crcErrors: this.c.sim_crc_errors(),
      framingErrors: this.c.sim_framing_errors(),
      eventsDropped: this.c.sim_events_dropped(),
    };
  }

  /** Defect injection (tests): a core that breaks its own rules. */
  setDefects(mask: number): void {
    this.catchUp();
    this.c.sim_set_defects(mask);
  }

  /** Stop ticking (power off, or the driver closed). */
  stop(): void {
    this.running = false;
    if (this.wakeTimer !== null) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
  }
}
