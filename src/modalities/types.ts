/**
 * What a modality is, in one place: a descriptor per modality (tens.ts,
 * ultrasound.ts, thermal.ts), listed in index.ts. The session machine's
 * pre-check, the delivered accounting, `show`, the live panel's summary, the
 * records' text, the report's chart, the cart's plan text, live tiles and
 * checklist iterate over the descriptors instead of switching on the
 * modality's name. The machine that runs a program is the modality's other
 * half: src/machines/programs.ts lists one per modality; its protocol part
 * (schema, checks, plan) is its program kind, src/protocol/programs/.
 *
 * Layer: above the protocol and the Board interface, below the machines, the
 * engine, the records and the CLI. Pure: no I/O, no xstate (`show` and
 * `history` read the descriptors without loading the machines), and no zod or
 * Node at run time: the cart's browser bundle imports them
 * (.dependency-cruiser.cjs: descriptors-fit-the-browser).
 */
import type { BoardInfo, OutputName, OutputReading, OutputTelemetry } from '../drivers/board.js';
import type { Messages } from '../messages/index.js';
import type { ModalityName, PlannedProgram } from '../protocol/index.js';
import type { ABSOLUTE_LIMITS, STANDARDS } from '../protocol/limits.js';

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
  /** `show`: lines about all of the plan's programs of this modality together, under the plan's header (optional). */
  showLines?(programs: readonly P[]): string[];
  /** History and report: what was delivered against the plan, in one line. */
  deliveredLine(d: D): string;
  /** The report's planned-against-delivered table: [quantity, planned, delivered]. */
  deliveredRows(d: D): [string, string, string][];
  /** The report's name for the program ("TENS ch2"). */
  programName(d: D): string;
  /** The end-of-run summary (terminal). */
  summaryLine(d: D): string;
  /** The report's chart panel for this modality's programs in a plan (src/records/report.ts draws it). */
  readonly chart: ChartSpec<P>;
  /** The cart (src/cart/ui): the program's name, its plan in words, its live tiles. */
  readonly cart: CartSpec<P>;
  /** The contraindications and precautions the clinician answers before Start (src/cart/checklist.ts). */
  readonly checklist: ChecklistSpec<P>;
}

/** One line of the report's chart: its colour (a key of the panel's `colours`) and the value it plots from a telemetry sample's readings (null: a gap). */
export interface ChartSeries {
  readonly colour: string;
  readonly dashed?: boolean;
  at(o: OutputTelemetry): number | null;
}

export interface ChartSpec<P> {
  /** The panel's key (an SVG group id), title and unit. */
  readonly key: string;
  readonly title: string;
  readonly unit: string;
  /** Every colour the panel may draw, by name (the report's SERIES_COLOURS gather them; a screenshot test finds each). */
  readonly colours: Readonly<Record<string, string>>;
  /** The lines to draw for these programs (the plan's programs of this modality). */
  series(programs: readonly P[]): ChartSeries[];
  /** Planned values the value axis must span besides the samples. */
  planned(p: P): number[];
  /** The value axis: from zero to 10 % above the largest value (at least `atLeast`), or whole fives around every value. */
  readonly axis: { from: 'zero'; atLeast: number } | { from: 'around' };
  /** A strip along the panel's foot: the colour (a key of `colours`) of each sample's stretch (null: nothing drawn), e.g. the head's coupling. */
  strip?(o: OutputTelemetry): string | null;
}

/** What the cart's screens format with, in the browser's language. */
export interface CartText {
  readonly M: Messages;
  duration(ms: number): string;
  num(x: number, digits?: number): string;
}

/** A live reading on the session screen: a label and a value; `state` colours it; `adjust` puts − and + around it. */
export interface LiveRow {
  label: string;
  value: string;
  state?: 'good' | 'bad';
  adjust?: { channel: number; decrease: string; increase: string };
}

export interface CartSpec<P> {
  /** The program's name in the session's list ("TENS 2"). */
  label(p: P, t: CartText): string;
  /** The program's plan in words (detail and start screens). */
  planLines(p: P, t: CartText): string[];
  /** Which programs get live tiles: those of the present step, or those of the whole session (one tile per output). */
  readonly tilesFor: 'step' | 'session';
  /** The live tile of a program's output: its rows, from the latest telemetry's readings (undefined: none yet); `many`: more than one tile of this modality. */
  tile(p: P, o: OutputTelemetry | undefined, t: CartText, many: boolean): { kind: string; rows: LiveRow[] };
}

/** One item of the checklist; its question's text is in the message catalogue, `checklist[id]`. */
export interface ChecklistItem {
  id: string;
  /** The modality, or the group within it the item applies to ('heat', 'cold'). */
  modality: string;
  kind: 'contraindication' | 'precaution';
  /** Where it comes from. */
  source: string;
}

export interface ChecklistSpec<P> {
  readonly items: readonly ChecklistItem[];
  /** The groups (values of `modality` in `items`) a program calls for: its own name, and e.g. 'heat' for a hot phase. */
  groups(p: P): string[];
}
