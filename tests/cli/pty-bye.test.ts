/**
 * A clean end says goodbye: `modality run` closes the board with BYE, so the board ends
 * the session without latching HOST_TIMEOUT and the next run on the same board starts
 * with no fault (before BYE it needed --clear-faults). Two runs in a row against one
 * `modality sim --pty`, over serialport, in real time.
 */
import { describe, expect, it } from 'vitest';
import { runTens10sOn, startSimPty } from '../records/helpers.js';

describe('modality run says BYE when it ends', () => {
  it('two runs in a row on one board both complete, with no PRECHECK fault and no --clear-faults', async () => {
    const { path, proc: server } = await startSimPty();
    try {
      const run = () => runTens10sOn(path);
      for (const which of ['first', 'second']) {
        const r = await run();
        const s = JSON.parse(r.out.trim().split('\n').at(-1)!);
        expect(r.err, `${which} run: stderr`).toBe('');
        expect(s.faults, `${which} run: faults`).toEqual([]);
        expect(s.outcome, `${which} run`).toBe('completed');
        expect(r.code, `${which} run: exit code`).toBe(0);
        // longer than the board's lease: without BYE the board would have latched HOST_TIMEOUT by now
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      server.kill('SIGTERM');
    }
  }, 90_000);
});
