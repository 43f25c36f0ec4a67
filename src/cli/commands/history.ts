/** `modality history`: the treatment records, newest first. */
import type { Command } from 'commander';
import { addDataOption, withStore } from '../records.js';
import { deliveredLine } from '../../records/format.js';
import type { SessionRow } from '../../records/store.js';
import { formatMs, formatSessionTime } from '../../util/time.js';
import { CliExit, EXIT, io } from '../io.js';

export function register(program: Command): void {
  const cmd = program
    .command('history')
    .description('list the treatment records, newest first: id, protocol, start, outcome, what was delivered')
    .option('--json', 'print a JSON array of sessions (delivered values, faults, board, times)')
    .option('--limit <n>', 'at most this many sessions')
    .option('--all', 'also sessions that were simulations (simulated board, --speed other than real time, injected faults)')
    .option('--patient <id>', "only this patient's sessions");
  addDataOption(cmd);
  cmd.addHelpText(
    'after',
    `
Outcomes: completed, stopped (by the clinician or the stop button), faulted,
interrupted (the process ended without finishing the record: killed, crashed,
power cut; delivered values are those written up to the last telemetry before
it ended), running (a session in progress, or one written on another host).

By default only treatments are listed: a session on the simulated board, at a
speed other than real time, or with injected faults is a simulation (--all).

Examples:
  $ modality history
  $ modality history --patient P-0042
  $ modality history --all
  $ modality history --json --limit 10
  $ modality history --data /media/backup/modality`,
  );
  cmd.action((opts: { json?: boolean; limit?: string; data?: string; all?: boolean; patient?: string }) => {
    if (opts.limit !== undefined && !/^[1-9]\d*$/.test(opts.limit)) {
      io().err(`modality: --limit "${opts.limit}" must be a whole number above 0`);
      throw new CliExit(EXIT.badInput);
    }
    const limit = opts.limit !== undefined ? Number(opts.limit) : undefined;
    const rows = withStore(opts.data, (s) => s.list(limit, { all: !!opts.all, ...(opts.patient !== undefined ? { patient: opts.patient } : {}) }));
    if (opts.json) {
      io().out(JSON.stringify(rows, null, 2));
      return;
    }
    if (!rows.length) {
      const hidden = opts.all
        ? 0
        : withStore(opts.data, (s) => s.list(1, { all: true, ...(opts.patient !== undefined ? { patient: opts.patient } : {}) }).length);
      io().out(
        `No treatment records${opts.patient !== undefined ? ` for patient ${opts.patient}` : ''} yet.${hidden ? ' (Simulations are not treatments: modality history --all lists them.)' : ''}`,
      );
      return;
    }
    for (const r of rows) io().out(historyLines(r).join('\n'));
  });
}

export function historyLines(r: SessionRow): string[] {
  const time = r.elapsedMs !== null ? `${formatMs(r.elapsedMs)} of ${formatMs(r.plannedMs)}` : `planned ${formatMs(r.plannedMs)}`;
  const head = `${String(r.id).padStart(4)}  ${r.protocol.id}  ${r.startedAt}  ${r.outcome}${r.stopReason ? ` (${r.stopReason})` : ''}  ${time}`;
  const lines = [head];
  const c = r.context;
  const who = [
    c?.patient ? `patient ${c.patient}` : '',
    c?.clinician ? `clinician ${c.clinician}` : '',
    c?.site ? `site ${c.site}${c.side ? ` (${c.side})` : ''}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  if (who || r.simulated) lines.push(`      ${[r.simulated ? 'SIMULATION (not a treatment)' : '', who].filter(Boolean).join(' · ')}`);
  if (r.outcome === 'interrupted' || r.outcome === 'running') lines.push(`      delivered up to ${formatMs(r.deliveredAsOfMs ?? 0)}:`);
  for (const d of r.delivered) lines.push(`      ${deliveredLine(d)}`);
  for (const f of r.faults)
    lines.push(`      fault ${formatSessionTime(f.t)} ${f.code}${f.output ? ` (${f.output})` : ''}${f.message ? `: ${f.message}` : ''}`);
  if (r.outcome === 'running') lines.push(`      (running: process ${r.pid} on ${r.host})`);
  return lines;
}
