/** `modality cart` on the command line: bad input is one line and exit 2; the bundle is rebuilt when stale. */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_DIR, bundleStale, ensureBundle, UI_DIR } from '../../src/cart/bundle.js';
import { BIN, startCart } from './helpers.js';

const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, 'cart', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MODALITY_TOKEN: '' } });

describe('modality cart, bad input', () => {
  it.each([
    [['--board', 'usb'], /--board "usb"/],
    [['--board', 'serial:/dev/ttyACM0', '--speed', '60'], /--speed works only with the simulated board/],
    [['--speed', 'fast'], /--speed "fast"/],
    [['--port', '99999'], /--port "99999"/],
    [['--listen', '10.0.0.1'], /needs|--token/],
    [['--token', 'short'], /at least 8 characters/],
  ])('%j: one line, exit 2', (args, message) => {
    const r = run(...(args as string[]), '--port', (args as string[]).includes('--port') ? (args as string[])[(args as string[]).indexOf('--port') + 1]! : '0');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a port in use: one line naming it, exit 2', async () => {
    const first = await startCart();
    try {
      const port = new URL(first.url).port;
      const r = run('--port', port, '--data', first.data);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });
});

describe('the front-end bundle', () => {
  it('is rebuilt when a source is newer than it, and served as built', async () => {
    const out = mkdtempSync(join(tmpdir(), 'modality-bundle-'));
    expect(bundleStale(out)).toBe(true);
    expect((await ensureBundle(out)).built).toBe(true);
    expect(bundleStale(out)).toBe(false);
    expect((await ensureBundle(out)).built).toBe(false);
    // A source touched after the build makes it stale again.
    const src = join(UI_DIR, 'app.tsx');
    const future = new Date(Date.now() + 60_000);
    const copy = join(out, 'app.tsx.bak');
    cpSync(src, copy, { preserveTimestamps: true });
    try {
      utimesSync(src, future, future);
      expect(bundleStale(out)).toBe(true);
    } finally {
      cpSync(copy, src, { preserveTimestamps: true });
    }
    expect(BUNDLE_DIR).toMatch(/dist[/\\]cart$/);
  });
});
