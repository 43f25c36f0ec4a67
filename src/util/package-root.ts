/**
 * Where modality's own files are (protocols/, profiles/, schema/, the board
 * core's .wasm, the cart's front end): the directory of modality's
 * package.json. Found by walking up from this module, so the same lookup works
 * from the sources in a checkout (src/util/), from the production build
 * (dist/, one bundle) and from an installed package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'modality';

function isOurPackage(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The first directory at or above `from` holding modality's package.json. */
export function findPackageRoot(from: string): string {
  for (let dir = from; ; ) {
    if (isOurPackage(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find ${PACKAGE_NAME}'s package.json above ${from}`);
    dir = up;
  }
}

let root: string | undefined;
/** modality's package directory, looked up once per process. */
export function packageRoot(): string {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return root;
}

/** A path inside modality's package, e.g. `packagePath('profiles', 'default.json')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
