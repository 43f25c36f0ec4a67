/**
 * The production build as a clinic installs it: `npm pack` of a tree holding
 * dist/ (built here from this checkout's sources, into a temp copy so the
 * checkout's own dist/ is never touched while other tests run bin/modality.js),
 * installed with `npm install -g` into a temp prefix, then run.
 *
 * npm installs from its cache where it can (--prefer-offline; a clean CI machine has only
 * what npm ci fetched, and needs the registry for the package documents). Native addons: install scripts are
 * skipped and better-sqlite3's and node-pty's compiled addons are copied from
 * this checkout's node_modules (same Node ABI), because compiling them again
 * takes minutes on a 2-core machine; everything else is the real install.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../scripts/build.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  files: string[];
  dependencies: Record<string, string>;
};

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: 300_000 });
  if (r.error) throw r.error;
  return r;
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => join(dir, f));
}

describe('npm pack → npm install -g → modality', () => {
  const work = mkdtempSync(join(tmpdir(), 'modality-pack-'));
  const tree = join(work, 'tree');
  const prefix = join(work, 'prefix');
  const data = join(work, 'data');
  let installed = '';
  let bin = '';

  beforeAll(async () => {
    mkdirSync(tree);
    cpSync(join(ROOT, 'package.json'), join(tree, 'package.json'));
    for (const f of PKG.files) if (f !== 'dist/' && existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(tree, f), { recursive: true });
    await buildDist(join(tree, 'dist'));
    const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: tree });
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    const inst = sh('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tgz]);
    expect(inst.status, inst.stderr).toBe(0);
    installed = join(prefix, 'lib', 'node_modules', PKG.name);
    for (const addon of ['better-sqlite3', 'node-pty']) {
      cpSync(join(ROOT, 'node_modules', addon, 'build', 'Release'), join(installed, 'node_modules', addon, 'build', 'Release'), { recursive: true });
    }
    bin = join(prefix, 'bin', 'modality');
  }, 300_000);

  it('ships the build and no TypeScript: no .ts sources, no tsx, no typescript, no esbuild', () => {
    const shipped = filesUnder(installed).filter((f) => !f.includes(`${PKG.name}/node_modules/`));
    expect(shipped.some((f) => f.endsWith(join('dist', 'cli', 'main.js')))).toBe(true);
    expect(shipped.some((f) => f.endsWith(join('dist', 'cart', 'app.js')))).toBe(true);
    expect(shipped.some((f) => f.endsWith('board-core.wasm'))).toBe(true);
    expect(shipped.filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    for (const dev of ['tsx', 'typescript', 'esbuild', 'vitest']) expect(existsSync(join(installed, 'node_modules', dev)), dev).toBe(false);
  });

  it('what the entry module loads before any command (its static imports, followed through the chunks) is commander and Node built-ins only', () => {
    const packages = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      // Static imports only: `import … from "x"` and `import "x"`; a dynamic import() is what a command loads when it runs.
      for (const m of text.matchAll(/^import\b(?:[^;]*?from\s*)?"([^"]+)"/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(join(file, '..', spec));
        else packages.add(spec);
      }
    };
    visit(join(installed, 'dist', 'cli', 'main.js'));
    expect(packages.has('commander')).toBe(true);
    expect([...packages].filter((p) => p !== 'commander' && !p.startsWith('node:'))).toEqual([]);
  });

  it('modality --help runs from the installed package', () => {
    const r = sh(bin, ['--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: modality/);
    expect(r.stdout).toContain('run [options] <protocol>');
  });

  it('a --speed max session on the simulated board completes and writes its record', () => {
    const r = sh(bin, ['run', 'tens-conventional', '--speed', 'max', '--json', '--data', data]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { type: string; outcome: string };
    expect(summary).toMatchObject({ type: 'summary', outcome: 'completed' });
    // A simulated session is recorded as a simulation: `history --all` lists it.
    const history = sh(bin, ['history', '--all', '--json', '--data', data]);
    expect(history.status).toBe(0);
    expect((JSON.parse(history.stdout) as { protocol: { id: string } }[]).map((s) => s.protocol.id)).toEqual(['tens-conventional']);
  });

  it('the cart serves its front end from the shipped bundle', async () => {
    const { spawn } = await import('node:child_process');
    const proc = spawn(bin, ['cart', '--board', 'sim', '--port', '0', '--data', join(work, 'cart-data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        proc.stdout!.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /serving (http:\/\/\S+?)\/? \(/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.on('exit', (code) => reject(new Error(`modality cart exited (${code}): ${out}`)));
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('app.js');
      expect((await fetch(`${url}/app.js`)).status).toBe(200);
    } finally {
      proc.kill('SIGTERM');
    }
  });
});
