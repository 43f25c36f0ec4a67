/**
 * Fault-injection specs for the simulated board, as written on the command line
 * (`modality run --fault`, `modality sim --fault`, the cart's simulator panel):
 *   lead-off@T[+D]  (lead-off:2@T for channel 2)   coupling-loss@T[+D]
 *   overtemp@T   stop-button@T   host-silence@T   disconnect@T   line-noise:RATE
 * T and D are like 30s, 2m, 1m30s or 1500ms, from the start of the session.
 *
 * Pure parsing and checking: the simulated board (sim/faults.ts) acts on them.
 * Here, below the CLI and the cart, so they need not import sim/.
 */
export type FaultSpec =
  | { kind: 'lead-off'; channel: 1 | 2; atMs: number; durationMs: number | null }
  | { kind: 'coupling-loss'; atMs: number; durationMs: number | null }
  | { kind: 'overtemp'; atMs: number }
  | { kind: 'stop-button'; atMs: number }
  | { kind: 'host-silence'; atMs: number }
  | { kind: 'disconnect'; atMs: number }
  | { kind: 'line-noise'; rate: number }
  | { kind: 'clock-drift'; ppm: number };

export class FaultSpecError extends Error {}

export const FAULT_SPEC_HELP = `Fault specs (repeat --fault for several):
  lead-off@T[+D]       electrode contact lost on channel 1 at T, back after D (lead-off:2@T for channel 2)
  coupling-loss@T[+D]  ultrasound head uncoupled at T, recoupled after D
  overtemp@T           the pad heater sticks on at T; the board must cut it at 41 °C
  stop-button@T        the patient presses the stop button at T
  host-silence@T       the host stops sending at T; the board's lease must expire
  disconnect@T         the cable is pulled at T (nothing gets through either way)
  line-noise:RATE      corrupt this fraction of bytes, both ways (e.g. line-noise:0.002)
  clock-drift:PPM      the board's crystal is off by PPM parts per million from power-up
                       (clock-drift:+5000ppm: 0.5 % fast, as a ceramic resonator can be)
T and D: 30s, 2m, 1m30s, 1500ms (a bare number is seconds), from the start of the session.`;

export function parseDurationMs(text: string): number {
  const re = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;
  const bare = /^\d+(?:\.\d+)?$/.test(text);
  if (bare) return Math.round(Number(text) * 1000);
  const m = re.exec(text);
  if (!m || text === '' || m.slice(1).every((g) => g === undefined))
    throw new FaultSpecError(`"${text}" is not a duration: write it like 30s, 2m, 1m30s or 1500ms`);
  const [h, min, s, ms] = m.slice(1).map((g) => (g === undefined ? 0 : Number(g))) as [number, number, number, number];
  return Math.round(((h * 60 + min) * 60 + s) * 1000 + ms);
}

export function parseFaultSpec(spec: string): FaultSpec {
  const s = spec.trim();
  const noise = /^line-noise:(.+)$/.exec(s);
  if (noise) {
    const rate = Number(noise[1]);
    if (!Number.isFinite(rate) || rate < 0 || rate >= 0.5)
      throw new FaultSpecError(`line-noise rate "${noise[1]}" must be a fraction of bytes from 0 to 0.5, e.g. line-noise:0.002`);
    return { kind: 'line-noise', rate };
  }
  const drift = /^clock-drift:([+-]?\d+(?:\.\d+)?)(?:ppm)?$/.exec(s);
  if (drift) {
    const ppm = Number(drift[1]);
    if (Math.abs(ppm) > 20_000) throw new FaultSpecError(`clock-drift ${drift[1]} ppm: a board clock off by more than 2 % (20000 ppm) is broken, not drifting`);
    return { kind: 'clock-drift', ppm };
  }
  const m = /^([a-z-]+)(?::(\d+))?@([^+]+)(?:\+(.+))?$/.exec(s);
  if (!m) throw new FaultSpecError(`"${spec}" is not a fault spec.\n${FAULT_SPEC_HELP}`);
  const [, kind, ch, at, dur] = m as unknown as [string, string, string | undefined, string, string | undefined];
  const atMs = parseDurationMs(at);
  const durationMs = dur === undefined ? null : parseDurationMs(dur);
  const noDuration = () => {
    if (durationMs !== null) throw new FaultSpecError(`${kind} takes no +duration: it latches until someone clears it`);
  };
  switch (kind) {
    case 'lead-off': {
      const channel = ch === undefined ? 1 : Number(ch);
      if (channel !== 1 && channel !== 2) throw new FaultSpecError(`lead-off channel must be 1 or 2, not ${ch}`);
      return { kind, channel, atMs, durationMs };
    }
    case 'coupling-loss':
      return { kind, atMs, durationMs };
    case 'overtemp':
      noDuration();
      return { kind, atMs };
    case 'stop-button':
      noDuration();
      return { kind, atMs };
    case 'host-silence':
      noDuration();
      return { kind, atMs };
    case 'disconnect':
      noDuration();
      return { kind, atMs };
    default:
      throw new FaultSpecError(`unknown fault "${kind}".\n${FAULT_SPEC_HELP}`);
  }
}

/** What a board offers to inject faults into (the simulated board's outputs). */
export interface FaultableBoard {
  tensChannels: number;
  hasUltrasound: boolean;
  hasPad: boolean;
}

const faultName = (f: FaultSpec): string => (f.kind === 'lead-off' ? `lead-off:${f.channel}` : f.kind);

/**
 * Faults that cannot happen as asked, refused before anything starts: a time at
 * or past the planned end of the session (it would never happen, and the record
 * would say it was asked for), or a kind the board cannot inject (no such
 * channel, head or pad). Returns one line per problem; empty when all is well.
 */
export function checkFaultSpecs(specs: readonly FaultSpec[], plannedMs: number, board: FaultableBoard, format: (ms: number) => string): string[] {
  const problems: string[] = [];
  for (const f of specs) {
    if ('atMs' in f && f.atMs >= plannedMs) {
      problems.push(
        `--fault ${faultName(f)}@${format(f.atMs)}: that is not before the planned end of the session (${format(plannedMs)}), so it would never happen`,
      );
    }
    if (f.kind === 'lead-off' && f.channel > board.tensChannels)
      problems.push(`--fault lead-off:${f.channel}: the board has ${board.tensChannels === 1 ? 'one TENS channel' : `${board.tensChannels} TENS channels`}`);
    if (f.kind === 'coupling-loss' && !board.hasUltrasound) problems.push('--fault coupling-loss: the board has no ultrasound head');
    if (f.kind === 'overtemp' && !board.hasPad) problems.push('--fault overtemp: the board has no thermal pad');
  }
  return problems;
}
