/**
 * The front end's bundle: Preact + the screens, bundled by esbuild into
 * dist/cart/ (app.js, app.css, index.html). `npm run build:cart` builds it;
 * `modality cart` builds it on start when it is missing or older than any
 * of its sources (esbuild's metafile lists them), so a fresh clone works
 * and a stale bundle is never served. An installed package (`npm pack`) ships
 * the built bundle without src/cart/ui and serves it as is. Nothing is
 * fetched at run time.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PROJECT_ROOT } from '../protocol/load.js';

export const UI_DIR = join(PROJECT_ROOT, 'src', 'cart', 'ui');
export const BUNDLE_DIR = join(PROJECT_ROOT, 'dist', 'cart');
const INPUTS = 'inputs.json';

/** Write a file so that a reader (a cart serving it, another cart building it) never sees half of it. */
function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export async function buildBundle(outDir = BUNDLE_DIR): Promise<void> {
  const esbuild = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const r = await esbuild.build({
    entryPoints: { app: join(UI_DIR, 'main.tsx') },
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: false,
    target: ['chrome100'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: outDir,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PROJECT_ROOT,
    write: false,
  });
  for (const f of r.outputFiles) writeAtomic(join(outDir, basename(f.path)), f.contents);
  writeAtomic(join(outDir, 'index.html'), readFileSync(join(UI_DIR, 'index.html')));
  const inputs = [...Object.keys(r.metafile.inputs).filter((f) => !f.startsWith('node_modules/')), 'src/cart/ui/index.html'];
  writeAtomic(join(outDir, INPUTS), JSON.stringify(inputs)); // last: the bundle counts as built only when all of it is there
}

/** True when the bundle is missing or any source it was built from changed since. */
export function bundleStale(outDir = BUNDLE_DIR): boolean {
  const list = join(outDir, INPUTS);
  if (!existsSync(list) || !existsSync(join(outDir, 'app.js')) || !existsSync(join(outDir, 'index.html'))) return true;
  // An installed package ships the built front end and not its sources: nothing to compare against.
  if (!existsSync(UI_DIR)) return false;
  const built = statSync(join(outDir, 'app.js')).mtimeMs;
  const inputs = JSON.parse(readFileSync(list, 'utf8')) as string[];
  return inputs.some((f) => {
    const p = join(PROJECT_ROOT, f);
    return !existsSync(p) || statSync(p).mtimeMs > built;
  });
}

/** The bundle directory, built first if needed. */
export async function ensureBundle(outDir = BUNDLE_DIR): Promise<{ dir: string; built: boolean }> {
  if (!bundleStale(outDir)) return { dir: outDir, built: false };
  await buildBundle(outDir);
  return { dir: outDir, built: true };
}
