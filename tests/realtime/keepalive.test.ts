/**
 * The lease keeper (src/drivers/keepalive.ts) on a real serial line: the host's
 * event loop is blocked mid-session, as a slow records write or a burst of UI
 * work would block it, while the simulated board runs in another process on a
 * pty. The stall is the stimulus (a loop that blocks this process's event loop); the assertions
 * are on what the board did (its faults, the session's outcome) and on the
 * frames the keeper wrote, never on how long anything took.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/clock.js';
import { SerialBoard } from '../../src/drivers/serial-board.js';
import { Keepalive } from '../../src/drivers/keepalive.js';
import { openSerialTransport, type SerialTransportOptions } from '../../src/drivers/serial-transport.js';
import { HOST_TIMING } from '../../src/drivers/wire/spec.js';
import type { Summary } from '../../src/engine/events.js';
import { SessionRun } from '../../src/engine/session-runner.js';
import { resolveProtocol } from '../../src/protocol/index.js';
import { startSimPty } from '../records/helpers.js';

let sims: ChildProcess[] = [];
afterEach(() => {
  for (const s of sims) s.kill('SIGTERM');
  sims = [];
});

/** `modality sim --pty` in its own process: a stall of this process does not stall the board. */
async function startSim(): Promise<string> {
  const { path, proc } = await startSimPty();
  sims.push(proc);
  return path;
}

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* the host's event loop is stuck, as in a long synchronous write */
  }
}

/** A 10 s TENS session on the pty board; `stallMs` of blocked event loop once the plateau has begun. */
async function sessionWithStall(stallMs: number, transport: SerialTransportOptions = {}): Promise<Summary> {
  const path = await startSim();
  const r = resolveProtocol('examples/tens-10s.yaml');
  if (!r.ok) throw new Error('examples/tens-10s.yaml is invalid');
  const clock = new RealClock();
  const board = await SerialBoard.connect(clock, await openSerialTransport(path, transport), { label: path });
  let stalled = false;
  const run = new SessionRun({
    plan: r.plan,
    board,
    clock,
    onEvent: (e) => {
      // On the first telemetry at the plateau's amplitude: the output is on and the board is holding it.
      if (!stalled && e.type === 'telemetry' && (e.outputs.tens1?.value ?? 0) >= 10) {
        stalled = true;
        setImmediate(() => block(stallMs));
      }
    },
  });
  run.start();
  try {
    while (!run.isFinished()) await new Promise((res) => setTimeout(res, 50));
    expect(stalled).toBe(true);
    return run.summary();
  } finally {
    run.stop();
    await board.close();
  }
}

const faultCodes = (s: Summary) => s.faults.map((f) => f.code);

describe('the lease keeper holds the lease through host stalls, and only those', () => {
  it(`a ${HOST_TIMING.leaseMs * 3} ms stall (three leases) with the keeper: the session completes, frames were repeated`, async () => {
    const s = await sessionWithStall(HOST_TIMING.leaseMs * 3);
    expect(faultCodes(s)).toEqual([]);
    expect(s.outcome).toBe('completed');
    expect(s.link.keepaliveRepeats).toBeGreaterThanOrEqual(5);
    expect(s.link.hostStallMaxMs).toBeGreaterThanOrEqual(HOST_TIMING.leaseMs * 3 - 50);
  });

  it('the same stall without the keeper: the board cuts the output when the lease runs out (HOST_TIMEOUT)', async () => {
    const s = await sessionWithStall(HOST_TIMING.leaseMs * 3, { keepalive: false });
    expect(s.outcome).toBe('faulted');
    expect(faultCodes(s)).toContain('HOST_TIMEOUT');
    expect(s.link.keepaliveRepeats).toBe(0);
  });

  it(`a host stuck past the keeper's cover (${HOST_TIMING.keepaliveCoverMs} ms): the repeats stop and the board cuts the output`, async () => {
    const s = await sessionWithStall(HOST_TIMING.keepaliveCoverMs + HOST_TIMING.leaseMs * 3);
    expect(s.outcome).toBe('faulted');
    expect(faultCodes(s)).toContain('HOST_TIMEOUT');
    // It covered the first 2 s (about one repeat per heartbeat), then let the lease run out.
    expect(s.link.keepaliveRepeats).toBeGreaterThan(0);
    expect(s.link.keepaliveRepeats).toBeLessThanOrEqual(Math.ceil(HOST_TIMING.keepaliveCoverMs / HOST_TIMING.heartbeatMs) + 1);
  });
});

describe('the lease keeper ends with the line', () => {
  async function until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise((res) => setTimeout(res, 20));
  }

  /** A line to `modality sim --pty` with its keeper running; `before`: the keepers running before it. */
  async function keptLine() {
    const { path, proc } = await startSimPty();
    sims.push(proc);
    const before = Keepalive.live();
    const transport = await openSerialTransport(path);
    expect(Keepalive.live()).toBe(before + 1);
    return { proc, before, transport };
  }

  it('a port that goes away by itself (the board unplugged): the host hears it close and the keeper thread exits', async () => {
    const { proc, before, transport } = await keptLine();
    const closed = new Promise<string>((res) => transport.onClose(res));
    transport.onData(() => undefined); // a host always reads the line: a read is what meets the gone device
    transport.write(new Uint8Array([1, 2, 3]), { repeatable: true }); // something it could repeat
    await until(() => (transport.hostStats?.().keepaliveRepeats ?? 0) >= 2); // the keeper has the line and is repeating
    proc.kill('SIGKILL'); // the pty's other end is gone, as a USB board pulled out
    expect(await closed).toBeTruthy();
    await until(() => Keepalive.live() === before);
    await transport.close();
  });

  it('a line the host closes: the keeper thread exits before close() returns', async () => {
    const { before, transport } = await keptLine();
    await transport.close();
    expect(Keepalive.live()).toBe(before);
  });
});
