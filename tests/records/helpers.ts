import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const BIN = new URL('../../bin/modality.js', import.meta.url).pathname;

export function tmp(prefix = 'modality-records-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Run the CLI as a user would: a real process. */
export function modality(...args: string[]) {
  // The timeout only guards against a hung process (a synchronous spawn cannot be interrupted by the test timeout).
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A deterministic wall clock: each call one second later. */
export function steppingClock(startIso = '2025-03-04T09:00:00.000Z', stepMs = 1000): () => Date {
  let t = Date.parse(startIso) - stepMs;
  return () => new Date((t += stepMs));
}

/**
 * `modality sim --pty [extra…]` in its own process (a stall of the caller does not stall the board):
 * resolves with the pty path it prints and the process, for the caller to kill.
 */
export async function startSimPty(...extra: string[]): Promise<{ path: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, 'sim', '--pty', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`modality sim exited ${code}`)));
  });
  return { path: line.trim(), proc };
}

/** `modality run examples/tens-10s.yaml --board serial:<path> --json [extra…]` as its own process, to its end. */
export function runTens10sOn(path: string, ...extra: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, 'run', 'examples/tens-10s.yaml', '--board', `serial:${path}`, '--json', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}
