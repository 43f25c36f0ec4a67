/**
 * The abstract board: what the machines see. Values are in clinical units
 * (mA, W/cm², °C); times are board-clock milliseconds (64-bit; a driver whose
 * board's oscillator is off maps them to the host's rate, see serial-board.ts,
 * so durations mean host milliseconds). Commands are
 * fire-and-forget and never block: a refusal comes back as a `refused` event,
 * so the engine stays synchronous on its clock (no promise chains between the
 * engine and an in-process board).
 */
import type { FaultName, StatusName } from './wire/spec.js';

/**
 * Every way a board connection can fail before a session starts (no port, no
 * answer, wrong firmware or protocol, a pin map that does not fit), whatever
 * the driver: callers check `instanceof ConnectError`. The message is one line
 * a technician can act on. A driver that throws it has released the port.
 */
export class ConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** What the board reports of one TENS channel: the amplitude it applies (mA) and the electrodes' impedance (Ω; null: open circuit). */
export interface TensReading {
  value: number;
  electrodeOhm: number | null;
}
/** The ultrasound head: the intensity it applies (W/cm²), whether it is coupled, its temperature (°C). */
export interface UltrasoundReading {
  value: number;
  coupled: boolean;
  tempC: number;
}
/** The thermal pad: its target (°C; null: no target, the pad is off) and its measured temperature (°C). */
export interface PadReading {
  value: number | null;
  tempC: number;
}

/**
 * The board's outputs, by name, with what the board reports of each. Every
 * reading has `value`: what the output applies now, in its clinical unit (the
 * unit of `set`); the rest are the output's own sensors. A new output is one
 * entry here (and in OUTPUT_NAMES), not a new field of Telemetry.
 */
export interface OutputReadings {
  tens1: TensReading;
  tens2: TensReading;
  ultrasound: UltrasoundReading;
  pad: PadReading;
}
export type OutputName = keyof OutputReadings;
/** Any output's reading, as code that handles every output alike sees it. */
export type OutputReading = OutputReadings[OutputName];
export const OUTPUT_NAMES: readonly OutputName[] = ['tens1', 'tens2', 'ultrasound', 'pad'];

export interface BoardInfo {
  protocolVersion: number;
  firmware: string;
  kind: 'simulated' | 'avr' | 'firmata' | 'unknown';
  tensChannels: number;
  hasUltrasound: boolean;
  hasPad: boolean;
  maxTensMa: number;
  maxTensSlewMaPerS: number;
  maxUsWPerCm2: number;
  maxPadC: number;
  minPadC: number;
  leaseMs: number;
  /** RMS current density the board allows a channel configured with the high-density acknowledgement, mA/cm². */
  maxTensDensityAckMaPerCm2: number;
  /** The board's runaway check at target: a pad further than this from its target … */
  runawayHysteresisC: number;
  /** … for longer than this latches THERMAL_RUNAWAY. */
  runawayPeriodMs: number;
  /** 'board': set-points are timed and limits enforced on the board itself. 'host': the host times them (Firmata bench boards). */
  timing: 'board' | 'host';
}

export interface TensConfig {
  rateHz: number;
  pulseWidthUs: number;
  waveform: 'symmetric-biphasic' | 'asymmetric-biphasic';
  electrodeAreaCm2: number;
  highDensityAcknowledged: boolean;
  burst?: { burstsPerS: number; pulsesPerBurst: number } | undefined;
  modulation?: { kind: 'rate' | 'width' | 'amplitude'; minPct: number; periodS: number } | undefined;
}

export interface UltrasoundConfig {
  frequencyMHz: 1 | 3;
  dutyCyclePct: number;
  eraCm2: number;
}

/** Each output's reading (absent: the board did not report that output). */
export type OutputTelemetry = { [O in OutputName]?: OutputReadings[O] };

/** One telemetry sample: each output's reading, keyed by output name, and the board-wide inputs. */
export interface Telemetry {
  boardMs: number;
  outputs: OutputTelemetry;
  stopInput: boolean;
  faults: FaultName[];
}

export type BoardEvent =
  | { type: 'applied'; output: OutputName; boardMs: number; action: 'set' | 'ramp' | 'off'; value: number; durationMs?: number; cause?: FaultName }
  | { type: 'fault'; code: FaultName; output: OutputName | 'all'; boardMs: number }
  | { type: 'faultCleared'; output: OutputName | 'all'; boardMs: number }
  | { type: 'causeGone'; output: OutputName; code: FaultName; boardMs: number }
  | { type: 'padAtTarget'; targetC: number; boardMs: number }
  | { type: 'refused'; output: OutputName | 'all' | null; status: StatusName; boardMs: number; command: string }
  | { type: 'telemetry'; telemetry: Telemetry }
  | { type: 'linkLost'; reason: string };

export interface LinkCounters {
  framesSent: number;
  framesReceived: number;
  retransmits: number;
  crcErrors: number;
  framingErrors: number;
  bytesSent: number;
  bytesReceived: number;
  /** Real serial lines only: the longest event-loop stall of the host during the link (ms). */
  hostStallMaxMs?: number;
  /** Real serial lines only: frames the lease keeper repeated during host stalls. */
  keepaliveRepeats?: number;
}

export interface Board {
  readonly info: BoardInfo;
  /** Lead time the engine adds to board-now when it schedules a change. */
  readonly scheduleMarginMs: number;
  /** Best estimate of the board clock now. */
  boardNow(): number;
  configureTens(output: 'tens1' | 'tens2', cfg: TensConfig): void;
  configureUltrasound(cfg: UltrasoundConfig): void;
  set(output: OutputName, atMs: number, value: number): void;
  ramp(output: OutputName, atMs: number, from: number, to: number, durationMs: number): void;
  /** atMs null: now, dropping the output's queue. */
  off(output: OutputName | 'all', atMs: number | null): void;
  cancel(output: OutputName | 'all'): void;
  clear(output: OutputName | 'all'): void;
  estop(): void;
  /** Faults latched on the board as it last reported (a new session must not start over them). */
  latchedFaults(): FaultName[];
  subscribe(listener: (e: BoardEvent) => void): () => void;
  counters(): LinkCounters;
  /** End the session and release the link (the serial board says BYE first: no HOST_TIMEOUT is latched). */
  close(): Promise<void>;
}
