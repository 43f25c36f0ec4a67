/** `modality run <id|file>`: run a protocol as a session on a board. */
import type { Command } from 'commander';
import { ConnectError } from '../../drivers/board.js';
import { checkFaultSpecs, FAULT_SPEC_HELP, FaultSpecError, parseFaultSpec, type FaultSpec } from '../../drivers/fault-spec.js';
import { BoardSpecError, boardSpecText, clockFor, openBoard, parseBoardSpec, type BoardOpenOptions, type BoardSpec } from '../../drivers/registry.js';
import type { RunEvent, Summary } from '../../engine/events.js';
import { clearLatchedFaults, runSession } from '../../engine/run-session.js';
import type { SessionEvent } from '../../machines/session.machine.js';
import { formatIssue, resolveProtocol, type DeviceProfile, type Plan } from '../../protocol/index.js';
import type { RecordStore } from '../../records/store.js';
import { SessionContextSchema, type SessionContext } from '../../records/context.js';
import { formatMs } from '../../util/time.js';
import { addProfileOption, profileFrom } from '../common.js';
import { CliExit, EXIT, io } from '../io.js';
import { KEY_HELP, LivePanel, SessionView, plainLine, summaryLines } from '../live.js';
import { addDataOption, openStoreOrExit } from '../records.js';
import { attachKeys, interrupts } from '../session-input.js';
import { traceOptions } from '../trace.js';

export const RUN_EXIT = { completed: 0, stopped: 3, faulted: 4 } as const;

/** The simulated board is shaped like the cart the profile describes: its TENS channels, head and pad. */
function simBoardFor(profile: DeviceProfile): { tensChannels: 1 | 2; hasUltrasound: boolean; hasPad: boolean } {
  const channels = profile.tens?.channels ?? [1, 2];
  return { tensChannels: Math.max(...channels) >= 2 ? 2 : 1, hasUltrasound: profile.ultrasound !== undefined, hasPad: profile.thermal !== undefined };
}

function parseSpeed(text: string | undefined): number {
  if (text === undefined) return 1;
  if (text === 'max') return Infinity;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new FaultSpecError(`--speed "${text}": write a factor above 0 (60 = one minute a second) or max`);
  return n;
}

interface RunOpts {
  board: string;
  speed?: string;
  fault: string[];
  seed: string;
  json?: boolean;
  trace?: boolean;
  pins?: string;
  data?: string;
  clearFaults?: boolean;
  patient?: string;
  clinician?: string;
  site?: string;
  notes?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .argument('<protocol>', 'a built-in protocol id (see "modality protocols") or a protocol file (.yaml, .yml, .json)')
    .description('run a protocol as a treatment session on a board (the simulated board by default)')
    .option('--board <board>', 'sim (default), serial:<path> for a board running modality firmware, firmata:<path> for a StandardFirmata bench board', 'sim')
    .option('--speed <factor>', 'simulated board only: run at N× real time, or "max" as fast as possible (hardware always runs in real time)')
    .option('--fault <spec>', 'simulated board only: inject a fault; repeat for several (see below)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--seed <n>', 'seed for the simulated board (boot clock, line noise)', '1')
    .option('--json', 'print one JSON event per line; the last line is the summary')
    .option(
      '--trace',
      'print every frame on the link to stderr: decoded with its bytes (modality boards), or the Firmata bytes in hex and the pin writes (firmata:)',
    )
    .option('--pins <file>', 'firmata boards: the pin map (default profiles/firmata-pins.json)')
    .option('--clear-faults', 'hardware: acknowledge faults the board latched before this session (after you have removed their cause)')
    .option('--patient <id>', 'the patient identifier, for the treatment record')
    .option('--clinician <name>', 'who gives the treatment, for the record')
    .option('--site <text>', 'body site and side, e.g. "upper trapezius, left"')
    .option('--notes <text>', 'clinical notes for the record');
  addProfileOption(cmd);
  addDataOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ modality run tens-conventional                       live session on the simulated board, real time
  $ modality run upper-back-heat-us-tens --speed 60      the same at 60× (one minute a second)
  $ modality run us-1mhz-thermal --speed max --json      machine-readable events, as fast as possible
  $ modality run tens-conventional --speed max --fault lead-off@5m+30s
  $ modality run my-protocol.yaml --board serial:/dev/ttyACM0
  $ modality run examples/tens-10s.yaml --board firmata:/dev/ttyUSB0

${KEY_HELP}

${FAULT_SPEC_HELP}

With --json each line is one event: session, phase (with board-clock times),
applied (set-points as the board applied them), telemetry (at most once a
second), fault, action; the last line is the summary:
  {"type":"summary","outcome":"completed|stopped|faulted","delivered":[...],"faults":[...],"link":{...}}

Every run is written, as it happens, to the treatment records in --data (see
"modality history", "modality report"); a run cannot start if the records
database cannot be opened.

SIGINT, SIGTERM and SIGHUP stop the session like the Stop key (ramp down,
outputs off, recorded as stopped with the signal as the reason); a second one
is an emergency stop. A closed stdout does not end the session.

Exit codes: 0 completed, 3 stopped, 4 faulted, 2 bad input, 1 internal error.`,
  );

  cmd.action(async (protocolArg: string, opts: RunOpts, command: Command) => {
    const profile = profileFrom(command);
    const resolved = resolveProtocol(protocolArg, profile);
    if (!resolved.ok) {
      for (const i of resolved.errors) io().err(formatIssue(i));
      io().err(`modality: ${protocolArg} cannot run: fix the errors above`);
      throw new CliExit(EXIT.badInput);
    }
    let board: BoardSpec;
    let speed: number;
    let faults: FaultSpec[];
    try {
      board = parseBoardSpec(opts.board);
      speed = parseSpeed(opts.speed);
      faults = opts.fault.map(parseFaultSpec);
      if (board.kind !== 'sim' && opts.speed !== undefined)
        throw new FaultSpecError('--speed works only with the simulated board: real hardware always runs in real time');
      if (board.kind !== 'sim' && faults.length > 0)
        throw new FaultSpecError('--fault works only with the simulated board; on hardware, pull a lead or press the stop button');
      if (!/^\d+$/.test(opts.seed)) throw new FaultSpecError(`--seed "${opts.seed}" must be a whole number`);
      const problems = checkFaultSpecs(faults, resolved.plan.totalMs, simBoardFor(profile), formatMs);
      if (problems.length > 0) throw new FaultSpecError(problems.join('\nmodality: '));
    } catch (e) {
      if (e instanceof FaultSpecError || e instanceof BoardSpecError) {
        io().err(`modality: ${e.message}`);
        throw new CliExit(EXIT.badInput);
      }
      throw e;
    }
    const context = SessionContextSchema.safeParse({ patient: opts.patient, clinician: opts.clinician, site: opts.site, notes: opts.notes });
    if (!context.success) {
      io().err(`modality: ${context.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
      throw new CliExit(EXIT.badInput);
    }
    const records = openStoreOrExit(opts.data);
    const summary = await runWithOutput(resolved.plan, board, {
      records,
      context: context.data,
      injected: opts.fault,
      speed,
      simBoard: simBoardFor(profile),
      faults,
      seed: Number(opts.seed),
      json: !!opts.json,
      trace: !!opts.trace,
      clearFaults: !!opts.clearFaults,
      ...(opts.pins ? { pins: opts.pins } : {}),
      ...(profile.tens ? { profileMaxMa: profile.tens.maxAmplitudeMa } : {}),
    });
    throw new CliExit(RUN_EXIT[summary.outcome]);
  });
}

interface OutputOpts {
  records: RecordStore;
  context: SessionContext;
  injected: string[];
  speed: number;
  faults: FaultSpec[];
  seed: number;
  json: boolean;
  trace: boolean;
  clearFaults: boolean;
  pins?: string;
  profileMaxMa?: number;
  simBoard: BoardOpenOptions['simBoard'];
}

/** Open the board, run the session on it (src/engine/run-session.ts), and show it: live panel, plain lines or JSON; the record as it happens. */
async function runWithOutput(plan: Plan, spec: BoardSpec, o: OutputOpts): Promise<Summary> {
  const interactive = !o.json && process.stdout.isTTY === true && process.stdin.isTTY === true;
  const view = new SessionView(plan);
  const panel = interactive ? new LivePanel(view) : null;
  // The treatment record: every event as it happens, the summary at the end.
  const record = o.records.begin(plan, boardSpecText(spec), {
    context: o.context,
    run: { speed: o.speed, injectedFaults: o.injected },
    onError: (m) => io().err(`modality: ${m}; the session goes on`),
  });
  const onEvent = (e: RunEvent) => {
    record.event(e);
    if (o.json) {
      if (e.type !== 'summary') io().out(JSON.stringify(e));
      return;
    }
    view.update(e);
    if (!interactive) {
      const l = plainLine(e);
      if (l) io().out(l);
    }
  };
  const stops = interrupts();
  let send: ((e: SessionEvent) => void) | null = null;
  const keys = interactive ? attachKeys((e) => send?.(e), stops.interrupt) : () => undefined;
  let lastDraw = 0;
  const tick = () => {
    if (panel && performance.now() - lastDraw > 100) {
      lastDraw = performance.now();
      panel.draw();
    }
  };
  let summary: Summary;
  let ran = false;
  try {
    const clock = clockFor(spec);
    const opened = await openBoard(spec, clock, {
      seed: o.seed,
      faults: o.faults,
      simBoard: o.simBoard,
      pins: o.pins,
      ...(o.trace ? traceOptions() : {}),
    });
    try {
      if (opened.warning) io().err(`modality: ${opened.warning}`);
      if (o.clearFaults && opened.board.latchedFaults().length > 0) io().err(`modality: ${(await clearLatchedFaults(opened.board, clock)).message}`);
      ({ summary } = await runSession({
        plan,
        board: opened.board,
        clock,
        onEvent,
        speed: o.speed,
        profileMaxMa: o.profileMaxMa,
        atZero: () => opened.sim?.arm(o.faults),
        onStart: (run) => {
          send = (e) => run.send(e);
          stops.attach(send);
        },
        onTick: interactive ? tick : undefined,
      }));
    } finally {
      await opened.close();
    }
    ran = true;
  } catch (e) {
    if (e instanceof ConnectError) {
      io().err(`modality: ${e.message.split('\n').join(' ')}`);
      throw new CliExit(EXIT.badInput);
    }
    throw e;
  } finally {
    keys();
    stops.detach();
    if (!ran) {
      record.interrupted();
      o.records.close();
    }
  }
  record.finish(summary);
  o.records.close();
  panel?.draw();
  if (o.json) io().out(JSON.stringify(summary));
  else {
    for (const l of summaryLines(summary)) io().out(l);
    if (record.id !== null) io().out(`Record: session ${record.id} (modality report ${record.id})`);
  }
  return summary;
}
