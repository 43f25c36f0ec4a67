/**
 * A running session and what happens around it: signals (Ctrl-C, kill, a
 * dropped SSH session) and a reader that goes away (`| head -2`). Real
 * processes at a finite --speed; every wait is on the session's own clock (the
 * `t` of the events it prints), never on host time, so a loaded machine only
 * makes them slower.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, modality, tmp } from '../records/helpers.js';

interface Ev {
  type: string;
  t?: number;
  phase?: string;
  modality?: string;
  kind?: string;
  outcome?: string;
  stopReason?: string;
  outputs?: Record<string, { value: number | null }>;
  [k: string]: unknown;
}

/** A `modality run --json` process, its events as they come, and a way to wait for one. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'run', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Ev[] = [];
  let buf = '';
  let err = '';
  const waiters: { pred: (e: Ev) => boolean; resolve: (e: Ev) => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      const e = JSON.parse(l) as Ev;
      events.push(e);
      for (const w of [...waiters])
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const waitFor = (pred: (e: Ev) => boolean) =>
    new Promise<Ev>((resolve, reject) => {
      const hit = events.find(pred);
      if (hit) return resolve(hit);
      waiters.push({ pred, resolve });
      void exit.then(() => reject(new Error(`the run ended first; stderr: ${err}`)));
    });
  return { child, events, waitFor, exit, stderr: () => err };
}

const historyOf = (data: string) => {
  const h = modality('history', '--all', '--json', '--data', data);
  expect(h.code, h.err).toBe(0);
  return JSON.parse(h.out) as {
    outcome: string;
    stopReason: string | null;
    elapsedMs: number;
    delivered: { modality: string; plateauMs: number; planned: { plateauMs: number } }[];
  }[];
};

describe("signals stop a running session the way the clinician's Stop does", () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s: ramp down, outputs off, recorded as stopped with the signal, exit 3', async (sig) => {
    const data = tmp();
    const run = start(['tens-conventional', '--speed', '20', '--data', data]);
    await run.waitFor((e) => e.type === 'phase' && e.phase === 'plateau');
    run.child.kill(sig);
    const { code, signal } = await run.exit;
    expect(signal).toBeNull(); // handled, not killed by it
    expect(code, run.stderr()).toBe(3);
    expect(run.stderr()).toContain(`${sig}: stopping the session`);
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    const phases = run.events.filter((e) => e.type === 'phase').map((e) => e.phase);
    expect(phases.slice(-2)).toEqual(['stopping', 'done']);
    // Ramped down by the board over time, not cut: the last set-point is a ramp to 0.
    const applied = run.events.filter((e) => e.type === 'applied' && e['output'] === 'tens1');
    const rampDown = applied.find((e) => e['action'] === 'ramp' && e['value'] === 0)!;
    expect(rampDown['durationMs']).toBeGreaterThan(1000);
    expect(applied.at(-1)).toMatchObject({ value: 0 });
    const summary = run.events.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', outcome: 'stopped', stopReason: sig });
    const lastTelemetry = run.events.filter((e) => e.type === 'telemetry').at(-1)!;
    expect([lastTelemetry.outputs?.['tens1']?.value, lastTelemetry.outputs?.['tens2']?.value]).toEqual([0, 0]); // outputs off on the board's own report
    const [rec] = historyOf(data);
    expect(rec).toMatchObject({ outcome: 'stopped', stopReason: sig });
    expect(rec!.delivered[0]!.plateauMs).toBeGreaterThan(0);
    expect(rec!.delivered[0]!.plateauMs).toBeLessThan(rec!.delivered[0]!.planned.plateauMs);
  });

  it('a second signal while the session ramps down is an emergency stop', async () => {
    const data = tmp();
    // A 60 s ramp-down at real speed: the second signal lands while the first is still being obeyed.
    const run = start(['tests/fixtures/tens-slow-ramp-down.yaml', '--data', data]);
    await run.waitFor((e) => e.type === 'phase' && e.phase === 'plateau');
    run.child.kill('SIGTERM');
    await run.waitFor((e) => e.type === 'phase' && e.phase === 'stopping');
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    expect(code, run.stderr()).toBe(3);
    expect(run.stderr()).toContain('EMERGENCY STOP');
    expect(run.events.at(-1)).toMatchObject({ type: 'summary', outcome: 'stopped', stopReason: 'emergency' });
    expect(run.events.at(-1)!.t ?? 0).toBeLessThan(60_000); // cut, not ramped for a minute
    expect(historyOf(data)[0]).toMatchObject({ outcome: 'stopped', stopReason: 'emergency' });
  });
});

describe('a reader that goes away never ends a session', () => {
  it('`modality run … | head -2`: the session runs to its planned end, the record is complete, no error', async () => {
    const data = tmp();
    const child = spawn(process.execPath, [BIN, 'run', 'examples/tens-10s.yaml', '--speed', '4', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const lines: string[] = [];
    // Read two lines, as head -2 does, then close the pipe: the run's next write meets EPIPE.
    await new Promise<void>((resolve) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        lines.push(...parts);
        if (lines.length >= 2) {
          child.stdout.destroy();
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^session: TENS 10 s/);
    const [rec] = historyOf(data);
    expect(rec!.outcome).toBe('completed');
    expect(rec!.delivered[0]!.plateauMs).toBe(rec!.delivered[0]!.planned.plateauMs);
    expect(rec!.elapsedMs).toBeGreaterThanOrEqual(10_000);
  });
});
