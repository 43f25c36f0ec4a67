/**
 * What a modality is, in one place: a descriptor per modality (tens.ts,
 * ultrasound.ts, thermal.ts), listed in index.ts. The session machine's
 * pre-check, the delivered accounting, `show`, the live panel's summary and the
 * records' text iterate over the descriptors instead of switching on the
 * modality's name. The machine that runs a program is the modality's other
 * half: src/machines/programs.ts lists one per modality.
 *
 * Layer: above the protocol and the Board interface, below the machines, the
 * engine, the records and the CLI. Pure: no I/O, no xstate (`show` and
 * `history` read the descriptors without loading the machines).
 */
import type { BoardInfo, OutputName, OutputReading } from '../drivers/board.js';
import type { ModalityName, PlannedProgram } from '../protocol/index.js';
import type { ABSOLUTE_LIMITS, STANDARDS } from '../protocol/limits.js';
import type { ZodType } from 'zod';

/** What the delivered accounting (src/engine/delivered.ts) has gathered for one program, for the descriptor to summarise. */
export interface DeliveredAcc {
  /** Time the output was on (ms), and the integral of its value over time (value × ms). */
  readonly onMs: number;
  readonly integralMs: number;
  /** Highest value the board reported it applied. */
  readonly peak: number;
  /** Time per phase the machine reported (board ms), the phase still running counted up to now. */
  readonly phaseMs: Readonly<Record<string, number>>;
  /** Phases that ended (a board cut aside), in order. */
  readonly completedPhases: readonly string[];
  /** Extremes a modality gathers from telemetry while its program runs (the pad's temperature). */
  maxC: number | null;
  minC: number | null;
}

export interface ModalityDescriptor<
  P extends PlannedProgram = PlannedProgram,
  D extends { modality: string; program: number } = { modality: string; program: number },
> {
  readonly name: ModalityName;
  /** As the clinician reads it in tables: "TENS", "Ultrasound", "Thermal". */
  readonly label: string;
  /** The standard its absolute limits come from, and the limits (protocol/limits.ts). */
  readonly standard: (typeof STANDARDS)[ModalityName];
  readonly limits: (typeof ABSOLUTE_LIMITS)[ModalityName];
  /** The zod schema of its program in a protocol file (protocol/schema.ts: `- <name>: { … }`). */
  readonly schema: ZodType;
  /** The board output a program drives. */
  output(p: P): OutputName;
  /** Why this board cannot run the program (`where` names the step), checked before anything is switched on. */
  preCheck(p: P, board: BoardInfo, where: string): string[];
  /** Gather from its output's reading in a telemetry sample while the program runs (optional). */
  telemetry?(acc: DeliveredAcc, reading: OutputReading): void;
  /** The delivered values, from what the accounting gathered. */
  delivered(p: P, acc: DeliveredAcc): D;
  /** The cart's progress bar: the time that counts as delivered (as the record counts it), and its planned length. */
  progressMs(d: D): number;
  plannedProgressMs(p: P): number;
  /** Time the program still has to run from its present phase (null: not started), `doneMs` delivered so far, `inPhaseMs` into the phase. */
  remainingMs(p: P, phase: string | null, doneMs: number, inPhaseMs: number): number;
  /** The live panel: the planned length of a phase that runs on a timer (`number`: the phase event's, 1-based), or null. */
  phaseLengthMs(p: P, phase: string, number: unknown): number | null;
  /** `show`: the program's plan in one line. */
  describe(p: P): string;
  /** History and report: what was delivered against the plan, in one line. */
  deliveredLine(d: D): string;
  /** The report's planned-against-delivered table: [quantity, planned, delivered]. */
  deliveredRows(d: D): [string, string, string][];
  /** The report's name for the program ("TENS ch2"). */
  programName(d: D): string;
  /** The end-of-run summary (terminal). */
  summaryLine(d: D): string;
}
