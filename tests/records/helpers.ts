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
 * `modality sim --pty` in its own process (a stall of the caller does not stall the board):
 * resolves with the pty path it prints and the process, for the caller to kill.
 */
export async function startSimPty(): Promise<{ path: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, 'sim', '--pty'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`modality sim exited ${code}`)));
  });
  return { path: line.trim(), proc };
}
