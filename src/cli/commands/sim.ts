/** `modality sim --pty`: serve a simulated board on a pseudo-terminal until killed. */
import type { Command } from 'commander';
import { FAULT_SPEC_HELP, FaultSpecError, parseFaultSpec, type FaultSpec } from '../../drivers/fault-spec.js';
import { servePtyBoard } from '../../drivers/registry.js';
import { CliExit, EXIT, io } from '../io.js';

interface SimOpts {
  pty?: boolean;
  firmware?: boolean;
  firmata?: boolean;
  fault: string[];
  seed: string;
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('serve a simulated board on a pseudo-terminal, in real time, until killed')
    .option('--pty', 'serve on a pseudo-terminal and print its device path on stdout (required)')
    .option('--firmware', 'boot the real AVR firmware in simavr instead of the TypeScript simulation')
    .option('--firmata', 'serve a simulated StandardFirmata board (for --board firmata:<path>)')
    .option('--fault <spec>', "inject a fault, timed from the host's first HELLO; repeatable", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--seed <n>', 'seed for the simulated board', '1')
    .addHelpText(
      'after',
      `
The device path is printed alone on the first line of stdout; the board is
served until the process gets SIGINT or SIGTERM.

Examples:
  $ modality sim --pty                    # prints e.g. /dev/pts/7
  $ modality run tens-conventional --board serial:/dev/pts/7 --trace
  $ modality sim --pty --firmware         # the AVR firmware in simavr, paced to real time
  $ modality sim --pty --firmata          # a StandardFirmata board for the johnny-five driver
  $ modality sim --pty --fault lead-off@20s+5s

${FAULT_SPEC_HELP}`,
    )
    .action(async (opts: SimOpts) => {
      if (!opts.pty) {
        io().err('modality: sim needs --pty (the only way to serve it today)');
        throw new CliExit(EXIT.badInput);
      }
      if (opts.firmware && opts.firmata) {
        io().err('modality: choose one of --firmware and --firmata');
        throw new CliExit(EXIT.badInput);
      }
      let faults: FaultSpec[];
      try {
        faults = opts.fault.map(parseFaultSpec);
      } catch (e) {
        if (e instanceof FaultSpecError) {
          io().err(`modality: ${e.message}`);
          throw new CliExit(EXIT.badInput);
        }
        throw e;
      }
      if (faults.some((f) => f.kind === 'line-noise' || f.kind === 'host-silence')) {
        io().err('modality: line-noise and host-silence are host-side faults: use them with "modality run --board sim"');
        throw new CliExit(EXIT.badInput);
      }
      const served = await servePtyBoard(opts.firmware ? 'firmware' : opts.firmata ? 'firmata' : 'core', { faults, seed: Number(opts.seed) });
      if ('unavailable' in served) {
        io().err(`modality: ${served.unavailable}`);
        throw new CliExit(EXIT.badInput);
      }
      const { path, close } = served;
      io().out(path);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await close();
    });
}
