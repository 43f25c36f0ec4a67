/** `modality cart`: the cart's touchscreen front end, served by the process that owns the board. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConnectError } from '../../drivers/board.js';
import { addDataOption, openStoreOrExit } from '../records.js';
import { dataDir } from '../../records/data-dir.js';
import { BoardHost } from '../../cart/board-host.js';
import { ensureBundle } from '../../cart/bundle.js';
import { Library } from '../../cart/library.js';
import { isLoopback } from '../../cart/security.js';
import { buildServer } from '../../cart/server.js';
import { CartSessions } from '../../cart/sessions.js';
import { addProfileOption, profileFrom } from '../common.js';
import { CliExit, EXIT, io } from '../io.js';
import { systemdNotifier } from '../../util/sd-notify.js';
import { BoardSpecError, parseBoardSpec, type BoardSpec } from '../../drivers/registry.js';

interface CartOpts {
  board: string;
  port: string;
  listen: string;
  token?: string;
  speed?: string;
  seed: string;
  pins?: string;
  data?: string;
}

/** An error nothing else caught, while serving: one line, outputs off, exit 1 (never a stack trace). */
let fatal: (message: string) => void = (m) => {
  io().err(`modality: internal error: ${m}`);
  process.exit(1);
};

function bad(message: string): never {
  io().err(`modality: ${message}`);
  throw new CliExit(EXIT.badInput);
}

export function register(program: Command): void {
  const cmd = program
    .command('cart')
    .description("serve the cart's touchscreen front end (protocol library, start, live session, history) over HTTP and WebSocket; this process owns the board")
    .option('--board <board>', 'sim (default), serial:<path> (modality firmware) or firmata:<path> (bench board)', 'sim')
    .option('--port <n>', 'TCP port (0: any free port)', '8080')
    .option('--listen <addr>', 'address to listen on; anything but loopback needs --token', '127.0.0.1')
    .option('--token <secret>', 'access token every request must carry (default: $MODALITY_TOKEN); required with a non-loopback --listen')
    .option('--speed <factor>', 'simulated board only: run at N× real time (demos and tests)')
    .option('--seed <n>', 'seed for the simulated board', '1')
    .option('--pins <file>', 'firmata boards: the pin map');
  addProfileOption(cmd);
  addDataOption(cmd);
  cmd.addHelpText(
    'after',
    `
Open the printed address in a browser on the cart (kiosk mode on the Pi's
touch display). The session runs in this process: closing or reloading the
page never touches it. Ctrl-C stops a running session (ramping down), writes
its record and exits.

Clinic protocols: put YAML or JSON files in <data>/protocols/.

Examples:
  $ modality cart                                   simulated board, http://127.0.0.1:8080/
  $ modality cart --board serial:/dev/ttyACM0
  $ modality cart --board sim --speed 60 --port 0   a demo at 60×, on any free port
  $ MODALITY_TOKEN=s3cret modality cart --listen 0.0.0.0 --board serial:/dev/ttyACM0

Exit codes: 0 after Ctrl-C, 2 bad input (arguments, port in use, board not found, records), 1 internal error.`,
  );

  cmd.action(async (opts: CartOpts, command: Command) => {
    const profile = profileFrom(command);
    let spec: BoardSpec;
    try {
      spec = parseBoardSpec(opts.board);
    } catch (e) {
      if (e instanceof BoardSpecError) bad(e.message);
      throw e;
    }
    if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) bad(`--port "${opts.port}" must be a port number (0-65535)`);
    if (!/^\d+$/.test(opts.seed)) bad(`--seed "${opts.seed}" must be a whole number`);
    let speed = 1;
    if (opts.speed !== undefined) {
      if (spec.kind !== 'sim') bad('--speed works only with the simulated board: real hardware always runs in real time');
      speed = Number(opts.speed);
      if (!Number.isFinite(speed) || speed <= 0 || speed > 1000)
        bad(`--speed "${opts.speed}": write a factor above 0 and at most 1000 (60 = one minute a second)`);
    }
    const token = opts.token ?? (process.env['MODALITY_TOKEN'] || null);
    if (token !== null && token.length < 8) bad('the token must be at least 8 characters');
    if (!isLoopback(opts.listen) && token === null) bad(`--listen ${opts.listen} is reachable from other machines: give --token <secret> (or MODALITY_TOKEN)`);

    const store = openStoreOrExit(opts.data);
    // The bundle lives in the package (dist/cart); an installation we cannot write to builds it under the temp directory.
    const bundle = await ensureBundle()
      .catch(() => ensureBundle(join(tmpdir(), `modality-cart-bundle-${process.getuid?.() ?? 'user'}`)))
      .catch((e: unknown) => {
        store.close();
        bad(`cannot build the front end: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      });
    let host: BoardHost;
    try {
      host = await BoardHost.open(spec, {
        speed,
        seed: Number(opts.seed),
        ...(opts.pins ? { pins: opts.pins } : {}),
        onWarning: (m) => io().err(`modality: ${m}`),
        onFatal: (m) => fatal(`the simulated board stopped: ${m}`),
      });
    } catch (e) {
      store.close();
      if (e instanceof ConnectError) bad(e.message); // no port, no answer, the wrong firmware: one line
      throw e;
    }
    const sessions = new CartSessions(host, store, {
      ...(profile.tens ? { profileMaxMa: profile.tens.maxAmplitudeMa } : {}),
      onWriteError: (m) => io().err(`modality: ${m}; the session goes on`),
    });
    const app = await buildServer({
      sessions,
      store,
      host,
      library: new Library(dataDir(opts.data), profile),
      bundleDir: bundle.dir,
      security: { listen: opts.listen, token },
      onInternalError: (m) => io().err(`modality: internal error in a request: ${m}`),
    });
    let address: string;
    try {
      address = await app.listen({ host: opts.listen, port: Number(opts.port) });
    } catch (e) {
      await host.close();
      store.close();
      const code = (e as NodeJS.ErrnoException).code;
      bad(
        code === 'EADDRINUSE'
          ? `port ${opts.port} on ${opts.listen} is in use (another modality cart?): choose --port`
          : `cannot listen on ${opts.listen}:${opts.port}: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    fatal = (m) => {
      io().err(`modality: internal error: ${m}; outputs off, the cart stops`);
      try {
        host.board.estop();
      } catch {
        /* the board's lease cuts the outputs anyway */
      }
      store.close();
      process.exit(1);
    };
    process.on('uncaughtException', (e) => fatal(e.message.split('\n')[0] ?? ''));
    process.on('unhandledRejection', (e) => fatal(e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)));
    io().out(`modality cart: serving ${address}/ (board ${host.specText}${spec.kind === 'sim' ? `, ${speed}× real time` : ''}; records in ${store.file})`);
    if (token !== null) io().out(`modality cart: open ${address}/?token=<your token> once on each browser`);
    // under deploy/modality-cart.service (Type=notify, WatchdogSec): serving now, and alive while the loop runs
    const systemd = systemdNotifier();
    systemd.ready(`serving ${address}/`);
    await new Promise<void>((resolve) => {
      const done = () => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      process.on('SIGINT', done);
      process.on('SIGTERM', done);
    });
    io().out('modality cart: stopping');
    systemd.stop();
    await sessions.shutdown();
    await app.close();
    await host.close();
    store.close();
  });
}
