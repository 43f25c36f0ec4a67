import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 *  - unit: everything on a virtual clock or in process (the engine, drivers
 *    against the simulated boards, records, `--speed max` CLI runs). No
 *    wall-clock bounds; runs in parallel.
 *  - realtime: tests that need real time to pass (simavr firmware over a pty,
 *    serialport/pty links, signals and pipes to a running `modality run`, the
 *    live panel in a terminal). They wait on the board's or the session's own
 *    clock, never on nominal host time, and run after the unit project, one
 *    file at a time, so a loaded 2-core machine slows them down but does not
 *    break them.
 * Speed and timing figures are measured by `npm run bench`, not here.
 */
const REALTIME = [
  'tests/realtime/**/*.test.ts',
  'tests/firmware/pty.test.ts',
  'tests/firmware/e2e.test.ts',
  'tests/firmware/tens-pulses.test.ts',
  'tests/firmware/stop-record.test.ts',
  'tests/cli/doctor.test.ts',
  'tests/cli/pty.test.ts',
  'tests/cli/pty-bye.test.ts',
  'tests/cli/firmata-run.test.ts',
  'tests/cli/live.test.ts',
  'tests/records/kill.test.ts',
];

export default defineConfig({
  test: {
    // Every `modality run` a test starts without --data writes here, never into the
    // user's own records (~/.local/share/modality), which may belong to another version.
    env: { MODALITY_DATA: mkdtempSync(join(tmpdir(), 'modality-test-records-')) },
    // Process- and simavr-based tests on a loaded 2-core machine: the default 5 s is not a fair limit.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: REALTIME },
      },
      {
        extends: true,
        test: {
          name: 'realtime',
          include: REALTIME,
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
