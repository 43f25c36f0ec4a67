/** A run killed with SIGKILL mid-session leaves a record: interrupted, with what was delivered so far. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, modality, tmp } from './helpers.js';

describe('a session killed mid-way', () => {
  it('is on record as interrupted, with the delivered values up to the last telemetry written', async () => {
    const data = tmp();
    const child = spawn(process.execPath, [BIN, 'run', 'tens-conventional', '--speed', '20', '--json', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastT = 0;
    let buf = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no progress: ${buf.slice(-500)}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        for (const line of buf.split('\n').slice(0, -1)) {
          const e = JSON.parse(line) as { type: string; t?: number };
          if (e.type === 'telemetry') lastT = e.t ?? 0;
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
        // ~2 s of wall time into the session at 20×: 10 s ramp, then the plateau
        if (lastT >= 40_000) { clearTimeout(timer); resolve(); }
      });
      child.on('exit', () => reject(new Error('the run ended by itself')));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const h = modality('history', '--all', '--json', '--data', data);
    expect(h.code).toBe(0);
    const rows = JSON.parse(h.out) as { outcome: string; deliveredAsOfMs: number; elapsedMs: number; endedAt: string | null; delivered: { modality: string; stimulationMs: number; plateauMs: number; planned: { plateauMs: number } }[] }[];
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r.outcome).toBe('interrupted');
    expect(r.endedAt).not.toBeNull();
    const d = r.delivered[0]!;
    expect(d.modality).toBe('tens');
    // Written within about a second (20 s of session time) of the kill, and never more than what the board reported.
    expect(r.deliveredAsOfMs).toBeGreaterThan(15_000);
    expect(r.deliveredAsOfMs).toBeLessThanOrEqual(lastT + 25_000);
    expect(d.stimulationMs).toBeGreaterThan(10_000);
    expect(d.plateauMs).toBeGreaterThan(0);
    expect(d.plateauMs).toBeLessThan(d.planned.plateauMs);
    expect(h.err).toBe('');

    const plain = modality('history', '--all', '--data', data);
    expect(plain.out).toMatch(/interrupted/);
    expect(plain.out).toMatch(/delivered up to \d+:\d+/);
  }, 60_000);
});
