/**
 * A run killed with SIGKILL mid-session leaves a record: interrupted, with what
 * was delivered so far. The kill is timed by the record itself (the test reads
 * the database, read only, until it holds 15 s of delivery), not by how fast
 * --speed paces the session on this host.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RecordStore } from '../../src/records/store.js';
import { BIN, modality, tmp } from './helpers.js';

describe('a session killed mid-way', () => {
  it('is on record as interrupted, with the delivered values up to the last telemetry written', async () => {
    const data = tmp();
    const child = spawn(process.execPath, [BIN, 'run', 'tens-conventional', '--speed', '5', '--json', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    let ended = false;
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, signal) => {
        ended = true;
        resolve(signal);
      }),
    );
    // Wait on the record: once it holds 15 s of delivered session (the 10 s ramp and some plateau), kill.
    let seenAsOf = 0;
    while (seenAsOf < 15_000) {
      if (ended) throw new Error(`the run ended by itself before it was killed: ${out.slice(-300)}`);
      await new Promise((r) => setTimeout(r, 100));
      try {
        const store = RecordStore.open(data, { readonly: true });
        try {
          seenAsOf = store.list()[0]?.deliveredAsOfMs ?? 0;
        } finally {
          store.close();
        }
      } catch {
        /* not created yet */
      }
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Everything the process printed before it died, and the last session time in it.
    const printed = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as { t?: number };
        } catch {
          return {};
        }
      });
    const lastT = Math.max(...printed.map((e) => e.t ?? 0));

    const h = modality('history', '--all', '--json', '--data', data);
    expect(h.code).toBe(0);
    const rows = JSON.parse(h.out) as {
      outcome: string;
      deliveredAsOfMs: number;
      elapsedMs: number;
      endedAt: string | null;
      delivered: { modality: string; stimulationMs: number; plateauMs: number; planned: { plateauMs: number } }[];
    }[];
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r.outcome).toBe('interrupted');
    expect(r.endedAt).not.toBeNull();
    const d = r.delivered[0]!;
    expect(d.modality).toBe('tens');
    // What was on record before the kill is still there; nothing beyond what the session had reached
    // (the record is written before each line is printed: at most the next telemetry, 1 s, ahead).
    expect(r.deliveredAsOfMs).toBeGreaterThanOrEqual(seenAsOf);
    expect(r.deliveredAsOfMs).toBeLessThanOrEqual(lastT + 1000);
    expect(d.stimulationMs).toBeGreaterThan(10_000);
    expect(d.plateauMs).toBeGreaterThan(0);
    expect(d.plateauMs).toBeLessThan(d.planned.plateauMs);
    expect(h.err).toBe('');

    const plain = modality('history', '--all', '--data', data);
    expect(plain.out).toMatch(/interrupted/);
    expect(plain.out).toMatch(/delivered up to \d+:\d+/);
  });
});
