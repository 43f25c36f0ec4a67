/**
 * Fault-injection specs for the simulated board, as written on the command line:
 *   lead-off@T[+D]  (lead-off:2@T for channel 2)   coupling-loss@T[+D]
 *   overtemp@T   stop-button@T   host-silence@T   disconnect@T   line-noise:RATE
 * T and D are like 30s, 2m, 1m30s or 1500ms, from the start of the session.
 * The specs and their parser are src/drivers/fault-spec.ts; this file makes them happen.
 */
import type { FaultSpec } from '../src/drivers/fault-spec.js';

export {
  checkFaultSpecs,
  FAULT_SPEC_HELP,
  type FaultableBoard,
  type FaultSpec,
  FaultSpecError,
  parseDurationMs,
  parseFaultSpec,
} from '../src/drivers/fault-spec.js';

/** What a fault acts on: the simulated board, a timer from the fault clock's zero, and (in process) the line. */
export interface FaultTarget {
  at(ms: number, fn: () => void): void;
  sim: {
    setElectrodeOhm(channel: 0 | 1, ohm: number): void;
    setCoupled(coupled: boolean): void;
    stickHeater(): void;
    setStopInput(pressed: boolean): void;
    powerOff(): void;
  };
  /** In-process line faults; without a line, a disconnect powers the board off (a pulled cable on a pty). */
  line?: { hostSilenceAtMs?: number; disconnectAtMs?: number; noiseRate?: number };
  /** Clock reading at the fault clock's zero, for line faults. */
  zeroMs?: number;
}

export const ELECTRODE_OPEN_OHM = 0xffff;
export const ELECTRODE_GOOD_OHM = 1200;

export function scheduleFaults(specs: readonly FaultSpec[], t: FaultTarget): void {
  for (const f of specs) {
    switch (f.kind) {
      case 'lead-off': {
        const ch = (f.channel - 1) as 0 | 1;
        t.at(f.atMs, () => t.sim.setElectrodeOhm(ch, ELECTRODE_OPEN_OHM));
        if (f.durationMs !== null) t.at(f.atMs + f.durationMs, () => t.sim.setElectrodeOhm(ch, ELECTRODE_GOOD_OHM));
        break;
      }
      case 'coupling-loss':
        t.at(f.atMs, () => t.sim.setCoupled(false));
        if (f.durationMs !== null) t.at(f.atMs + f.durationMs, () => t.sim.setCoupled(true));
        break;
      case 'overtemp':
        t.at(f.atMs, () => t.sim.stickHeater());
        break;
      case 'stop-button':
        t.at(f.atMs, () => t.sim.setStopInput(true));
        t.at(f.atMs + 1000, () => t.sim.setStopInput(false)); // the patient lets go; the fault stays latched
        break;
      case 'host-silence':
        if (t.line) t.line.hostSilenceAtMs = (t.zeroMs ?? 0) + f.atMs;
        break;
      case 'disconnect':
        if (t.line) t.line.disconnectAtMs = (t.zeroMs ?? 0) + f.atMs;
        else t.at(f.atMs, () => t.sim.powerOff());
        break;
      case 'line-noise':
        if (t.line) t.line.noiseRate = f.rate;
        break;
      case 'clock-drift':
        break; // a property of the board from power-up: the board's options take it (boardOptionsFor)
    }
  }
}

/** The simulated board's options that faults set from power-up (the crystal error). */
export function boardOptionsFor(specs: readonly FaultSpec[]): { driftPpm?: number } {
  const drift = specs.find((f): f is Extract<FaultSpec, { kind: 'clock-drift' }> => f.kind === 'clock-drift');
  return drift ? { driftPpm: drift.ppm } : {};
}
