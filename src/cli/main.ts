/**
 * modality CLI entry. main.ts is only the list of commands; each command lives
 * in commands/<name>.ts and exports register(program). A command's module (and
 * what it pulls in: the records database, the web server, the boards) is loaded
 * only when that command runs: `modality --help` loads none of them, so it
 * starts quickly on the cart's Pi. The table below gives each command's line in
 * the top-level help; a test checks it matches the command's own definition.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Help } from 'commander';
import { CliExit, type CliIo, EXIT, guardStdStreams, io, processIo, setIo } from './io.js';

interface CommandEntry {
  /** The command's line in `modality --help`: its usage term and summary. */
  term: string;
  summary: string;
  load: () => Promise<{ register: (program: Command) => void }>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  protocols: {
    term: 'protocols [options]',
    summary: 'list the built-in protocols (id, name, modalities, planned length)',
    load: () => import('./commands/protocols.js'),
  },
  show: {
    term: 'show [options] <protocol>',
    summary: 'show the resolved plan of a built-in protocol or file: times, ultrasound dose/energy, TENS current density, phase timeline',
    load: () => import('./commands/show.js'),
  },
  validate: {
    term: 'validate [options] <file...>',
    summary: 'validate protocol files (YAML or JSON) or built-in ids; exit 0 if all are valid, 2 otherwise',
    load: () => import('./commands/validate.js'),
  },
  run: {
    term: 'run [options] <protocol>',
    summary: 'run a protocol as a treatment session on a board (the simulated board by default)',
    load: () => import('./commands/run.js'),
  },
  sim: { term: 'sim [options]', summary: 'serve a simulated board on a pseudo-terminal, in real time, until killed', load: () => import('./commands/sim.js') },
  history: {
    term: 'history [options]',
    summary: 'list the treatment records, newest first: id, protocol, start, outcome, what was delivered',
    load: () => import('./commands/history.js'),
  },
  report: {
    term: 'report [options] <session-id>',
    summary:
      'render a session: timeline chart (TENS amplitude, ultrasound intensity and coupling, pad temperature against target, faults) and planned against delivered values',
    load: () => import('./commands/report.js'),
  },
  export: {
    term: 'export [options] <session-id>',
    summary: 'export one treatment record as JSON (the whole record) or CSV (one row per stored event)',
    load: () => import('./commands/export.js'),
  },
  doctor: {
    term: 'doctor [options]',
    summary: 'check this cart: Node.js, the serial port, the board and its firmware, the records, the clock, the service',
    load: () => import('./commands/doctor.js'),
  },
  cart: {
    term: 'cart [options]',
    summary: "serve the cart's touchscreen front end (protocol library, start, live session, history) over HTTP and WebSocket; this process owns the board",
    load: () => import('./commands/cart.js'),
  },
};

/** The command an argument list names (`run …`, `help run`), if any. */
export function commandNamed(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? name : undefined;
}

/**
 * The program with every command fully defined (`load: 'all'`, for tests and
 * docs), or with only the named one loaded and the others as their help line.
 */
export async function buildProgram(argv: readonly string[] | 'all' = 'all'): Promise<Command> {
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

  // Commands: one registration per file, loaded only when needed.
  const wanted = argv === 'all' ? Object.keys(COMMANDS) : [commandNamed(argv)].filter((n) => n !== undefined);
  for (const [name, entry] of Object.entries(COMMANDS)) {
    if (wanted.includes(name)) (await entry.load()).register(program);
    else program.command(name).description(entry.summary).helpOption(false).allowUnknownOption().allowExcessArguments();
  }
  const terms = new Map(Object.entries(COMMANDS).map(([name, e]) => [name, e.term]));
  const standard = new Help();
  program.configureHelp({ subcommandTerm: (c) => terms.get(c.name()) ?? standard.subcommandTerm(c) });

  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run the CLI; resolves to the exit code (never throws, never prints a stack trace). */
export async function main(argv: string[] = process.argv.slice(2), out: CliIo = processIo): Promise<number> {
  if (out === processIo) guardStdStreams();
  const prev = setIo(out);
  try {
    await (await buildProgram(argv)).parseAsync(argv, { from: 'user' });
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
