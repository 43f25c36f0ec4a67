/** `modality export <session-id> --format json|csv`: one session record, whole. */
import type { Command } from 'commander';
import { addDataOption, parseSessionId, recordOrExit, writeOrPrint } from '../records.js';
import { exportCsv, exportJson } from '../../records/export.js';
import { CliExit, EXIT, io } from '../io.js';

export function register(program: Command): void {
  const cmd = program
    .command('export')
    .argument('<session-id>', 'a session id from "modality history"')
    .description('export one treatment record as JSON (the whole record) or CSV (one row per stored event)')
    .option('--format <format>', 'json or csv', 'json')
    .option('--out <file>', 'write to this file and print its path (default: standard output)');
  addDataOption(cmd);
  cmd.addHelpText(
    'after',
    `
JSON: the session (protocol id, name and hash, the resolved protocol and plan,
board identity and firmware, start and end times, outcome, delivered values,
faults, summary) and every stored event with the wall-clock time it was written.

CSV: one row per stored event, in order (session, phase, applied, telemetry
about once a second of session time, fault, faultCleared, action, link):
session_id, seq, t_ms (session time), board_ms, written_at (wall clock), type,
then program, modality, phase, output, action, value, duration_ms, code,
source, kind, tens1_ma, tens2_ma, us_w_per_cm2, coupled, pad_c, pad_target_c,
head_c, and detail (the event's other fields as JSON). Empty cells: the field
does not apply to that event.`,
  );
  cmd.action((idText: string, opts: { format: string; out?: string; data?: string }) => {
    const id = parseSessionId(idText);
    if (opts.format !== 'json' && opts.format !== 'csv') {
      io().err(`modality: --format "${opts.format}": write json or csv`);
      throw new CliExit(EXIT.badInput);
    }
    const rec = recordOrExit(opts.data, id);
    writeOrPrint(opts.format === 'csv' ? exportCsv(rec) : exportJson(rec), opts.out);
  });
}
