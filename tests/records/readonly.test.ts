/**
 * history, report and export open the records READ ONLY: a backup on a
 * read-only mount can be read, and reading never changes the file. Only `run`
 * writes.
 *
 * What each test proves: the tests run as root in CI, where chmod does not stop
 * a write. So (1) byte-for-byte and mtime checks of the database file show that
 * reading wrote nothing, even where the old code would have written (marking a
 * dead run interrupted); (2) where root can drop to an unprivileged user
 * (setpriv), the commands run as that user against a directory that user
 * cannot write, which is a real read-only directory; as a non-root user chmod
 * alone does the same.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProtocol } from '../../src/protocol/index.js';
import { RecordStore } from '../../src/records/store.js';
import { simulateSession } from '../../sim/harness.js';
import { BIN, modality, steppingClock, tmp } from './helpers.js';

function plan(id: string) {
  const r = resolveProtocol(id);
  if (!r.ok) throw new Error(id);
  return r.plan;
}

/** A data dir with one completed session and one left running by a process that is gone. */
async function records(): Promise<string> {
  const dir = tmp();
  const done = RecordStore.open(dir, { now: steppingClock() });
  const p = plan('examples/tens-10s.yaml');
  const w1 = done.begin(p, 'sim');
  const r = await simulateSession({ plan: p, onEvent: (e) => w1.event(e) });
  w1.finish(r.summary);
  done.close();
  const dead = RecordStore.open(dir, { now: steppingClock('2025-03-04T10:00:00.000Z'), pid: 999_999 });
  const w2 = dead.begin(p, 'sim');
  await simulateSession({
    plan: p,
    onEvent: (e) => {
      if ('t' in e && e.t > 5000) return;
      w2.event(e);
    },
  });
  w2.flush();
  dead.close();
  return dir;
}

const snapshot = (file: string) => ({ bytes: readFileSync(file).toString('base64'), mtimeMs: statSync(file).mtimeMs });

describe('read-only records', () => {
  it('history, report and export write nothing to the database, even where a dead run must show as interrupted', async () => {
    const dir = await records();
    const file = join(dir, 'records.db');
    const before = snapshot(file);
    const h = modality('history', '--all', '--json', '--data', dir);
    expect(h.code, h.err).toBe(0);
    const rows = JSON.parse(h.out) as { id: number; outcome: string }[];
    expect(rows.map((r) => [r.id, r.outcome])).toEqual([
      [2, 'interrupted'],
      [1, 'completed'],
    ]); // shown, not marked
    expect(modality('report', '2', '--data', dir).code).toBe(0);
    expect(modality('export', '1', '--format', 'csv', '--data', dir).code).toBe(0);
    expect(snapshot(file)).toEqual(before);
    // The writer is what marks it, and that does change the file.
    RecordStore.open(dir).close();
    expect(snapshot(file).bytes).not.toBe(before.bytes);
  });

  it('a missing database reads as empty and is not created', () => {
    const dir = join(tmp(), 'never-written');
    const h = modality('history', '--all', '--data', dir);
    expect(h.code).toBe(0);
    expect(h.out).toContain('No treatment records yet.');
    expect(existsSync(dir)).toBe(false);
  });

  it('a copy in a directory the user cannot write (a read-only backup) can be read', async (ctx) => {
    const src = await records();
    RecordStore.open(src).close(); // checkpointed, as a backup would be: no -wal beside it
    const dir = tmp('modality-backup-');
    cpSync(join(src, 'records.db'), join(dir, 'records.db'));
    chmodSync(join(dir, 'records.db'), 0o444);
    chmodSync(dir, 0o555);
    const asRoot = process.getuid?.() === 0;
    const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
    if (asRoot && !hasSetpriv) {
      if (process.env['CI'] === 'true') throw new Error('running as root without setpriv: cannot test a directory the user cannot write');
      ctx.skip();
    }
    // As root, run the CLI as "nobody": the directory is then really read-only for it.
    const run = (...args: string[]) => {
      const r = asRoot
        ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
            encoding: 'utf8',
            env: { ...process.env, HOME: '/tmp' },
          })
        : spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const before = snapshot(join(dir, 'records.db'));
    const h = run('history', '--all', '--data', dir);
    expect(h.err).toBe('');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/1 {2}tens-10s .* completed/);
    expect(h.out).toMatch(/2 {2}tens-10s .* interrupted/);
    const rep = run('report', '1', '--data', dir);
    expect(rep.code, rep.err).toBe(0);
    expect(rep.out).toContain('<!DOCTYPE html>');
    const csv = run('export', '2', '--format', 'csv', '--data', dir);
    expect(csv.code, csv.err).toBe(0);
    expect(csv.out.split('\n')[0]).toMatch(/^session_id,seq,t_ms/);
    expect(readdirSync(dir)).toEqual(['records.db']); // no -wal, no -shm: nothing was created
    expect(snapshot(join(dir, 'records.db'))).toEqual(before);
    chmodSync(dir, 0o755);
  });
});
