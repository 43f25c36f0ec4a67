/**
 * The session's event stream and its summary: what the recorder emits, the
 * delivered accounting reads, and the records, the CLI, the cart and the
 * simulator consume. Types only; every layer above the engine may import them.
 */
import type { BoardInfo, LinkCounters, OutputName, OutputTelemetry } from '../drivers/board.js';
import type { Delivered } from '../modalities/index.js';

export type RunEvent =
  | { type: 'session'; t: 0; boardMs: number; protocol: string; name: string; hash: string; plannedMs: number; board: BoardInfo }
  | { type: 'phase'; t: number; boardMs: number; program: number; modality: string; phase: string; [k: string]: unknown }
  | { type: 'applied'; t: number; boardMs: number; output: OutputName; action: 'set' | 'ramp' | 'off'; value: number; durationMs?: number; cause?: string }
  | { type: 'fault'; t: number; boardMs: number; code: string; source: 'board' | 'host'; output?: string; message?: string }
  | { type: 'faultCleared'; t: number; boardMs: number; output: string }
  | { type: 'action'; t: number; boardMs: number; kind: string; [k: string]: unknown }
  | {
      type: 'telemetry';
      t: number;
      boardMs: number;
      /** Each output's reading, by output name (drivers/board.ts: OutputReadings). Records before 0.x stored flat fields: records/legacy.ts reads them. */
      outputs: OutputTelemetry;
      stopInput: boolean;
      faults: string[];
    }
  | { type: 'link'; t: number; message: string }
  | Summary;

/** What one program delivered: one shape per modality, defined by its descriptor (src/modalities/). */
export type { Delivered } from '../modalities/index.js';

export interface Summary {
  type: 'summary';
  outcome: 'completed' | 'stopped' | 'faulted';
  protocol: string;
  hash: string;
  board: { kind: string; firmware: string; timing: string };
  elapsedMs: number;
  plannedMs: number;
  delivered: Delivered[];
  faults: { code: string; t: number; boardMs: number; source: 'board' | 'host'; output?: string; message?: string }[];
  link: LinkCounters;
  stopReason?: string;
}
