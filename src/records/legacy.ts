/**
 * Stored events of older records, read as today's RunEvents. Records written
 * before telemetry was keyed by output stored a telemetry event's readings as
 * flat fields (`tensMa: [ch1, ch2]`, `usWPerCm2`, `coupled`, `headC`,
 * `padTargetC`, `padC`, `electrodeOhm: [ch1, ch2]`); they are converted on
 * read, so the report, the export and the delivered accounting see one shape.
 * Nothing stored is rewritten.
 */
import type { OutputTelemetry } from '../drivers/board.js';
import type { RunEvent } from '../engine/events.js';

interface FlatTelemetry {
  type: 'telemetry';
  t: number;
  boardMs: number;
  tensMa: [number, number];
  usWPerCm2: number;
  padC: number;
  padTargetC: number | null;
  headC: number;
  coupled: boolean;
  stopInput: boolean;
  electrodeOhm: [number | null, number | null];
  faults: string[];
}

/** The outputs of a flat (old) telemetry event. */
function outputsOf(e: FlatTelemetry): OutputTelemetry {
  return {
    tens1: { value: e.tensMa[0], electrodeOhm: e.electrodeOhm[0] },
    tens2: { value: e.tensMa[1], electrodeOhm: e.electrodeOhm[1] },
    ultrasound: { value: e.usWPerCm2, coupled: e.coupled, tempC: e.headC },
    pad: { value: e.padTargetC, tempC: e.padC },
  };
}

/** One stored event (parsed JSON) as a RunEvent of today's shape. */
export function readStoredEvent(data: unknown): RunEvent {
  const e = data as RunEvent | FlatTelemetry;
  if (e.type !== 'telemetry' || 'outputs' in e) return e;
  return { type: 'telemetry', t: e.t, boardMs: e.boardMs, outputs: outputsOf(e), stopInput: e.stopInput, faults: e.faults };
}
