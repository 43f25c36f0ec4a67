/**
 * The production build (`npm run build`): the CLI bundled by esbuild into
 * dist/cli/ (ES modules, split at every dynamic import so a command loads only
 * what it uses; npm packages stay external), and the cart's front end into
 * dist/cart/. bin/modality.js runs dist/ when it is there and not older than
 * the sources; `npm pack` ships dist/ and no TypeScript.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildBundle } from '../src/cart/bundle.js';
import { packageRoot } from '../src/util/package-root.js';

export const DIST_DIR = join(packageRoot(), 'dist');

export async function buildDist(outDir = DIST_DIR): Promise<{ files: number; bytes: number }> {
  rmSync(join(outDir, 'cli'), { recursive: true, force: true });
  const r = await build({
    absWorkingDir: packageRoot(),
    entryPoints: { main: 'src/cli/main.ts' },
    outdir: join(outDir, 'cli'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    chunkNames: 'chunks/[name]-[hash]',
  });
  await buildBundle(join(outDir, 'cart'));
  const outputs = Object.entries(r.metafile.outputs).filter(([f]) => f.endsWith('.js'));
  return { files: outputs.length, bytes: outputs.reduce((n, [, o]) => n + o.bytes, 0) };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { files, bytes } = await buildDist();
  process.stdout.write(`dist/cli: ${files} modules, ${(bytes / 1024).toFixed(0)} KiB; dist/cart: the front end\n`);
}
