/**
 * The machine that runs one program, per modality: the other half of each
 * modality's descriptor (src/modalities/). The session machine spawns a
 * program's machine by its modality's name, with the input made here.
 */
import type { Board } from '../drivers/board.js';
import type { ModalityName, PlannedProgram } from '../protocol/index.js';
import type { SessionReporter } from './common.js';
import { tensMachine } from './tens.machine.js';
import { thermalMachine } from './thermal.machine.js';
import { ultrasoundMachine } from './ultrasound.machine.js';

/** What a program needs to start on a board. */
export interface ProgramContext {
  board: Board;
  reporter: SessionReporter;
  profileMaxMa?: number | undefined;
}

/** The machines, by modality name (the session machine's actors). */
export const PROGRAM_MACHINES = { tens: tensMachine, ultrasound: ultrasoundMachine, thermal: thermalMachine } as const satisfies Record<ModalityName, unknown>;

type InputMakers = { [N in ModalityName]: (p: Extract<PlannedProgram, { modality: N }>, ctx: ProgramContext) => unknown };

const INPUTS: InputMakers = {
  tens: (program, { board, reporter, profileMaxMa }) => ({ board, reporter, program, ...(profileMaxMa !== undefined ? { profileMaxMa } : {}) }),
  ultrasound: (program, { board, reporter }) => ({ board, reporter, program }),
  thermal: (program, { board, reporter }) => ({ board, reporter, program }),
};

/** The input of a program's machine. */
export function programInput(p: PlannedProgram, ctx: ProgramContext): unknown {
  return (INPUTS[p.modality] as (p: PlannedProgram, ctx: ProgramContext) => unknown)(p, ctx);
}
