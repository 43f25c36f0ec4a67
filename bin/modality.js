#!/usr/bin/env node
// modality CLI shim. Runs the production build (dist/, `npm run build`) when it
// is there and not older than the sources; otherwise, in a checkout, loads the
// TypeScript sources through tsx. An installed package has only dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');

/** Newest modification time of any source the build is made from (0 when there are no sources). */
function newestSourceMs() {
  let newest = 0;
  for (const dir of ['src', 'sim']) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    for (const f of readdirSync(base, { recursive: true })) {
      if (typeof f === 'string' && /\.(ts|tsx|json)$/.test(f)) newest = Math.max(newest, statSync(join(base, f)).mtimeMs);
    }
  }
  return newest;
}

function useBuild() {
  if (process.env.MODALITY_FROM_SOURCE === '1' || !existsSync(built)) return false;
  return statSync(built).mtimeMs >= newestSourceMs();
}

try {
  let main;
  if (useBuild()) {
    ({ main } = await import('../dist/cli/main.js'));
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('../src/cli/main.ts'));
  }
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`modality: cannot start: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exitCode = 1;
}
