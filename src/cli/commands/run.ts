/** `modality run <id|file>`: run a protocol as a session on a board. */
import type { Command } from 'commander';
import { RealClock } from '../../clock.js';
import type { Board } from '../../drivers/board.js';
import { ConnectError } from '../../drivers/board.js';
import { SerialBoard } from '../../drivers/serial-board.js';
import { openSerialTransport } from '../../drivers/serial-transport.js';
import type { Message } from '../../drivers/wire/messages.js';
import { STATUS } from '../../drivers/wire/spec.js';
import type { RunEvent, Summary } from '../../engine/recorder.js';
import { SessionRun } from '../../engine/session-runner.js';
import type { SessionEvent } from '../../machines/session.machine.js';
import { formatIssue, resolveProtocol, type DeviceProfile, type Plan } from '../../protocol/index.js';
import { checkFaultSpecs, FAULT_SPEC_HELP, FaultSpecError, parseFaultSpec, type FaultSpec } from '../../../sim/faults.js';
import type { SimBoardOptions } from '../../../sim/board.js';
import { simulateSession } from '../../../sim/harness.js';
import { addDataOption, openStoreOrExit } from '../../records/cli.js';
import type { RecordStore } from '../../records/store.js';
import { SessionContextSchema, type SessionContext } from '../../records/context.js';
import { addProfileOption, profileFrom } from '../common.ts';
import { formatMs } from '../../util/time.ts';
import { CliExit, EXIT, io } from '../io.ts';
import { KEY_HELP, LivePanel, SessionView, plainLine, summaryLines } from '../live.ts';

export const RUN_EXIT = { completed: 0, stopped: 3, faulted: 4 } as const;

type BoardSpec = { kind: 'sim' } | { kind: 'serial'; path: string } | { kind: 'firmata'; path: string };

export function parseBoardSpec(text: string): BoardSpec {
  if (text === 'sim') return { kind: 'sim' };
  const m = /^(serial|firmata):(.+)$/.exec(text);
  if (!m) throw new FaultSpecError(`--board "${text}": write sim, serial:<path> (modality firmware) or firmata:<path> (StandardFirmata bench board)`);
  return { kind: m[1] as 'serial' | 'firmata', path: m[2] as string };
}

/** The simulated board is shaped like the cart the profile describes: its TENS channels, head and pad. */
function simBoardFor(profile: DeviceProfile): Required<Pick<SimBoardOptions, 'tensChannels' | 'hasUltrasound' | 'hasPad'>> {
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

interface RunOpts { board: string; speed?: string; fault: string[]; seed: string; json?: boolean; trace?: boolean; pins?: string; data?: string; clearFaults?: boolean; patient?: string; clinician?: string; site?: string; notes?: string }

const STATUS_NAME = Object.fromEntries(Object.entries(STATUS).map(([k, v]) => [v, k]));

function traceLine(dir: 'out' | 'in', msg: Message | null, bytes: Uint8Array, hostMs: number): string {
  const fields = msg ? Object.entries(msg).filter(([k]) => k !== 'type').map(([k, v]) => `${k}=${k === 'status' ? STATUS_NAME[v as number] ?? v : v}`).join(' ') : '';
  const body = `seq ${bytes[1]} ${msg ? `${msg.type} ${fields}` : '(undecodable)'}`;
  const hex = Buffer.from(bytes).toString('hex').replace(/(..)/g, '$1 ').trim();
  return `${dir === 'out' ? '→' : '←'} ${(hostMs / 1000).toFixed(3).padStart(11, '0')} ${body}   ${hex}`;
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
    .option('--trace', 'print every frame on the link to stderr: decoded with its bytes (modality boards), or the Firmata bytes in hex and the pin writes (firmata:)')
    .option('--pins <file>', 'firmata boards: the pin map (default profiles/firmata-pins.json)')
    .option('--clear-faults', 'hardware: acknowledge faults the board latched before this session (after you have removed their cause)')
    .option('--patient <id>', 'the patient identifier, for the treatment record')
    .option('--clinician <name>', 'who gives the treatment, for the record')
    .option('--site <text>', 'body site and side, e.g. "upper trapezius, left"')
    .option('--notes <text>', 'clinical notes for the record');
  addProfileOption(cmd);
  addDataOption(cmd);
  cmd.addHelpText('after', `
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

Exit codes: 0 completed, 3 stopped, 4 faulted, 2 bad input, 1 internal error.`);

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
      if (board.kind !== 'sim' && opts.speed !== undefined) throw new FaultSpecError('--speed works only with the simulated board: real hardware always runs in real time');
      if (board.kind !== 'sim' && faults.length > 0) throw new FaultSpecError('--fault works only with the simulated board; on hardware, pull a lead or press the stop button');
      if (!/^\d+$/.test(opts.seed)) throw new FaultSpecError(`--seed "${opts.seed}" must be a whole number`);
      const problems = checkFaultSpecs(faults, resolved.plan.totalMs, simBoardFor(profile), formatMs);
      if (problems.length > 0) throw new FaultSpecError(problems.join('\nmodality: '));
    } catch (e) {
      if (e instanceof FaultSpecError) { io().err(`modality: ${e.message}`); throw new CliExit(EXIT.badInput); }
      throw e;
    }
    const context = SessionContextSchema.safeParse({ patient: opts.patient, clinician: opts.clinician, site: opts.site, notes: opts.notes });
    if (!context.success) { io().err(`modality: ${context.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`); throw new CliExit(EXIT.badInput); }
    const records = openStoreOrExit(opts.data);
    const summary = await runWithOutput(resolved.plan, board, { records, context: context.data, injected: opts.fault, speed, simBoard: simBoardFor(profile), faults, seed: Number(opts.seed), json: !!opts.json, trace: !!opts.trace, clearFaults: !!opts.clearFaults, ...(opts.pins ? { pins: opts.pins } : {}), ...(profile.tens ? { profileMaxMa: profile.tens.maxAmplitudeMa } : {}) });
    throw new CliExit(RUN_EXIT[summary.outcome]);
  });
}

interface OutputOpts { records: RecordStore; context: SessionContext; injected: string[]; speed: number; faults: FaultSpec[]; seed: number; json: boolean; trace: boolean; clearFaults: boolean; pins?: string; profileMaxMa?: number; simBoard: SimBoardOptions }

type Send = (e: SessionEvent) => void;

/**
 * SIGINT, SIGTERM and SIGHUP (a dropped SSH session) stop the session the way
 * the clinician's Stop does: ramp down, outputs off, the record finished as
 * stopped with the signal as the reason. A second one (or a second Ctrl-C in
 * the live panel) is an emergency stop. A signal before the session has
 * started stops it as soon as it starts. Returns the interrupt function (the
 * panel's Ctrl-C uses it too) and a function that removes the handlers.
 */
function interrupts(): { interrupt: (why: string) => void; attach: (send: Send) => void; detach: () => void } {
  let count = 0;
  let send: Send | null = null;
  let pending: SessionEvent | null = null;
  const deliver = (e: SessionEvent) => { if (send) send(e); else pending = e; };
  const interrupt = (why: string) => {
    count++;
    if (count === 1) {
      io().err(`modality: ${why}: stopping the session (ramping down, outputs off); a second ${why.startsWith('SIG') ? 'signal' : 'Ctrl-C'} is an emergency stop`);
      deliver({ type: 'STOP', reason: why });
    } else {
      io().err(`modality: ${why} again: EMERGENCY STOP`);
      deliver({ type: 'EMERGENCY_STOP' });
    }
  };
  const onSignal = (sig: NodeJS.Signals) => interrupt(sig);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  return {
    interrupt,
    attach: (fn) => { send = fn; if (pending) { const e = pending; pending = null; fn(e); } },
    detach: () => { for (const s of signals) process.off(s, onSignal); },
  };
}

async function runWithOutput(plan: Plan, spec: BoardSpec, o: OutputOpts): Promise<Summary> {
  const interactive = !o.json && process.stdout.isTTY === true && process.stdin.isTTY === true;
  const view = new SessionView(plan);
  const panel = interactive ? new LivePanel(view) : null;
  // The treatment record: every event as it happens, the summary at the end.
  const record = o.records.begin(plan, spec.kind === 'sim' ? 'sim' : `${spec.kind}:${spec.path}`, { context: o.context, run: { speed: o.speed, injectedFaults: o.injected }, onError: (m) => io().err(`modality: ${m}; the session goes on`) });
  const onEvent = (e: RunEvent) => {
    record.event(e);
    if (o.json) { if (e.type !== 'summary') io().out(JSON.stringify(e)); return; }
    view.update(e);
    if (!interactive) { const l = plainLine(e); if (l) io().out(l); }
  };
  const trace = o.trace ? (d: 'out' | 'in', m: Message | null, b: Uint8Array, t: number) => { if (m?.type !== 'TELEMETRY') io().err(traceLine(d, m, b, t)); } : undefined;
  const stops = interrupts();
  const keys = interactive ? attachKeys((e) => send?.(e), stops.interrupt) : () => undefined;
  let send: Send | null = null;
  const started = (fn: Send) => { send = fn; stops.attach(fn); };
  let lastDraw = 0;
  const tick = () => { if (panel && performance.now() - lastDraw > 100) { lastDraw = performance.now(); panel.draw(); } };
  let summary: Summary;
  let ran = false;
  try {
    if (spec.kind === 'sim') {
      const r = await simulateSession({
        plan, faults: o.faults, seed: o.seed, speed: o.speed, onEvent, board: o.simBoard,
        ...(o.profileMaxMa !== undefined ? { profileMaxMa: o.profileMaxMa } : {}),
        ...(trace ? { trace } : {}),
        onStart: ({ run }) => started((e) => run.send(e)),
        ...(interactive ? { onTick: tick } : {}),
      });
      summary = r.summary;
    } else {
      summary = await runOnHardware(plan, spec, o, onEvent, trace, (run) => started((e) => run.send(e)), tick);
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
    if (!ran) { record.interrupted(); o.records.close(); }
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

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim();

async function connectHardware(clock: RealClock, spec: Exclude<BoardSpec, { kind: 'sim' }>, o: OutputOpts, trace: TraceFn | undefined): Promise<Board> {
  if (spec.kind === 'serial') {
    const transport = await openSerialTransport(spec.path);
    try {
      return await SerialBoard.connect(clock, transport, { label: `serial:${spec.path}`, ...(trace ? { trace } : {}) });
    } catch (e) {
      // The open port is what kept a failed connect's process alive: release it.
      await transport.close();
      throw e;
    }
  }
  // Loaded only when asked for: johnny-five is heavy and only bench technicians need it.
  const firmata = await import('../../drivers/firmata-board.js');
  const t = (d: 'out' | 'in', ms: number) => `${d === 'out' ? '→' : '←'} ${(ms / 1000).toFixed(3).padStart(11, '0')}`;
  const board = await firmata.FirmataBoard.connect(clock, {
    path: spec.path, ...(o.pins ? { pins: o.pins } : {}),
    ...(o.trace ? {
      traceBytes: (d: 'out' | 'in', b: Uint8Array, ms: number) => io().err(`${t(d, ms)} firmata   ${hex(b)}`),
      trace: (d: 'out' | 'in', text: string, ms: number) => io().err(`${t(d, ms)} ${text}`),
    } : {}),
  });
  io().err(`modality: ${firmata.FIRMATA_BENCH_WARNING}`);
  return board;
}

type TraceFn = (d: 'out' | 'in', m: Message | null, b: Uint8Array, t: number) => void;

async function runOnHardware(
  plan: Plan, spec: Exclude<BoardSpec, { kind: 'sim' }>, o: OutputOpts, onEvent: (e: RunEvent) => void,
  trace: TraceFn | undefined, onStart: (run: SessionRun) => void, tick: () => void,
): Promise<Summary> {
  const clock = new RealClock();
  const board = await connectHardware(clock, spec, o, trace);
  if (o.clearFaults && board.latchedFaults().length > 0) await clearLatchedFaults(board);
  const run = new SessionRun({ plan, board, clock, machineTime: 'board', onEvent, ...(o.profileMaxMa !== undefined ? { profileMaxMa: o.profileMaxMa } : {}) });
  run.start();
  if (board.info.timing === 'host') run.recorder.note('reduced-guarantees', board.boardNow(), { timing: 'host', lease: 'host-emulated', limits: 'host only', note: 'Firmata bench board' });
  onStart(run);
  try {
    while (!run.isFinished()) { tick(); await new Promise((r) => setTimeout(r, 50)); }
    await new Promise((r) => setTimeout(r, 1000)); // the board's last reports
    return run.summary();
  } finally {
    run.stop();
    await board.close();
  }
}

/** --clear-faults: the technician's explicit acknowledgement of faults latched before this session. */
async function clearLatchedFaults(board: Board): Promise<void> {
  const before = board.latchedFaults();
  const outcome = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => { off(); resolve('the board did not answer the CLEAR'); }, 2000);
    const off = board.subscribe((e) => {
      if (e.type === 'refused' && e.command.startsWith('CLEAR')) { clearTimeout(timer); off(); resolve(`the board refused to clear (${e.status}): the cause is still there`); }
      if (e.type === 'telemetry' && e.telemetry.faults.length === 0) { clearTimeout(timer); off(); resolve('ok'); }
    });
    board.clear('all');
  });
  if (outcome === 'ok') io().err(`modality: cleared the faults the board had latched: ${before.join(', ')}`);
  else io().err(`modality: ${outcome}; latched: ${board.latchedFaults().join(', ')}`);
}

/** Keys for the live panel; returns a function that restores the terminal. */
function attachKeys(send: (e: SessionEvent) => void, interrupt: (why: string) => void): () => void {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  let paused = false;
  const onData = (buf: Buffer) => {
    for (const ch of buf.toString('utf8')) {
      if (ch === 'p') { send({ type: paused ? 'RESUME' : 'PAUSE' }); paused = !paused; }
      else if (ch === '+' || ch === '=') send({ type: 'ADJUST_INTENSITY', deltaMa: 1 });
      else if (ch === '-') send({ type: 'ADJUST_INTENSITY', deltaMa: -1 });
      else if (ch === 's' || ch === 'q') send({ type: 'STOP' });
      else if (ch === 'e' || ch === ' ') send({ type: 'EMERGENCY_STOP' });
      else if (ch === 'a') send({ type: 'ACK_FAULT' });
      else if (ch === '\r' || ch === '\n') send({ type: 'CONTINUE' });
      else if (ch === '\u0003') interrupt('Ctrl-C'); // stop, twice: emergency stop (as SIGINT/SIGTERM/SIGHUP)
    }
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    try { stdin.setRawMode(false); } catch { /* the terminal is gone (SIGHUP) */ }
    stdin.pause();
  };
}
