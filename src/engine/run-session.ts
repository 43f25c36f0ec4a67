/**
 * One whole session on an open board, on the board's clock: start it, let it
 * run to its end, collect the board's last reports, summarise. On a virtual
 * clock (the simulated board) the session runs as fast as the queue empties, or
 * paced at `speed` against the wall clock; on the real clock (hardware) it
 * waits in real time. `modality run` and simulateSession (sim/harness.ts) both
 * run sessions through here; the cart runs its own, many on one board.
 */
import { paceVirtualClock, VirtualClock, type Clock } from '../clock.js';
import type { Board } from '../drivers/board.js';
import type { Plan } from '../protocol/index.js';
import type { RunEvent, Summary } from './events.js';
import { SessionRun } from './session-runner.js';

export interface RunSessionOptions {
  plan: Plan;
  board: Board;
  clock: Clock;
  onEvent?: ((e: RunEvent) => void) | undefined;
  profileMaxMa?: number | undefined;
  /** Telemetry lines at most this often in the event stream. */
  telemetryEveryMs?: number | undefined;
  /** Virtual clocks: the speed against the wall clock; Infinity (the default) runs as fast as possible. */
  speed?: number | undefined;
  /** Called at the session's zero, just before it starts (the simulated board arms injected faults from here). */
  atZero?: (() => void) | undefined;
  /** Called once the session has started (clinician keys, signals, tests' scheduled events). */
  onStart?: ((run: SessionRun) => void) | undefined;
  /** Called between slices of time while the session runs: a live display redraws, keys get through. */
  onTick?: (() => void) | undefined;
  /** After the session ends, keep the clock running this long to collect the board's last reports (default 1 s). */
  drainMs?: number | undefined;
  /** Virtual clocks: keep running until this long after the start, even after the session ends. */
  holdMs?: number | undefined;
  /**
   * The machines' timers: 'board' runs them on the board's time (BoardTimeClock: a board whose clock
   * runs slow is not judged by the host's), 'clock' on `clock` itself. Default: 'board' on the real
   * clock (hardware), 'clock' on a virtual one (the simulated board).
   */
  machineTime?: 'clock' | 'board' | undefined;
}

/** Real time between checks of a session on hardware. */
const POLL_MS = 50;
const DEFAULT_DRAIN_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSession(o: RunSessionOptions): Promise<{ summary: Summary; run: SessionRun }> {
  const { board, clock } = o;
  const run = new SessionRun({
    plan: o.plan,
    board,
    clock,
    machineTime: o.machineTime ?? (clock instanceof VirtualClock ? 'clock' : 'board'),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    ...(o.profileMaxMa !== undefined ? { profileMaxMa: o.profileMaxMa } : {}),
    ...(o.telemetryEveryMs !== undefined ? { telemetryEveryMs: o.telemetryEveryMs } : {}),
  });
  const start = clock.now();
  o.atZero?.();
  run.start();
  if (board.info.timing === 'host')
    run.recorder.note('reduced-guarantees', board.boardNow(), { timing: 'host', lease: 'host-emulated', limits: 'host only', note: 'Firmata bench board' });
  o.onStart?.(run);
  try {
    if (clock instanceof VirtualClock) {
      const speed = o.speed ?? Infinity;
      if (speed === Infinity && !o.onTick) clock.runWhile(() => !run.isFinished());
      else
        await paceVirtualClock(clock, speed, () => {
          o.onTick?.();
          return run.isFinished();
        });
      clock.advance(o.drainMs ?? DEFAULT_DRAIN_MS);
      if (o.holdMs !== undefined && clock.now() < start + o.holdMs) clock.runUntil(start + o.holdMs);
    } else {
      while (!run.isFinished()) {
        o.onTick?.();
        await sleep(POLL_MS);
      }
      await sleep(o.drainMs ?? DEFAULT_DRAIN_MS); // the board's last reports
    }
    return { summary: run.summary(), run };
  } finally {
    run.stop();
  }
}

/**
 * `--clear-faults`: the technician's explicit acknowledgement of faults the
 * board latched before this session. Resolves with what happened, in words.
 */
export async function clearLatchedFaults(board: Board, clock: Clock, timeoutMs = 2000): Promise<{ cleared: boolean; message: string }> {
  const before = board.latchedFaults();
  const outcome = await new Promise<string>((resolve) => {
    const timer = clock.setTimeout(() => {
      off();
      resolve('the board did not answer the CLEAR');
    }, timeoutMs);
    const off = board.subscribe((e) => {
      if (e.type === 'refused' && e.command.startsWith('CLEAR')) {
        clock.clearTimeout(timer);
        off();
        resolve(`the board refused to clear (${e.status}): the cause is still there`);
      }
      if (e.type === 'telemetry' && e.telemetry.faults.length === 0) {
        clock.clearTimeout(timer);
        off();
        resolve('ok');
      }
    });
    board.clear('all');
  });
  if (outcome === 'ok') return { cleared: true, message: `cleared the faults the board had latched: ${before.join(', ')}` };
  return { cleared: false, message: `${outcome}; latched: ${board.latchedFaults().join(', ')}` };
}
