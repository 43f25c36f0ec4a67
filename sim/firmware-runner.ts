/**
 * The real board firmware (firmware-host/) on simavr, served on a pseudo-terminal.
 *
 *   toolchainAvailable()   avr-gcc, avr-libc and libsimavr are installed
 *   buildFirmware()        make -C firmware-host (the ELF/HEX and the simavr runner), once
 *   startFirmwareBoard()   boots the ELF; returns the pty path and a control channel
 *
 * The control channel drives the board's inputs the way the hardware would see them
 * (raw ADC readings, the stop pin) and reads its outputs (PWM registers, pin
 * activity): see firmware-host/README.md for the pin map and the command set.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packagePath } from '../src/util/package-root.js';

export const FIRMWARE_DIR = packagePath('firmware-host');
export const FIRMWARE_ELF = join(FIRMWARE_DIR, 'build', 'modality.elf');
export const FIRMWARE_HEX = join(FIRMWARE_DIR, 'build', 'modality.hex');
export const SIMAVR_RUNNER = join(FIRMWARE_DIR, 'build', 'modality-simavr');

/** The Debian packages the firmware build and its simulation need. */
export const FIRMWARE_APT_PACKAGES = ['gcc-avr', 'avr-libc', 'simavr', 'libsimavr-dev', 'libsimavrparts1', 'libelf-dev'];

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when the AVR compiler, avr-libc and the simavr development files are all present. */
export function toolchainAvailable(): boolean {
  return (
    has('avr-gcc', ['--version']) &&
    existsSync('/usr/lib/avr/include/avr/io.h') &&
    existsSync('/usr/include/simavr/sim_avr.h') &&
    existsSync('/usr/include/simavr/parts/uart_pty.h') &&
    has('make', ['--version']) &&
    has('gcc', ['--version'])
  );
}

let building: Promise<{ elf: string; hex: string }> | undefined;

/** Build the firmware and the simavr runner (make decides what is stale). Runs once per process. */
export function buildFirmware(): Promise<{ elf: string; hex: string }> {
  building ??= new Promise((resolve, reject) => {
    const child = spawn('make', ['-s', '-C', FIRMWARE_DIR, 'firmware', 'simavr'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ elf: FIRMWARE_ELF, hex: FIRMWARE_HEX });
      else {
        building = undefined;
        reject(new Error(`firmware build failed (make exit ${code}):\n${out}`));
      }
    });
  });
  return building;
}

export interface FirmwareBoardOptions {
  /** Simulated seconds per wall second; 0 runs unpaced. Default 1 (the host sees a real-time board). */
  speed?: number;
  /** ELF to boot; default the freshly built firmware. */
  elf?: string;
  /** Boot timeout, ms. */
  timeoutMs?: number;
}

export interface FirmwareBoard {
  /** The pseudo-terminal carrying UART0 (115200 8N1). */
  path: string;
  /** Send one control line (`stop 1`, `adc 0 512`, `pins?`, `ms?`) and resolve with its answer line. */
  control(cmd: string): Promise<string>;
  /** Stop the simulation. */
  stop(): Promise<void>;
  /** The runner process (for diagnostics). */
  process: ChildProcess;
}

/** Boot the firmware on simavr; resolves once its UART is on a pty. */
export async function startFirmwareBoard(opts: FirmwareBoardOptions = {}): Promise<FirmwareBoard> {
  const elf = opts.elf ?? (await buildFirmware()).elf;
  const child = spawn(SIMAVR_RUNNER, ['--speed', String(opts.speed ?? 1), '--quiet', elf], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  let path: string | undefined;
  let ready: () => void = () => {};
  let failed: (e: Error) => void = () => {};
  const booted = new Promise<void>((res, rej) => {
    ready = res;
    failed = rej;
  });
  let exited = false;

  lines.on('line', (line) => {
    if (path === undefined || !line.length) {
      if (/^\/dev\//.test(line)) path = line.trim();
      else if (line === 'ready' && path) ready();
      return;
    }
    if (line === 'ready') return ready();
    waiting.shift()?.(line);
  });
  child.on('exit', (code) => {
    exited = true;
    failed(new Error(`simavr runner exited (${code}) before it was ready:\n${stderr}`));
    for (const w of waiting.splice(0)) w(`error runner exited (${code})`);
  });

  const timer = setTimeout(() => failed(new Error(`simavr runner did not start within ${opts.timeoutMs ?? 10_000} ms:\n${stderr}`)), opts.timeoutMs ?? 10_000);
  try {
    await booted;
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }

  return {
    path: path!,
    process: child,
    control(cmd: string): Promise<string> {
      if (exited) return Promise.reject(new Error(`simavr runner has exited:\n${stderr}`));
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${cmd.trim()}\n`);
      });
    },
    async stop(): Promise<void> {
      if (exited) return;
      const gone = new Promise<void>((res) => child.once('exit', () => res()));
      child.stdin!.end('quit\n');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(t);
    },
  };
}

// ---- the board's sensing circuits, the same models as firmware-host/core/sensors.c ----

/** ADC reading of a pad/head thermistor at `c` °C (10 kΩ NTC, B 3950, 10 kΩ pull-up). */
export function thermistorAdc(c: number): number {
  const r = 10_000 * Math.exp(3950 * (1 / (c + 273.15) - 1 / 298.15));
  return Math.round((1023 * r) / (r + 10_000));
}

/** ADC reading of the electrode sense for an impedance (10 kΩ reference); Infinity = open. */
export function electrodeAdc(ohm: number): number {
  if (!Number.isFinite(ohm)) return 1023;
  return Math.min(1023, Math.round((1023 * ohm) / (ohm + 10_000)));
}

/** ADC channels (firmware-host/avr/hal.h). */
export const ADC = { padNtc: 0, tens1Z: 1, tens2Z: 2, coupling: 3, headNtc: 4 } as const;

export interface PinState {
  ms: number;
  /** TENS amplitude PWM (0..255 = 0..80 mA). */
  t1amp: number;
  t2amp: number;
  /** ultrasound intensity PWM (0..249 = 0..3 W/cm²). */
  us: number;
  /** measured duty over the last 100 ms, %: ultrasound enable, heater, cooler. */
  usen: number;
  heat: number;
  cool: number;
  led: number;
  /** TENS pulse trains: measured rate, last pulse width (µs), pulses so far. */
  t1hz: number;
  t1us: number;
  t1n: number;
  t2hz: number;
  t2us: number;
  t2n: number;
}

export function parsePins(line: string): PinState {
  if (!line.startsWith('pins ')) throw new Error(`not a pins line: ${line}`);
  const out: Record<string, number> = {};
  for (const kv of line.slice(5).trim().split(/\s+/)) {
    const [k, v] = kv.split('=');
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out as unknown as PinState;
}

/** TENS amplitude in mA from its PWM value (resolution 80/255 mA). */
export const tensMaFromPwm = (pwm: number): number => (pwm * 80) / 255;
/** Ultrasound intensity in W/cm² from its PWM value (resolution 3/249 W/cm²). */
export const usFromPwm = (pwm: number): number => (pwm * 3) / 249;

/** simavr CPU cycles per microsecond (16 MHz) and per board tick (1 ms). */
export const CYCLES_PER_US = 16;
export const CYCLES_PER_TICK = 16_000;

export interface EdgeReport {
  /** Cycle count when the runner answered. */
  now: number;
  /** Board tick k (boardMs = k) happened at cycle epoch + k · CYCLES_PER_TICK. */
  epoch: number;
  /** Cycle at which the last byte from the host entered the UART's input (the pty feeds bytes in bursts). */
  lastRx: number;
  /** Cycle at which the firmware's receive interrupt last started: that byte was in. */
  lastRxIsr: number;
  /** Changes since the previous `edges?` of usen, heat, cool, led and the stop input, oldest first. */
  /** (`edges? pulses`: a rising edge carries its amplitude PWM compare value, 0..255, as amp.) */
  edges: { pin: string; level: 0 | 1; cycle: number; amp?: number }[];
}

/** Parse the answer to `edges?` (firmware-host/README.md). */
/** ATmega328P interrupt vector names, by number. */
export const VECTOR_NAMES: Record<number, string> = {
  1: 'INT0',
  2: 'INT1',
  3: 'PCINT0',
  4: 'PCINT1',
  5: 'PCINT2 (stop input)',
  6: 'WDT',
  7: 'TIMER2_COMPA',
  8: 'TIMER2_COMPB',
  9: 'TIMER2_OVF (tick)',
  10: 'TIMER1_CAPT',
  11: 'TIMER1_COMPA (TENS 1 pulses)',
  12: 'TIMER1_COMPB (TENS 2 pulses)',
  13: 'TIMER1_OVF',
  14: 'TIMER0_COMPA',
  15: 'TIMER0_COMPB',
  16: 'TIMER0_OVF',
  17: 'SPI',
  18: 'USART_RX',
  19: 'USART_UDRE',
  20: 'USART_TX',
  21: 'ADC',
};

/** The runner's `isr?` answer: the longest run of each interrupt vector, in cycles. */
export function parseIsr(line: string): Map<number, number> {
  if (!line.startsWith('isr')) throw new Error(`not an isr line: ${line}`);
  const out = new Map<number, number>();
  for (const m of line.matchAll(/v(\d+)=(\d+)/g)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

export function parseEdges(line: string): EdgeReport {
  if (!line.startsWith('edges ')) throw new Error(`not an edges line: ${line}`);
  const out: EdgeReport = { now: 0, epoch: 0, lastRx: 0, lastRxIsr: 0, edges: [] };
  for (const tok of line.slice(6).trim().split(/\s+/)) {
    const kv = /^(now|epoch|lastrx|lastrxisr)=(\d+)$/.exec(tok);
    if (kv) {
      const v = Number(kv[2]);
      if (kv[1] === 'now') out.now = v;
      else if (kv[1] === 'epoch') out.epoch = v;
      else if (kv[1] === 'lastrxisr') out.lastRxIsr = v;
      else out.lastRx = v;
      continue;
    }
    const e = /^([a-z0-9]+)([+-])(\d+)(?::(\d+))?$/.exec(tok);
    if (e) out.edges.push({ pin: e[1]!, level: e[2] === '+' ? 1 : 0, cycle: Number(e[3]), ...(e[4] !== undefined ? { amp: Number(e[4]) } : {}) });
  }
  return out;
}
