/**
 * Issue 5's done-when: `modality run <file> --board firmata:<pty>` completes a
 * 10-second TENS protocol against the simulated StandardFirmata board, with the
 * pin writes checked on the wire.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { serveFirmataOnPty } from '../../sim/firmata-pty.js';
import { loadFirmataPins } from '../../src/drivers/firmata-pins.js';

const BIN = new URL('../../bin/modality.js', import.meta.url).pathname;

describe('modality run --board firmata:<pty>', () => {
  it('completes a 10 s TENS protocol; the amplitude pin ramps up and back to zero', async () => {
    const server = serveFirmataOnPty();
    try {
      const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn(process.execPath, [BIN, 'run', 'examples/tens-10s.yaml', '--board', `firmata:${server.path}`, '--json'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '',
          err = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (err += d));
        c.on('exit', (code) => resolve({ code, out, err }));
      });
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain('for the bench only');
      expect(r.err).not.toMatch(/\n\s+at /);
      const lines = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({ type: 'session', board: { kind: 'firmata', timing: 'host' } });
      expect(lines.some((l) => l.type === 'action' && l.kind === 'reduced-guarantees')).toBe(true);
      const summary = lines.at(-1);
      expect(summary.outcome).toBe('completed');
      // The wire: PWM writes on the channel-1 amplitude pin rise, hold, and end at 0.
      const pins = loadFirmataPins();
      const pin = pins.tens[0]!.pin;
      const pwm = server.board.writes.filter((w) => w.pin === pin && w.kind === 'pwm').map((w) => w.value);
      const peak = Math.max(...pwm);
      expect(peak).toBeGreaterThan(0);
      const rising = pwm.slice(0, pwm.indexOf(peak) + 1).filter((v, i, a) => i > 0 && v > a[i - 1]!);
      expect(rising.length).toBeGreaterThan(3); // a ramp, not a jump
      expect(pwm.at(-1)).toBe(0);
    } finally {
      await server.close();
    }
  }, 40_000);
});
