/**
 * What every machine shares: the board reaches them as a plain interface in
 * `input` (machines never import serialport), board events arrive through an
 * invoked callback actor, and phases are reported to a SessionReporter with
 * board-clock times, so the record shows when the board did things, not when
 * the Pi thought about them.
 */
import { fromCallback, type EventObject } from 'xstate';
import type { Board, BoardEvent } from '../drivers/board.js';

export type BoardMsg = { type: 'BOARD'; e: BoardEvent };

export interface PhaseReport {
  programIndex: number;
  modality: 'tens' | 'ultrasound' | 'thermal' | 'prompt';
  phase: string;
  boardMs: number;
  detail?: Record<string, number | string | boolean | null>;
}

export interface SessionReporter {
  phase(p: PhaseReport): void;
  /** Clinician actions and engine notes (adjustments, pauses, refusals). */
  note(kind: string, boardMs: number, detail?: Record<string, unknown>): void;
  /** A fault the host itself detected (link lost, refused command, pre-check, watch). Board faults arrive as board events. */
  hostFault(code: string, boardMs: number, message: string): void;
}

export const nullReporter: SessionReporter = { phase: () => undefined, note: () => undefined, hostFault: () => undefined };

export const boardListener = fromCallback<EventObject, { board: Board }>(({ sendBack, input }) =>
  input.board.subscribe((e) => sendBack({ type: 'BOARD', e } satisfies BoardMsg)),
);

/** Events the session forwards to every running program. */
export type ProgramControlEvent =
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  /** reason: why the session was stopped when not by the clinician's key ("SIGHUP"); the record keeps it. */
  | { type: 'STOP'; reason?: string }
  | { type: 'ADJUST_INTENSITY'; deltaMa?: number; amplitudeMa?: number; channel?: number };

export type ProgramFaultEvent = { type: 'PROGRAM.FAULT'; programIndex: number; code: string; message: string; boardMs: number };

/**
 * A program whose board stops reporting (a refused or lost command, a board that
 * does not follow) must not hang a session with an output on. Every timed phase
 * has a watchdog: the phase's own length plus this slack.
 */
export const WATCHDOG_SLACK_MS = 5_000;

/**
 * How long a program waits, halted, for electrode contact or head coupling to
 * come back before it gives up and faults the session (the clinician can stop
 * earlier). Without it a lead that never returns would hold a session open for ever.
 */
export const MAX_HALT_MS = 10 * 60_000;
