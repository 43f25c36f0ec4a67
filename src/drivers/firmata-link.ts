/**
 * The Firmata bench board's insides (firmata-board.ts is its face): the board core on
 * the host, a SerialBoard speaking the wire protocol to it in process, and the Arduino's
 * pins as the core's I/O:
 *   - inputs: the stop pin, the electrode sense pins and the pad thermistor, as Firmata
 *     reports them, become the core's sensor readings (no head sensor: 25 °C; no coupling
 *     sense: coupled);
 *   - outputs: after every step of the core, and every rampStepMs, the core's outputs go
 *     to the pins: TENS and ultrasound intensity as PWM (scaled by the pin map's maxima),
 *     the ultrasound enable pin, and the heater and cooler pins time-proportioned over a
 *     1 s window from the core's pad loop.
 * Only what changed is written. A link gone silent (no Firmata report for silenceMs)
 * writes every pin to 0 (best effort) and reports linkLost.
 */
import type { Clock, TimerId } from '../clock.js';
import type { BoardEvent, BoardInfo, LinkCounters, OutputName } from './board.js';
import { BoardCore, OHM_OPEN } from './core/board-core.js';
import { electrodeOhm, PWM_MAX, thermistorC, type FirmataPinMap } from './firmata-pins.js';
import { SerialBoard } from './serial-board.js';
import type { Transport } from './transport.js';
import { BOARD_LIMITS, OUTPUT } from './wire/spec.js';

/** The byte stream under firmata-io: serialport's SerialPort, or an in-process stream. */
export interface FirmataPort {
  readonly isOpen: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: johnny-five emits events of any shape
  on(event: string, listener: (...args: any[]) => void): unknown;
  write(data: Buffer | Uint8Array | number[], callback?: (err?: Error | null) => void): unknown;
  drain(callback: () => void): unknown;
  close(callback: (err?: Error | null) => void): unknown;
}

export interface FirmataIo {
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

export interface FirmataLinkOptions {
  path: string;
  trace?: ((dir: 'out' | 'in', text: string, hostMs: number) => void) | undefined;
  leaseMs?: number | undefined;
  silenceMs?: number | undefined;
  rampStepMs?: number | undefined;
  scheduleMarginMs?: number | undefined;
}

/** Contact assumed where the pin map has no electrode sense. */
const CONTACT_OHM = 1200;
const NO_SENSOR_CX10 = 250;
/** The heater and cooler pins are time-proportioned over this window. */
const PAD_WINDOW_MS = 1000;

/** Bytes between the host and the in-process core as clock events (never from inside the sender's call). */
function inProcessLink(clock: Clock, core: BoardCore): Transport {
  let sink: ((b: Uint8Array) => void) | undefined;
  let open = true;
  core.onTx = (frame) => {
    clock.setTimeout(() => {
      if (open) sink?.(frame);
    }, 0);
  };
  return {
    write: (bytes) => {
      const b = bytes.slice();
      clock.setTimeout(() => {
        if (open) core.receive(b);
      }, 0);
    },
    onData: (cb) => {
      sink = cb;
    },
    onClose: () => undefined,
    close: async () => {
      open = false;
    },
  };
}

export class FirmataLink {
  readonly info: BoardInfo;
  private readonly listeners = new Set<(e: BoardEvent) => void>();
  private readonly duty = new Map<number, number>();
  private readonly level = new Map<number, number>();
  private readonly c: LinkCounters = { framesSent: 0, framesReceived: 0, retransmits: 0, crcErrors: 0, framingErrors: 0, bytesSent: 0, bytesReceived: 0 };
  private ioTimer: TimerId | null = null;
  private silenceTimer: TimerId | null = null;
  private lastRxMs: number;
  private lost = false;
  private closed = false;

  private constructor(
    private readonly clock: Clock,
    private readonly io: FirmataIo,
    private readonly port: FirmataPort,
    readonly pins: FirmataPinMap,
    private readonly opts: FirmataLinkOptions,
    private readonly core: BoardCore,
    readonly host: SerialBoard,
  ) {
    const fw = io.firmware;
    this.info = {
      ...host.info, // channels, head, pad and the TENS limit as the core reports them
      firmware: `${fw?.name ?? 'Firmata'} ${fw?.version ? `${fw.version.major}.${fw.version.minor}` : ''}`.trim(),
      kind: 'firmata',
      maxUsWPerCm2: Math.min(host.info.maxUsWPerCm2, pins.ultrasound?.maxWPerCm2 ?? BOARD_LIMITS.maxUsWPerCm2),
      timing: 'host',
    };
    this.lastRxMs = clock.now();
  }

  static async start(clock: Clock, io: FirmataIo, port: FirmataPort, pins: FirmataPinMap, opts: FirmataLinkOptions): Promise<FirmataLink> {
    const core = new BoardCore(clock, {
      inputs: { padCx10: NO_SENSOR_CX10, headCx10: NO_SENSOR_CX10, tensOhm: [CONTACT_OHM, CONTACT_OHM], coupled: true, stop: false },
      // the core knows what the pins carry: missing outputs answer BAD_OUTPUT, TENS no more than the wiring's maximum
      has: {
        tensChannels: pins.tens.length,
        ultrasound: pins.ultrasound !== undefined,
        pad: pins.pad !== undefined,
        maxTensMa: Math.min(...pins.tens.map((t) => t.maxMa)),
      },
    });
    const host = await SerialBoard.connect(clock, inProcessLink(clock, core), {
      leaseMs: opts.leaseMs ?? 400,
      scheduleMarginMs: opts.scheduleMarginMs ?? 50,
      label: `the board core for firmata:${opts.path}`,
    });
    const link = new FirmataLink(clock, io, port, pins, opts, core, host);
    link.setUp();
    return link;
  }

  private setUp(): void {
    const { io, pins } = this;
    const M = io.MODES;
    this.port.on('data', (d: Buffer) => {
      this.c.bytesReceived += d.length;
      this.c.framesReceived++;
      this.lastRxMs = this.clock.now();
    });
    this.port.on('close', () => this.linkLost(`the port ${this.opts.path} closed`));
    for (const t of pins.tens) {
      io.pinMode(t.pin, M.PWM);
      this.pwm(t.pin, 0, true);
    }
    if (pins.ultrasound) {
      io.pinMode(pins.ultrasound.enablePin, M.OUTPUT);
      this.digital(pins.ultrasound.enablePin, 0, true);
      io.pinMode(pins.ultrasound.intensityPin, M.PWM);
      this.pwm(pins.ultrasound.intensityPin, 0, true);
    }
    if (pins.pad) {
      io.pinMode(pins.pad.heaterPin, M.OUTPUT);
      this.digital(pins.pad.heaterPin, 0, true);
      if (pins.pad.coolerPin !== undefined) {
        io.pinMode(pins.pad.coolerPin, M.OUTPUT);
        this.digital(pins.pad.coolerPin, 0, true);
      }
    }
    // Inputs become the core's sensor readings.
    const s = pins.stop;
    io.pinMode(s.pin, s.pullup ? M.PULLUP : M.INPUT);
    io.digitalRead(s.pin, (v) => this.sense('stop input', { stop: v === (s.activeWhen === 'high' ? 1 : 0) }));
    pins.electrodeSense.forEach((e, i) => {
      const set = (ohm: number | null) => {
        const tensOhm: [number, number] = [...this.core.sensed.tensOhm];
        tensOhm[i] = ohm ?? OHM_OPEN;
        this.sense(`electrode ${i + 1}`, { tensOhm });
      };
      if (e.kind === 'digital') {
        io.pinMode(e.pin, e.pullup ? M.PULLUP : M.INPUT);
        io.digitalRead(e.pin, (v) => set(v === (e.leadOffWhen === 'high' ? 1 : 0) ? null : CONTACT_OHM));
      } else {
        io.analogRead(e.analogPin, (raw) => set(electrodeOhm(raw, e.refOhm)));
      }
    });
    if (pins.pad) {
      const th = pins.pad.thermistor;
      io.analogRead(th.analogPin, (raw) => this.sense(null, { padCx10: thermistorC(raw, th) * 10 }));
    } else {
      io.analogRead(0, () => {}); // keep one analog report running: the board's heartbeat for the silence check
    }
    this.core.onAdvance = () => this.push();
    this.ioTick();
    this.silenceWatch();
  }

  /** A sensor reading from the Arduino: the core sees it now (and the pins follow at once). */
  private sense(what: string | null, change: Parameters<BoardCore['sense']>[0]): void {
    if (this.closed) return;
    if (what !== null) {
      const before = JSON.stringify(this.core.sensed);
      this.core.sense(change);
      if (JSON.stringify(this.core.sensed) !== before) this.opts.trace?.('in', `${what}: ${JSON.stringify(change)}`, this.clock.now());
    } else {
      this.core.sense(change);
    }
  }

  // ---------------------------------------------------------------- outputs to the pins

  private push(): void {
    if (this.closed || this.lost) return;
    const { core, pins } = this;
    pins.tens.forEach((t, i) => {
      this.pwm(t.pin, Math.round((Math.min(core.output(i) / 10, t.maxMa) / t.maxMa) * PWM_MAX));
    });
    if (pins.ultrasound) {
      const w = core.output(OUTPUT.ultrasound) / 100;
      const u = pins.ultrasound;
      this.pwm(u.intensityPin, Math.round((Math.min(w, u.maxWPerCm2) / u.maxWPerCm2) * PWM_MAX));
      this.digital(u.enablePin, w > 0 ? 1 : 0);
    }
    if (pins.pad) {
      const phase = core.boardMs() % PAD_WINDOW_MS;
      this.digital(pins.pad.heaterPin, phase < (core.heaterPct() * PAD_WINDOW_MS) / 100 ? 1 : 0);
      if (pins.pad.coolerPin !== undefined) this.digital(pins.pad.coolerPin, phase < (core.coolerPct() * PAD_WINDOW_MS) / 100 ? 1 : 0);
    }
  }

  private ioTick(): void {
    this.ioTimer = this.clock.setTimeout(() => {
      this.ioTimer = null;
      if (this.closed) return;
      this.core.catchUp(); // runs push()
      this.ioTick();
    }, this.opts.rampStepMs ?? 20);
  }

  private pwm(pin: number, duty: number, force = false): void {
    if (this.closed || (!force && this.duty.get(pin) === duty)) return;
    this.duty.set(pin, duty);
    this.c.framesSent++;
    this.c.bytesSent += pin > 15 ? 6 : 3;
    this.opts.trace?.('out', `pwm ${pin} = ${duty}`, this.clock.now());
    try {
      this.io.pwmWrite(pin, duty);
    } catch {
      /* port gone: the silence check reports it */
    }
  }

  private digital(pin: number, v: 0 | 1, force = false): void {
    if (this.closed || (!force && this.level.get(pin) === v)) return;
    this.level.set(pin, v);
    this.c.framesSent++;
    this.c.bytesSent += 3;
    this.opts.trace?.('out', `digital ${pin} = ${v}`, this.clock.now());
    try {
      this.io.digitalWrite(pin, v);
    } catch {
      /* as above */
    }
  }

  private allPinsOff(): void {
    const { pins } = this;
    for (const t of pins.tens) this.pwm(t.pin, 0, true);
    if (pins.ultrasound) {
      this.pwm(pins.ultrasound.intensityPin, 0, true);
      this.digital(pins.ultrasound.enablePin, 0, true);
    }
    if (pins.pad) {
      this.digital(pins.pad.heaterPin, 0, true);
      if (pins.pad.coolerPin !== undefined) this.digital(pins.pad.coolerPin, 0, true);
    }
  }

  // ---------------------------------------------------------------- the host side

  /** The ultrasound wiring may carry less than 3 W/cm² (the core knows the TENS maximum itself): a value beyond it is refused here. */
  beyondWiring(output: OutputName, value: number, command: string): boolean {
    const max = output === 'ultrasound' ? this.info.maxUsWPerCm2 : Infinity;
    if (value <= max + 1e-9) return false;
    this.emitLater({ type: 'refused', output, status: 'OUT_OF_LIMIT', boardMs: this.host.boardNow(), command });
    return true;
  }

  subscribe(listener: (e: BoardEvent) => void): () => void {
    this.listeners.add(listener);
    const off = this.host.subscribe(listener);
    return () => {
      this.listeners.delete(listener);
      off();
    };
  }

  counters(): LinkCounters {
    return { ...this.c };
  }

  private emitLater(e: BoardEvent): void {
    this.clock.setTimeout(() => {
      for (const l of [...this.listeners]) l(e);
    }, 0);
  }

  private silenceWatch(): void {
    const silenceMs = this.opts.silenceMs ?? 1500;
    this.silenceTimer = this.clock.setTimeout(
      () => {
        this.silenceTimer = null;
        if (this.closed) return;
        if (!this.lost && this.clock.now() - this.lastRxMs > silenceMs) {
          this.linkLost(`no report from the Firmata board on ${this.opts.path} for ${silenceMs} ms`);
        }
        this.silenceWatch();
      },
      Math.max(10, Math.floor(silenceMs / 6)),
    );
  }

  private linkLost(reason: string): void {
    if (this.lost || this.closed) return;
    this.allPinsOff(); // best effort, if the line still carries anything
    this.lost = true;
    this.emitLater({ type: 'linkLost', reason });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.lost) this.allPinsOff();
    this.closed = true;
    for (const t of [this.ioTimer, this.silenceTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.ioTimer = this.silenceTimer = null;
    await this.host.close();
    this.core.stop();
    this.io.removeAllListeners();
    // A write still in flight when the port closes fails with EBADF; after close that is not news.
    this.io.on('error', () => undefined);
    this.port.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.drain(() => this.port.close(() => resolve()));
    });
  }
}
