/**
 * The live panel as the physiotherapist sees it: `modality run` in a real
 * terminal (a pty), keys pressed, the screen read back.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pty from 'node-pty';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/modality.js', import.meta.url).pathname;
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

describe('modality run in a terminal', () => {
  it('shows the panel, pauses and resumes on p, and stops everything at once on e', async () => {
    const data = mkdtempSync(join(tmpdir(), 'modality-live-'));
    const term = pty.spawn(process.execPath, [BIN, 'run', 'tens-conventional', '--speed', '20', '--data', data], {
      cols: 120,
      rows: 30,
      env: { ...process.env, CI: '' },
    });
    let screen = '';
    term.onData((d) => (screen += d));
    let gone = false;
    const exited = new Promise<number>((resolve) =>
      term.onExit(({ exitCode }) => {
        gone = true;
        resolve(exitCode);
      }),
    );
    // Waits on what the screen shows (the session's own progress), with no host-time bound of its own.
    const waitFor = async (re: RegExp) => {
      while (!re.test(strip(screen))) {
        if (gone) throw new Error(`the run ended before ${re}; screen:\n${strip(screen).slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(/#0 tens\s+plateau\s+25 mA/);
      expect(strip(screen)).toMatch(/step 1 of 1/);
      expect(strip(screen)).toMatch(/electrodes: ch1 1\.2 kΩ/);
      expect(strip(screen)).toMatch(/EMERGENCY STOP/);
      term.write('p');
      await waitFor(/\*\* PAUSED \*\*/);
      await waitFor(/#0 tens\s+paused/);
      screen = '';
      term.write('p');
      await waitFor(/#0 tens\s+(resumed|ramp-up)/);
      term.write('e');
      expect(await exited).toBe(3);
      expect(strip(screen)).toMatch(/outcome: STOPPED \(emergency\)/);
    } finally {
      try {
        term.kill();
      } catch {
        /* already gone */
      }
    }
  }, 40_000);
});
