/**
 * The AVR firmware itself, on simavr, over a pseudo-terminal with serialport and the
 * TS codec: the conformance scenarios of tests/conformance/scenarios.ts.
 *
 * Skips only when the AVR toolchain is absent locally; under CI=true a missing
 * toolchain fails (apt packages: see FIRMWARE_APT_PACKAGES).
 */
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFirmware, FIRMWARE_APT_PACKAGES, FIRMWARE_DIR, toolchainAvailable } from '../../sim/firmware-runner.js';
import { bootFirmware, type BootedFirmware } from './boot.js';
import { scenarios, type BoardUnderTest } from '../conformance/scenarios.js';

const available = toolchainAvailable();
const ci = process.env.CI === 'true';

describe('firmware toolchain', () => {
  it.runIf(ci || available)('is installed (required in CI)', () => {
    expect(available, `AVR toolchain missing: apt-get install -y ${FIRMWARE_APT_PACKAGES.join(' ')}`).toBe(true);
  });
});

describe.runIf(available || ci)('AVR firmware on simavr over a pty', () => {
  beforeAll(async () => {
    await buildFirmware();
  }, 180_000);

  it('builds with at least 25% of the RAM left for the stack, and the worst-case stack fits in it', () => {
    const out = execFileSync('make', ['-s', '-C', FIRMWARE_DIR, 'size'], { encoding: 'utf8' });
    const m = /flash (\d+) \/ 32768 bytes; RAM (\d+) \/ 2048/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(32768);
    expect(Number(m![2])).toBeLessThanOrEqual(1536);
    // -fstack-usage frames over the call graph, with the pulse ISRs that re-enable interrupts nested
    const st = /worst-case stack (\d+) B of (\d+) B free RAM/.exec(out);
    expect(st, out).not.toBeNull();
    expect(Number(st![2])).toBe(2048 - Number(m![2]));
    expect(Number(st![1])).toBeGreaterThan(100); // a real call chain was found (main > mod_tick > ... > send)
    expect(Number(st![1])).toBeLessThanOrEqual(Number(st![2]));
    expect(out).toMatch(/__vector_11 \(re-enables interrupts\)/);
  });

  let running: BootedFirmware | undefined;
  afterEach(async () => {
    const r = running;
    running = undefined;
    await r?.close();
  });

  async function boot(): Promise<BoardUnderTest> {
    running = await bootFirmware();
    return running.under;
  }

  for (const s of scenarios) {
    it(s.name, async () => {
      await s.run(await boot());
    }, 180_000); // a limit, not a measure: the runaway scenario waits out the 20 s watch period of board time, longer on a loaded host
  }
});
