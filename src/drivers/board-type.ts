/**
 * What the board registry (registry.ts) deals in: which board (`--board`), how
 * to open it, and the board once open. Types only, so the implementations
 * (serial, Firmata, the simulated board in sim/) can implement them without
 * importing the registry that loads them.
 */
import type { Clock } from '../clock.js';
import type { Board } from './board.js';
import type { FaultSpec } from './fault-spec.js';
import type { Message } from './wire/messages.js';

/** `--board sim`, `--board serial:<path>`, `--board firmata:<path>`. */
export type BoardSpec = { kind: 'sim' } | { kind: 'serial'; path: string } | { kind: 'firmata'; path: string };
export type BoardKind = BoardSpec['kind'];

/** Every frame on a modality link, decoded (null: undecodable) with its bytes. */
export type FrameTrace = (dir: 'out' | 'in', msg: Message | null, bytes: Uint8Array, hostMs: number) => void;

export interface BoardOpenOptions {
  /** serial and sim: every frame on the link. */
  trace?: FrameTrace | undefined;
  /** serial: how long to wait for the board's HELLO (default HOST_TIMING.connectTimeoutMs). */
  connectTimeoutMs?: number | undefined;
  /** serial: how the port is named in messages (default serial:<path>). */
  label?: string | undefined;
  /** firmata: the pin map file (default profiles/firmata-pins.json). */
  pins?: string | undefined;
  /** firmata: the bytes firmata-io reads and writes. */
  traceBytes?: ((dir: 'out' | 'in', bytes: Uint8Array, hostMs: number) => void) | undefined;
  /** firmata: the pin writes and readings, as text. */
  traceText?: ((dir: 'out' | 'in', text: string, hostMs: number) => void) | undefined;
  /** sim: the seed (boot clock, line noise). */
  seed?: number | undefined;
  /** sim: faults that act from power-up (line noise, a crystal error); the timed ones are armed per session (SimulatedBoardControls.arm). */
  faults?: readonly FaultSpec[] | undefined;
  /** sim: the outputs the simulated board has (the cart the device profile describes). */
  simBoard?: { tensChannels?: 1 | 2; hasUltrasound?: boolean; hasPad?: boolean } | undefined;
}

/** What only the simulated board offers: faults on demand. */
export interface SimulatedBoardControls {
  /** A session's faults, timed from now (its zero), on the board's outputs and on the in-process line. */
  arm(faults: readonly FaultSpec[]): void;
  /** One fault, timed from now, on the board's outputs (the cart's simulator panel). */
  inject(fault: FaultSpec): void;
  /** End an injected lead-off or coupling loss now. */
  restore(what: 'contact:1' | 'contact:2' | 'coupling'): void;
  /** Stop the simulated board's own timers, once its board is closed (OpenedBoard.close does both). */
  stop(): void;
}

export interface OpenedBoard {
  readonly spec: BoardSpec;
  readonly board: Board;
  /** The clock the board and the engine share: virtual for the simulated board, real for hardware. */
  readonly clock: Clock;
  /** One line for whoever opened it (the Firmata bench board's reduced guarantees), or null. */
  readonly warning: string | null;
  /** The simulated board's controls; null for hardware. */
  readonly sim: SimulatedBoardControls | null;
  /** Release the board (and its port, or stop the simulated board's timers). */
  close(): Promise<void>;
}

/** One entry of the registry. */
export interface BoardType {
  readonly kind: BoardKind;
  /** How it is written after --board. */
  readonly usage: string;
  /** Whether the spec names a port (`serial:<path>`). */
  readonly takesPath: boolean;
  /** The clock to open it on: a fresh VirtualClock for the simulated board, the RealClock for hardware. */
  clock(): Clock;
  /** Connect; throws a ConnectError (one line a technician can act on) when the board cannot be used, with the port released. */
  open(spec: BoardSpec, clock: Clock, options: BoardOpenOptions): Promise<OpenedBoard>;
}
