/**
 * What the clinician sees during `modality run`: a live panel in a terminal
 * (redrawn in place, with keys), or plain progress lines when the output is not
 * a terminal. Both are fed the same RunEvents as --json.
 */
import type { Delivered, RunEvent, Summary } from '../engine/events.js';
import type { Plan } from '../protocol/index.js';
import { modalityOf, modalityOfDelivered } from '../modalities/index.js';
import { formatMs, formatSessionTime } from '../util/time.js';
import { stdoutClosed } from './io.js';

export const KEY_HELP =
  'keys: p pause/resume · + / - intensity 1 mA · Enter continue prompt · s stop (ramps down) · e or Space EMERGENCY STOP · a acknowledge fault · q stop';

interface ProgramView {
  modality: string;
  phase: string;
  detail: string;
  sinceT: number;
  phaseMs: number | null;
}

/** Keeps the latest state of the session from its events. */
export class SessionView {
  t = 0;
  programs = new Map<number, ProgramView>();
  faults: string[] = [];
  notes: string[] = [];
  prompt: string | null = null;
  telemetry: Extract<RunEvent, { type: 'telemetry' }> | null = null;
  paused = false;
  step = 0;

  constructor(readonly plan: Plan) {}

  /** Planned length of a phase that runs on a timer, to show the time left in it. */
  private phaseLength(program: number, phase: string, number: unknown): number | null {
    const p = this.plan.steps.flatMap((s) => s.programs).find((x) => x.programIndex === program);
    if (!p) return null;
    return modalityOf(p).phaseLengthMs(p, phase, number);
  }

  update(e: RunEvent): void {
    if ('t' in e && typeof e.t === 'number') this.t = Math.max(this.t, e.t);
    switch (e.type) {
      case 'phase': {
        if (e.modality === 'prompt') {
          this.prompt = String(e['text'] ?? '');
          return;
        }
        this.prompt = null;
        const detail =
          e['amplitudeMa'] !== undefined
            ? `${e['amplitudeMa']} mA`
            : e['targetC'] !== undefined
              ? `target ${e['targetC']} °C`
              : e['intensityWPerCm2'] !== undefined
                ? `${e['intensityWPerCm2']} W/cm²`
                : '';
        this.programs.set(e.program, { modality: e.modality, phase: e.phase, detail, sinceT: e.t, phaseMs: this.phaseLength(e.program, e.phase, e['number']) });
        return;
      }
      case 'fault':
        this.faults.push(`${formatSessionTime(e.t)} ${e.code}${e.message ? `: ${e.message}` : ''}`);
        return;
      case 'action':
        if (e.kind === 'pause') this.paused = true;
        if (e.kind === 'resume') this.paused = false;
        if (e.kind === 'step' && typeof e['step'] === 'number') this.step = e['step'];
        if (e.kind !== 'step') this.notes.push(`${formatSessionTime(e.t)} ${e.kind}${e['toMa'] !== undefined ? ` → ${e['toMa']} mA` : ''}`);
        return;
      case 'telemetry':
        this.telemetry = e;
        return;
      default:
        return;
    }
  }

  render(width = 80): string[] {
    const lines: string[] = [];
    const p = this.plan;
    lines.push(`${p.protocol.name}`.slice(0, width));
    lines.push(
      `step ${this.step + 1} of ${p.steps.length} · elapsed ${formatMs(Math.floor(this.t / 1000) * 1000)} of ~${formatMs(p.totalMs)} planned${this.paused ? '   ** PAUSED **' : ''}`,
    );
    const active = [...this.programs.entries()].filter(([, v]) => v.phase !== 'done');
    for (const [i, v] of active) {
      const left = v.phaseMs !== null && !this.paused ? `  ${formatMs(Math.max(0, Math.ceil((v.phaseMs - (this.t - v.sinceT)) / 1000) * 1000))} left` : '';
      lines.push(`  #${i} ${v.modality.padEnd(10)} ${v.phase.padEnd(16)} ${v.detail.padEnd(16)}${left}`);
    }
    if (this.prompt) lines.push(`  PROMPT: ${this.prompt}  (Enter to continue)`);
    const tm = this.telemetry;
    if (tm) {
      const { tens1, tens2, ultrasound: us, pad } = tm.outputs;
      const ma = (r: typeof tens1) => (r ? r.value.toFixed(1) : '–');
      lines.push(
        `  board: TENS ${ma(tens1)} / ${ma(tens2)} mA · US ${us ? us.value.toFixed(2) : '–'} W/cm²${us && !us.coupled ? ' (UNCOUPLED)' : ''} · pad ${pad ? pad.tempC.toFixed(1) : '–'} °C${pad && pad.value !== null ? ` → ${pad.value} °C` : ''}`,
      );
      const contact = [tens1, tens2]
        .map((r, k) => `ch${k + 1} ${!r ? '–' : r.electrodeOhm === null ? 'OPEN' : `${(r.electrodeOhm / 1000).toFixed(1)} kΩ`}`)
        .join(' ');
      lines.push(`  electrodes: ${contact}${tm.stopInput ? ' · STOP PRESSED' : ''}${tm.faults.length ? ` · latched: ${tm.faults.join(', ')}` : ''}`);
    }
    for (const f of this.faults.slice(-3)) lines.push(`  FAULT ${f}`);
    for (const n of this.notes.slice(-2)) lines.push(`  ${n}`);
    const [a, b] = KEY_HELP.split(' · s ');
    lines.push((a ?? '').slice(0, width), `      s ${b ?? ''}`.slice(0, width));
    return lines;
  }
}

/** Redraws the panel in place. */
export class LivePanel {
  private drawn = 0;
  constructor(
    private readonly view: SessionView,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}
  draw(): void {
    if (this.out === process.stdout && stdoutClosed()) return;
    const lines = this.view.render(this.out.columns ?? 80);
    let s = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    s += '\x1b[J';
    this.out.write(s);
    this.drawn = lines.length;
  }
}

/** One plain line per event worth reading, for logs and pipes. */
export function plainLine(e: RunEvent): string | null {
  switch (e.type) {
    case 'session':
      return `session: ${e.name} (${e.protocol}) on a ${e.board.kind} board, firmware ${e.board.firmware}; planned ${formatMs(e.plannedMs)}`;
    case 'phase': {
      const extra = Object.entries(e)
        .filter(([k]) => !['type', 't', 'boardMs', 'program', 'modality', 'phase'].includes(k))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      return `${formatSessionTime(e.t).padStart(8)}  ${e.modality === 'prompt' ? 'prompt' : `#${e.program} ${e.modality}`} ${e.phase}${extra ? ` ${extra}` : ''}`;
    }
    case 'fault':
      return `${formatSessionTime(e.t).padStart(8)}  FAULT ${e.code}${e.output ? ` on ${e.output}` : ''}${e.message ? `: ${e.message}` : ''}`;
    case 'action':
      return e.kind === 'step' ? null : `${formatSessionTime(e.t).padStart(8)}  ${e.kind}`;
    case 'link':
      return `${formatSessionTime(e.t).padStart(8)}  link: ${e.message}`;
    default:
      return null;
  }
}

export function describeDelivered(d: Delivered): string {
  return modalityOfDelivered(d).summaryLine(d);
}

export function summaryLines(s: Summary): string[] {
  const lines = [
    `outcome: ${s.outcome.toUpperCase()}${s.stopReason ? ` (${s.stopReason})` : ''} after ${formatMs(s.elapsedMs)} (planned ${formatMs(s.plannedMs)})`,
  ];
  for (const d of s.delivered) lines.push(`  delivered #${d.program} ${describeDelivered(d)}`);
  for (const f of s.faults) lines.push(`  fault ${f.code} at ${formatSessionTime(f.t)}${f.message ? `: ${f.message}` : ''}`);
  const host =
    s.link.hostStallMaxMs === undefined
      ? ''
      : `; host stalls up to ${s.link.hostStallMaxMs} ms, ${s.link.keepaliveRepeats ?? 0} frames repeated to keep the lease`;
  lines.push(`  link: ${s.link.framesSent} frames sent, ${s.link.retransmits} retransmitted, ${s.link.crcErrors} CRC errors${host}`);
  return lines;
}
