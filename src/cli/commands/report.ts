/** `modality report <session-id>`: the session's timeline chart and planned-against-delivered table. */
import { extname } from 'node:path';
import type { Command } from 'commander';
import { addDataOption, parseSessionId, recordOrExit, writeOrPrint } from '../records.js';
import { renderHtml, renderSvg } from '../../records/report.js';
import { CliExit, EXIT, io } from '../io.js';

export function register(program: Command): void {
  const cmd = program
    .command('report')
    .argument('<session-id>', 'a session id from "modality history"')
    .description(
      'render a session: timeline chart (TENS amplitude, ultrasound intensity and coupling, pad temperature against target, faults) and planned against delivered values',
    )
    .option('--out <file>', 'write the report to file.html (chart, table, faults, actions) or file.svg (the chart only) and print the path');
  addDataOption(cmd);
  cmd.addHelpText(
    'after',
    `
Without --out the HTML report is printed to standard output.

Examples:
  $ modality report 12 --out session-12.html    then open it in a browser
  $ modality report 12 --out session-12.svg     the chart only
  $ modality report 12 > session-12.html`,
  );
  cmd.action((idText: string, opts: { out?: string; data?: string }) => {
    const id = parseSessionId(idText);
    const ext = opts.out ? extname(opts.out).toLowerCase() : '.html';
    if (ext !== '.html' && ext !== '.htm' && ext !== '.svg') {
      io().err(`modality: --out "${opts.out}": name a .html or .svg file`);
      throw new CliExit(EXIT.badInput);
    }
    const rec = recordOrExit(opts.data, id);
    writeOrPrint(ext === '.svg' ? renderSvg(rec) : renderHtml(rec), opts.out);
  });
}
