/**
 * Files with one job: no source file in src/ or sim/ over 400 lines, and one
 * import-specifier style (relative imports name the .js file, as Node's ESM
 * resolution and the production build expect). The layering itself is checked
 * by dependency-cruiser (`npm run lint`, .dependency-cruiser.cjs).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MAX_LINES = 400;
/** Files written by a generator, not by hand (none in src/ or sim/ today). */
const GENERATED: readonly string[] = [];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const files = ['src', 'sim'].flatMap((d) => sources(join(ROOT, d))).map((p) => relative(ROOT, p));

describe('source files', () => {
  it('finds the sources', () => {
    expect(files).toContain(join('src', 'drivers', 'board.ts'));
    expect(files.length).toBeGreaterThan(50);
  });

  it(`are at most ${MAX_LINES} lines each (split a longer one along its seams)`, () => {
    const long = files
      .filter((f) => !GENERATED.includes(f))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_LINES)
      .map((x) => `${x.f}: ${x.lines} lines`);
    expect(long).toEqual([]);
  });

  it('import relative modules by their .js name, never .ts', () => {
    const tsSpecifier = /(?:from|import\()\s*['"](\.{1,2}\/[^'"]*\.tsx?)['"]/g;
    const found = ['src', 'sim', 'tests', 'bench', 'scripts']
      .flatMap((d) => sources(join(ROOT, d)))
      .flatMap((p) => [...readFileSync(p, 'utf8').matchAll(tsSpecifier)].map((m) => `${relative(ROOT, p)}: ${m[1]}`));
    expect(found).toEqual([]);
  });
});
