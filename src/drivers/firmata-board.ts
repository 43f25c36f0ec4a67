/**
 * The bench driver: a stock Arduino running StandardFirmata, driven through
 * johnny-five and firmata-io over serialport. StandardFirmata has no scheduler,
 * no lease and no limits, so the board's rules run on the HOST: the firmware's
 * own core (src/drivers/core/board-core.ts, the same C as the AVR firmware and
 * the simulated board, as WebAssembly) times set-points, ramps and the TENS slew,
 * enforces the limits, watches the stop input, the electrodes and the pad
 * thermistor, latches faults and runs the pad loop. The host side speaks the wire
 * protocol to it in process through the same SerialBoard as a real modality board
 * (firmata-link.ts), and the Arduino is the core's I/O: its pins in, PWM and
 * digital outputs out.
 *
 * That is for the bench only (FIRMATA_BENCH_WARNING): if this process dies or
 * stalls, the Arduino keeps its pins where they were. The core's lease measures
 * this process's own heartbeats, so it catches a stalled host (HOST_TIMEOUT on
 * resume), not a dead one.
 */
import { existsSync } from 'node:fs';
import five from 'johnny-five';
import firmataIo from 'firmata-io';
import { SerialPort } from 'serialport';
import type { Clock } from '../clock.js';
import { listSerialPorts } from './serial-transport.js';
import {
  ConnectError,
  type Board,
  type BoardEvent,
  type BoardInfo,
  type LinkCounters,
  type OutputName,
  type TensConfig,
  type UltrasoundConfig,
} from './board.js';
import { loadFirmataPins, type FirmataPinMap } from './firmata-pins.js';
import { FirmataLink, type FirmataIo, type FirmataPort } from './firmata-link.js';

export type { FirmataPort } from './firmata-link.js';
import type { FaultName } from './wire/spec.js';

export const FIRMATA_BENCH_WARNING = 'Firmata boards are for the bench only: the board rules run on the host, so a dead host leaves the pins where they were';

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
  /** The core's lease against this process's heartbeats: a host stall longer than this latches HOST_TIMEOUT (default 400 ms). */
  leaseMs?: number | undefined;
  /** No report from the board this long = link lost (default 1500 ms). */
  silenceMs?: number | undefined;
  /** Firmata analog sampling interval (default 50 ms, Firmata minimum 10). */
  samplingIntervalMs?: number | undefined;
  /** Pin update period: ramps reach the PWM pins in steps this long (default 20 ms). */
  rampStepMs?: number | undefined;
  /** Lead time the engine adds to boardNow (default 50 ms: no line or retransmit to cover). */
  scheduleMarginMs?: number | undefined;
  /** Lists serial ports for the "no such port" message (default: serialport's list, or /dev when udevadm is missing). */
  listPorts?: (() => Promise<string[]>) | undefined;
}

/** --trace for Firmata: every chunk of bytes read and every write, before firmata-io sees or sends it. */
function tapPort(port: FirmataPort, clock: Clock, trace: (dir: 'out' | 'in', bytes: Uint8Array, hostMs: number) => void): void {
  port.on('data', (d: Buffer) => trace('in', new Uint8Array(d), clock.now()));
  const write = port.write.bind(port);
  (port as { write: FirmataPort['write'] }).write = (data, cb) => {
    trace('out', Uint8Array.from(data), clock.now());
    return write(data, cb);
  };
}

/** The Firmata board cannot be used: no port, no StandardFirmata answer, a pin map that does not fit. */
export class FirmataConnectError extends ConnectError {}

// firmata-io exports a function that binds a default transport, with the class as a property.
const Firmata = (firmataIo as unknown as { Firmata: new (port: unknown, opts: object, cb: (err?: unknown) => void) => FirmataIo }).Firmata;

function describePorts(ports: string[]): string {
  return ports.length === 0 ? 'no serial ports were found' : `serial ports present: ${ports.join(', ')}`;
}

export class FirmataBoard implements Board {
  readonly info: BoardInfo;
  readonly scheduleMarginMs: number;

  private constructor(private readonly link: FirmataLink) {
    this.info = link.info;
    this.scheduleMarginMs = link.host.scheduleMarginMs;
  }

  get pins(): FirmataPinMap {
    return this.link.pins;
  }

  /**
   * Open the port, wait for StandardFirmata's handshake (version, firmware,
   * capabilities, analog mapping) through johnny-five, check the pin map
   * against the board's capabilities, start the board core on the host and set
   * the pins up with every output at 0.
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
      const timer = clock.setTimeout(
        () =>
          fail(
            `no Firmata answer from ${opts.path} within ${timeoutMs} ms: check that the board runs StandardFirmata (57600 baud), that the cable carries data and that no other program holds the port`,
          ),
        timeoutMs,
      );
      try {
        port = opts.port ?? new SerialPort({ path: opts.path, baudRate: 57600 });
        if (opts.traceBytes) tapPort(port, clock, opts.traceBytes);
        port.on('error', (e: Error) => fail(`cannot open ${opts.path}: ${e.message}`));
        io = new Firmata(
          port,
          {
            // Ask for the version soon: a pty or an already-running board will not announce itself.
            reportVersionTimeout: Math.min(200, Math.floor(timeoutMs / 4)),
            samplingInterval: opts.samplingIntervalMs ?? 50,
          },
          (err?: unknown) => {
            if (err) fail(`cannot open ${opts.path}: ${(err as Error).message ?? String(err)}`);
          },
        );
        j5 = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs }) as unknown as typeof j5;
        j5!.on('error', (e: unknown) => fail(`johnny-five: ${(e as Error)?.message ?? String(e)}`));
        j5!.on('ready', () => {
          if (settled) return;
          try {
            FirmataBoard.checkCapabilities(io!, pins);
          } catch (e) {
            fail(e instanceof Error ? e.message : String(e));
            return;
          }
          if (j5?.timer) clearTimeout(j5.timer);
          FirmataBoard.open(clock, io!, port!, pins, opts).then(
            (board) => {
              if (settled) {
                void board.close();
                return;
              }
              settled = true;
              clock.clearTimeout(timer);
              resolve(board);
            },
            (e: unknown) => fail(`the board core did not start: ${e instanceof Error ? e.message : String(e)}`),
          );
        });
      } catch (e) {
        fail(`cannot use ${opts.path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  /** The core on the host, the in-process link to it, and the Arduino's pins as its I/O. */
  private static async open(clock: Clock, io: FirmataIo, port: FirmataPort, pins: FirmataPinMap, opts: FirmataConnectOptions): Promise<FirmataBoard> {
    return new FirmataBoard(await FirmataLink.start(clock, io, port, pins, opts));
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
    pins.tens.forEach((t, i) => {
      need(t.pin, M.PWM, `tens[${i}]`, 'PWM');
    });
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

  // ---------------------------------------------------------------- Board: the host side, over the in-process link

  boardNow(): number {
    return this.link.host.boardNow();
  }

  configureTens(output: 'tens1' | 'tens2', cfg: TensConfig): void {
    this.link.host.configureTens(output, cfg);
  }

  configureUltrasound(cfg: UltrasoundConfig): void {
    this.link.host.configureUltrasound(cfg);
  }

  set(output: OutputName, atMs: number, value: number): void {
    if (this.link.beyondWiring(output, value, `SET ${output} ${value}`)) return;
    this.link.host.set(output, atMs, value);
  }

  ramp(output: OutputName, atMs: number, from: number, to: number, durationMs: number): void {
    if (this.link.beyondWiring(output, Math.max(from, to), `RAMP ${output} ${from}→${to}`)) return;
    this.link.host.ramp(output, atMs, from, to, durationMs);
  }

  off(output: OutputName | 'all', atMs: number | null): void {
    this.link.host.off(output, atMs);
  }

  cancel(output: OutputName | 'all'): void {
    this.link.host.cancel(output);
  }

  clear(output: OutputName | 'all'): void {
    this.link.host.clear(output);
  }

  estop(): void {
    this.link.host.estop();
  }

  latchedFaults(): FaultName[] {
    return this.link.host.latchedFaults();
  }

  subscribe(listener: (e: BoardEvent) => void): () => void {
    return this.link.subscribe(listener);
  }

  counters(): LinkCounters {
    return this.link.counters();
  }

  /** Every output to 0 on the wire, then close the port. */
  close(): Promise<void> {
    return this.link.close();
  }
}
