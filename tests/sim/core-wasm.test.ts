/**
 * The simulated board runs the firmware's own core, compiled to WebAssembly and committed
 * as src/drivers/core/board-core.wasm (so `npm start` needs no clang). This rebuilds it from
 * firmware-host/core/ and fails when the committed module is stale; and checks that
 * sim/ holds no board rules of its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FW = join(ROOT, 'firmware-host');
const haveClang = (() => {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    execFileSync('wasm-ld', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const ci = process.env.CI === 'true';

describe('the simulated board is the firmware core', () => {
  it('clang and wasm-ld are here (CI must rebuild the core)', () => {
    if (ci) expect(haveClang, 'CI=true: clang and lld are required (.ci/run installs them)').toBe(true);
  });

  it.runIf(haveClang || ci)(
    'src/drivers/core/board-core.wasm is built from firmware-host/core and committed current',
    () => {
      const out = join(mkdtempSync(join(tmpdir(), 'modality-wasm-')), 'board-core.wasm');
      execFileSync('make', ['-s', '-C', FW, `WASM_OUT=${out}`, out, `BUILD=${join(out, '..', 'build')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      const fresh = readFileSync(out);
      const committed = readFileSync(join(ROOT, 'src', 'drivers', 'core', 'board-core.wasm'));
      expect(Buffer.compare(fresh, committed), 'src/drivers/core/board-core.wasm is stale: run make -C firmware-host wasm').toBe(0);
    },
    120_000,
  );

  it('the core version in spec.ts is the one the firmware reports (modality.h)', async () => {
    const { CORE_VERSION } = await import('../../src/drivers/wire/spec.js');
    const h = readFileSync(join(FW, 'core', 'modality.h'), 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => Number(new RegExp(`#define MOD_FW_${k} (\\d+)`).exec(h)?.[1]));
    expect(v).toEqual([...CORE_VERSION]);
  });

  it('sim/ holds no limit, latch or queue logic of its own (no limit table, status or fault codes)', () => {
    for (const f of readdirSync(join(ROOT, 'sim')).filter((n) => n.endsWith('.ts') && n !== 'firmata-board.ts' && n !== 'firmata-pty.ts')) {
      const text = readFileSync(join(ROOT, 'sim', f), 'utf8');
      expect(text, `${f} uses BOARD_LIMITS`).not.toMatch(/BOARD_LIMITS/);
      expect(text, `${f} uses STATUS codes`).not.toMatch(/\bSTATUS\./);
      expect(text, `${f} latches FAULT codes`).not.toMatch(/\bFAULT\.[A-Z_]+/);
    }
  });
});
