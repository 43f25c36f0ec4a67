/**
 * The bench technician's path: `modality sim --pty` serves the simulated board on
 * a pseudo-terminal, and `modality run --board serial:<pty>` drives it through
 * serialport, the same driver a real board gets, in real time.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, runTens10sOn, startSimPty } from '../records/helpers.js';

describe('modality sim --pty with the real serialport driver', () => {
  it('runs a 10-second session end to end over the pty', async () => {
    const { path, proc: server } = await startSimPty();
    try {
      expect(path).toMatch(/^\/dev\/pts\/\d+$/);
      const r = await runTens10sOn(path);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const lines = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({ type: 'session', board: { kind: 'simulated', timing: 'board' } });
      const s = lines.at(-1);
      expect(s.outcome).toBe('completed');
      const tens = s.delivered[0];
      // Phase times are the board's own clock, so Pi jitter does not reach them.
      expect(Math.abs(tens.plateauMs - tens.planned.plateauMs)).toBeLessThanOrEqual(1);
      expect(tens.peakMa).toBe(10);
      expect(s.link.framesSent).toBeGreaterThan(50);
    } finally {
      server.kill('SIGTERM');
    }
  }, 40_000);

  it('a fault latched before the session blocks the next run until --clear-faults acknowledges it', async () => {
    const { path, proc: server } = await startSimPty('--fault', 'stop-button@0s');
    try {
      const run = (...extra: string[]) => runTens10sOn(path, ...extra);
      const first = await run();
      expect(first.code).toBe(4);
      const s1 = JSON.parse(first.out.trim().split('\n').at(-1)!);
      expect(s1.faults.find((f: { code: string }) => f.code === 'PRECHECK').message).toContain('STOP_INPUT');
      await new Promise((r) => setTimeout(r, 1200)); // the patient lets go of the button
      const second = await run('--clear-faults');
      expect(second.err).toContain('cleared the faults');
      expect(second.code, second.out.trim().split('\n').at(-1)).toBe(0);
    } finally {
      server.kill('SIGTERM');
    }
  }, 60_000);

  it('sim --pty without --pty explains itself', () => {
    const r = spawnSync(process.execPath, [BIN, 'sim'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--pty');
  });
});
