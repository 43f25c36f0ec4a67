/**
 * The board registry: every kind of board modality can open, by name, next to
 * the Board interface. The CLI (`run`, `doctor`) and the cart open boards only
 * through openBoard(); each entry loads its implementation with a dynamic
 * import(), so serialport, johnny-five and the simulated board (the firmware's
 * core as WebAssembly, in sim/) load only when that board is chosen.
 *
 * Adding a board type: implement Board (board.ts) and add one entry here
 * (docs/extending.md).
 */
import { RealClock, VirtualClock, type Clock } from '../clock.js';
import type { BoardOpenOptions, BoardSpec, BoardType, OpenedBoard } from './board-type.js';
import type { FaultSpec } from './fault-spec.js';

export type { BoardKind, BoardOpenOptions, BoardSpec, BoardType, FrameTrace, OpenedBoard, SimulatedBoardControls } from './board-type.js';

/** A --board that names no known board. */
export class BoardSpecError extends Error {}

const hardware = (b: Omit<BoardType, 'clock' | 'takesPath'>): BoardType => ({ ...b, takesPath: true, clock: () => new RealClock() });

const pathOf = (spec: BoardSpec): string => ('path' in spec ? spec.path : '');

export const BOARD_TYPES: Readonly<Record<BoardSpec['kind'], BoardType>> = {
  sim: {
    kind: 'sim',
    usage: 'sim',
    takesPath: false,
    clock: () => new VirtualClock(),
    async open(spec, clock, o) {
      if (!(clock instanceof VirtualClock)) throw new Error('the simulated board runs on a VirtualClock (BOARD_TYPES.sim.clock())');
      const { openSimulatedBoard } = await import('../../sim/connect.js');
      return openSimulatedBoard(spec, clock, o);
    },
  },
  serial: hardware({
    kind: 'serial',
    usage: 'serial:<path>',
    async open(spec, clock, o) {
      const [{ openSerialTransport }, { SerialBoard }] = await Promise.all([import('./serial-transport.js'), import('./serial-board.js')]);
      const path = pathOf(spec);
      const transport = await openSerialTransport(path);
      try {
        const board = await SerialBoard.connect(clock, transport, {
          label: o.label ?? `serial:${path}`,
          ...(o.trace ? { trace: o.trace } : {}),
          ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
        });
        return { spec, board, clock, warning: null, sim: null, close: () => board.close() };
      } catch (e) {
        // The open port is what kept a failed connect's process alive: release it.
        await transport.close().catch(() => undefined);
        throw e;
      }
    },
  }),
  firmata: hardware({
    kind: 'firmata',
    usage: 'firmata:<path>',
    async open(spec, clock, o) {
      // johnny-five is heavy and only bench technicians need it.
      const { FirmataBoard, FIRMATA_BENCH_WARNING } = await import('./firmata-board.js');
      const board = await FirmataBoard.connect(clock, {
        path: pathOf(spec),
        ...(o.pins ? { pins: o.pins } : {}),
        ...(o.traceBytes ? { traceBytes: o.traceBytes } : {}),
        ...(o.traceText ? { trace: o.traceText } : {}),
      });
      return { spec, board, clock, warning: FIRMATA_BENCH_WARNING, sim: null, close: () => board.close() };
    },
  }),
};

/** `sim`, `serial:<path>`, `firmata:<path>`. */
export function parseBoardSpec(text: string): BoardSpec {
  for (const t of Object.values(BOARD_TYPES)) {
    if (!t.takesPath && text === t.kind) return { kind: t.kind } as BoardSpec;
    if (t.takesPath && text.startsWith(`${t.kind}:`) && text.length > t.kind.length + 1)
      return { kind: t.kind, path: text.slice(t.kind.length + 1) } as BoardSpec;
  }
  throw new BoardSpecError(`--board "${text}": write sim, serial:<path> (modality firmware) or firmata:<path> (StandardFirmata bench board)`);
}

/** The spec as written after --board. */
export const boardSpecText = (spec: BoardSpec): string => ('path' in spec ? `${spec.kind}:${spec.path}` : spec.kind);

/** The clock to open this board on (virtual for the simulated board, real for hardware). */
export const clockFor = (spec: BoardSpec): Clock => BOARD_TYPES[spec.kind].clock();

/** Open the board `spec` names on `clock` (from clockFor). Throws a ConnectError when it cannot be used. */
export function openBoard(spec: BoardSpec, clock: Clock, options: BoardOpenOptions = {}): Promise<OpenedBoard> {
  return BOARD_TYPES[spec.kind].open(spec, clock, options);
}

/** The boards `modality sim --pty` serves: the simulated board (the core as WebAssembly), the AVR firmware in simavr, a StandardFirmata board. */
export type PtyBoardKind = 'core' | 'firmware' | 'firmata';

export interface PtyBoard {
  /** The pseudo-terminal's device path, for --board serial:<path> or firmata:<path>. */
  path: string;
  close(): void | Promise<void>;
}

/**
 * Serve a simulated board on a pseudo-terminal, in real time (`modality sim`).
 * Resolves with `unavailable` (what to install) when the AVR toolchain is missing.
 */
export async function servePtyBoard(kind: PtyBoardKind, o: { faults: readonly FaultSpec[]; seed: number }): Promise<PtyBoard | { unavailable: string }> {
  if (kind === 'firmware') {
    const fw = await import('../../sim/firmware-runner.js');
    if (!fw.toolchainAvailable())
      return {
        unavailable: '--firmware needs gcc-avr, avr-libc and simavr (apt-get install gcc-avr avr-libc simavr libsimavr-dev libsimavrparts1 libelf-dev)',
      };
    const b = await fw.startFirmwareBoard();
    return { path: b.path, close: () => b.stop() };
  }
  if (kind === 'firmata') {
    const fm = await import('../../sim/firmata-pty.js');
    const s = await fm.serveFirmataOnPty();
    return { path: s.path, close: () => s.close() };
  }
  const { serveSimOnPty } = await import('../../sim/pty.js');
  const s = serveSimOnPty({ faults: [...o.faults], seed: o.seed });
  return { path: s.path, close: () => s.close() };
}
