/** `modality report <session-id>`: the session's timeline chart and planned-against-delivered table. */
import { writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { addDataOption, parseSessionId, withStore } from '../../records/cli.js';
import { renderHtml, renderSvg } from '../../records/report.js';
import { CliExit, EXIT, io } from '../io.ts';

export function register(program: Command): void {
  const cmd = program
    .command('report')
    .argument('<session-id>', 'a session id from "modality history"')
    .description('render a session: timeline chart (TENS amplitude, ultrasound intensity and coupling, pad temperature against target, faults) and planned against delivered values')
    .option('--out <file>', 'write the report to file.html (chart, table, faults, actions) or file.svg (the chart only) and print the path');
  addDataOption(cmd);
  cmd.addHelpText('after', `
Without --out the HTML report is printed to standard output.

Examples:
  $ modality report 12 --out session-12.html    then open it in a browser
  $ modality report 12 --out session-12.svg     the chart only
  $ modality report 12 > session-12.html`);
  cmd.action((idText: string, opts: { out?: string; data?: string }) => {
    const id = parseSessionId(idText);
    const ext = opts.out ? extname(opts.out).toLowerCase() : '.html';
    if (ext !== '.html' && ext !== '.htm' && ext !== '.svg') {
      io().err(`modality: --out "${opts.out}": name a .html or .svg file`);
      throw new CliExit(EXIT.badInput);
    }
    const rec = withStore(opts.data, (s) => s.get(id));
    if (!rec) { io().err(`modality: no session ${id} in the records (see "modality history")`); throw new CliExit(EXIT.badInput); }
    const text = ext === '.svg' ? renderSvg(rec) : renderHtml(rec);
    if (!opts.out) { io().out(text); return; }
    const path = resolve(opts.out);
    try {
      writeFileSync(path, text);
    } catch (e) {
      io().err(`modality: cannot write ${path}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      throw new CliExit(EXIT.badInput);
    }
    io().out(path);
  });
}
