/**
 * modality CLI entry. main.ts is only a list of command registrations; each
 * command lives in commands/<name>.ts and exports register(program).
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { register as registerProtocols } from './commands/protocols.js';
import { register as registerShow } from './commands/show.js';
import { register as registerValidate } from './commands/validate.js';
import { register as registerRun } from './commands/run.js';
import { register as registerSim } from './commands/sim.js';
import { register as registerHistory } from './commands/history.js';
import { register as registerReport } from './commands/report.js';
import { register as registerExport } from './commands/export.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerCart } from './commands/cart.js';
import { CliExit, type CliIo, EXIT, guardStdStreams, io, processIo, setIo } from './io.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('modality')
    .description('Session timing engine for physiotherapy treatment carts: timed TENS, ultrasound and thermal protocols.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io().out(s),
      writeErr: (s) => io().err(s),
      outputError: (s, write) => write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ modality protocols                       list the built-in protocols
  $ modality show upper-back-heat-us-tens    resolved plan and timeline
  $ modality validate my-protocol.yaml       check a file against every limit
  $ modality run tens-conventional --speed 60   a session on the simulated board at 60×
  $ modality sim --pty                       the simulated board on a pseudo-terminal
  $ modality cart                            the touchscreen front end on http://127.0.0.1:8080/

Exit codes: 0 ok (run: completed), 2 bad input (invalid protocol, profile or arguments),
3 run stopped, 4 run faulted, 1 internal error.
Run "modality <command> --help" for the protocol file format and units.`,
    );

  // Commands: one registration per file.
  registerProtocols(program);
  registerShow(program);
  registerValidate(program);
  registerRun(program);
  registerSim(program);
  registerHistory(program);
  registerReport(program);
  registerExport(program);
  registerDoctor(program);
  registerCart(program);

  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run the CLI; resolves to the exit code (never throws, never prints a stack trace). */
export async function main(argv: string[] = process.argv.slice(2), out: CliIo = processIo): Promise<number> {
  if (out === processIo) guardStdStreams();
  const prev = setIo(out);
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CliExit) return e.code;
    if (e instanceof CommanderError) {
      // help and --version end with exitCode 0; usage errors were already printed
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    io().err(`modality: internal error: ${msg}`);
    return EXIT.internal;
  } finally {
    setIo(prev);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = EXIT.internal;
    },
  );
}
