/**
 * The firmware core's C unit tests (firmware-host/host/test_core.c), built with the
 * host gcc and run: framing/CRC, queue scheduling, lease, limits, slew, lead-off,
 * stop input, thermal over-temp and runaway watch, latching, reliable events.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateWireSpecHeader, HEADER_PATH } from '../../firmware-host/gen-wire-spec.js';

const FW = join(import.meta.dirname, '..', '..', 'firmware-host');

describe('firmware core (host build)', () => {
  it('wire_spec.h is generated from spec.ts and committed current', () => {
    expect(readFileSync(HEADER_PATH, 'utf8')).toBe(generateWireSpecHeader());
  });

  it('C unit tests pass', () => {
    let out: string;
    try {
      out = execFileSync('make', ['-s', '-C', FW, 'host-test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`host-test failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    }
    expect(out).toMatch(/\d+ checks, 0 failures/);
  }, 120_000);
});
