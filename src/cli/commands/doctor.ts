/** `modality doctor`: is this cart ready? One line per finding, OK / WARN / FAIL, and what to do. */
import type { Command } from 'commander';
import { checkBoard, checkClock, checkData, checkNode, checkPort, checkService, worst, type Finding } from '../../doctor/checks.js';
import { addDataOption } from '../records.js';
import { dataDir } from '../../records/data-dir.js';
import { CliExit, EXIT, io } from '../io.js';

interface DoctorOpts {
  board?: string;
  data?: string;
  json?: boolean;
  connectTimeout: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('check this cart: Node.js, the serial port, the board and its firmware, the records, the clock, the service')
    .option('--board <board>', 'serial:<path> (modality firmware) or firmata:<path>; default serial:/dev/modality-board when it exists')
    .option('--connect-timeout <ms>', 'how long the board may take to answer', '3000')
    .option('--json', 'print the findings as JSON');
  addDataOption(cmd);
  cmd.addHelpText(
    'after',
    `
Each line: OK, WARN or FAIL, what was found, and for WARN and FAIL what to do.
Nothing is changed: the board is only greeted (HELLO, no command) and the records
database is opened read-only.

Examples:
  $ modality doctor                                    the board on /dev/modality-board, the default records
  $ sudo -u modality modality doctor --data /var/lib/modality
  $ modality doctor --board serial:/dev/ttyACM0 --json

Exit codes: 0 nothing failed (warnings allowed), 1 something failed, 2 bad arguments.`,
  );
  cmd.action(async (opts: DoctorOpts) => {
    const timeout = Number(opts.connectTimeout);
    if (!Number.isFinite(timeout) || timeout < 100) {
      io().err(`modality: --connect-timeout "${opts.connectTimeout}": give milliseconds, at least 100`);
      throw new CliExit(EXIT.badInput);
    }
    let board = opts.board;
    if (board === undefined && (await import('node:fs')).existsSync('/dev/modality-board')) board = 'serial:/dev/modality-board';
    const m = board === undefined ? null : /^(serial|firmata):(.+)$/.exec(board);
    if (board !== undefined && !m) {
      io().err(`modality: --board "${board}": write serial:<path> or firmata:<path>`);
      throw new CliExit(EXIT.badInput);
    }
    const findings: Finding[] = [checkNode()];
    if (m) {
      const path = m[2]!;
      const port = await checkPort(path);
      findings.push(...port);
      if (m[1] === 'serial' && !port.some((f) => f.level === 'FAIL')) findings.push(...(await checkBoard(path, timeout)));
      if (m[1] === 'firmata')
        findings.push({
          check: 'board',
          level: 'WARN',
          detail: 'a Firmata bench board: not checked beyond its port',
          fix: 'for the bench only (docs/firmata.md)',
        });
    } else {
      findings.push({
        check: 'board',
        level: 'WARN',
        detail: 'no board given and no /dev/modality-board',
        fix: 'give --board serial:<path>, or install the udev rule (docs/deploy.md, step 5)',
      });
    }
    findings.push(...checkData(dataDir(opts.data)), checkClock(), ...checkService());
    const level = worst(findings);
    if (opts.json) io().out(`${JSON.stringify({ worst: level, findings })}\n`);
    else {
      for (const f of findings) io().out(`${f.level.padEnd(4)}  ${f.check.padEnd(12)} ${f.detail}${f.fix ? `\n${' '.repeat(19)}→ ${f.fix}` : ''}\n`);
      io().out(
        `\n${level === 'FAIL' ? 'Something needs fixing before this cart treats anyone.' : level === 'WARN' ? 'Usable; see the warnings.' : 'All good.'}\n`,
      );
    }
    if (level === 'FAIL') throw new CliExit(1);
  });
}
