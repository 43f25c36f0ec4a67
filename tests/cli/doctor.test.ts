/**
 * `modality doctor` against the situations a technician meets: the simulated board on a pty
 * (all good), a missing port, a port with no board behind it, a records directory it cannot
 * write, a damaged database. One line per finding; exit 1 when something failed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openPtyPair, serveSimOnPty } from '../../sim/pty.js';

async function doctor(
  ...argv: string[]
): Promise<{ code: number; out: string; err: string; json?: { worst: string; findings: { check: string; level: string; detail: string; fix?: string }[] } }> {
  let out = '';
  let err = '';
  const code = await main(['doctor', ...argv], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err, ...(argv.includes('--json') && code !== 2 ? { json: JSON.parse(out) } : {}) };
}
const level = (r: Awaited<ReturnType<typeof doctor>>, check: string) => r.json?.findings.find((f) => f.check === check);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('modality doctor', () => {
  it('the simulated board on a pty: the board answers, its firmware matches, nothing latched, exit 0', async () => {
    const server = serveSimOnPty();
    cleanups.push(() => server.close());
    const data = mkdtempSync(join(tmpdir(), 'doctor-'));
    const r = await doctor('--board', `serial:${server.path}`, '--data', data, '--json');
    expect(r.code, r.err).toBe(0);
    expect(level(r, 'node')?.level).toBe('OK');
    expect(level(r, 'port')?.level).toBe('OK');
    expect(level(r, 'board')).toMatchObject({ level: 'OK' });
    expect(level(r, 'board')?.detail).toContain('simulated board, firmware 0.3.1, protocol 1');
    expect(level(r, 'firmware')?.level).toBe('OK');
    expect(level(r, 'faults')?.level).toBe('OK');
    expect(level(r, 'data')?.level).toBe('OK');
    // and as text: one line a finding, the level first
    const t = await doctor('--board', `serial:${server.path}`, '--data', data);
    expect(t.out).toMatch(/^OK {4}board {8}simulated board/m);
  }, 30_000);

  it('a latched fault on the board is a warning with what to do', async () => {
    const server = serveSimOnPty();
    cleanups.push(() => server.close());
    server.sim.setStopInput(true);
    await new Promise((r) => setTimeout(r, 50));
    server.sim.setStopInput(false);
    const r = await doctor('--board', `serial:${server.path}`, '--data', mkdtempSync(join(tmpdir(), 'doctor-')), '--json');
    expect(level(r, 'faults')).toMatchObject({ level: 'WARN' });
    expect(level(r, 'faults')?.detail).toContain('STOP_INPUT');
    expect(level(r, 'faults')?.fix).toContain('--clear-faults');
    expect(r.code).toBe(0);
  }, 30_000);

  it('a missing port: FAIL, naming the ports that exist; exit 1', async () => {
    const r = await doctor('--board', 'serial:/dev/ttyNOPE9', '--data', mkdtempSync(join(tmpdir(), 'doctor-')), '--json');
    expect(r.code).toBe(1);
    expect(level(r, 'port')).toMatchObject({ level: 'FAIL' });
    expect(level(r, 'port')?.detail).toMatch(/\/dev\/ttyNOPE9 does not exist; (serial ports present|no serial ports were found)/);
    expect(r.json?.worst).toBe('FAIL');
  });

  it('a port with no board behind it: FAIL within the connect timeout; exit 1', async () => {
    const silent = openPtyPair();
    cleanups.push(() => silent.close());
    const r = await doctor('--board', `serial:${silent.path}`, '--connect-timeout', '500', '--data', mkdtempSync(join(tmpdir(), 'doctor-')), '--json');
    expect(r.code).toBe(1);
    expect(level(r, 'board')).toMatchObject({ level: 'FAIL' });
    expect(level(r, 'board')?.detail).toMatch(/no answer/i);
    expect(level(r, 'board')?.fix).toContain('modality firmware');
  }, 30_000);

  it('a records directory it cannot write: FAIL with what to do', async () => {
    const r = await doctor('--data', '/proc', '--json'); // nothing can be created in /proc, root or not
    expect(r.code).toBe(1);
    expect(level(r, 'data')).toMatchObject({ level: 'FAIL' });
    expect(level(r, 'data')?.detail).toBe('/proc is not writable by this user');
  });

  it('a damaged database: FAIL, restore from backup', async () => {
    const data = mkdtempSync(join(tmpdir(), 'doctor-'));
    writeFileSync(join(data, 'records.db'), 'SQLite format 3\0'.padEnd(4096, 'x'));
    const r = await doctor('--data', data, '--json');
    expect(r.code).toBe(1);
    expect(level(r, 'database')).toMatchObject({ level: 'FAIL' });
    expect(level(r, 'database')?.fix).toContain('backup');
  });

  it('bad arguments: exit 2 and one line', async () => {
    const r = await doctor('--board', 'usb:3');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
