/** Test helpers for the cart: the real `modality cart` process on a free port, and Debian's Chromium through playwright-core. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

export const BIN = new URL('../../bin/modality.js', import.meta.url).pathname;
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Browser tests skip only when chromium is absent, and never under CI=true (there they fail). */
export const haveChromium = existsSync(CHROMIUM);
export const skipBrowser = !haveChromium && process.env['CI'] !== 'true';

export interface Cart {
  url: string;
  proc: ChildProcess;
  data: string;
  out: () => string;
  err: () => string;
  stop: () => Promise<number | null>;
}

export function tmpData(): string {
  return mkdtempSync(join(tmpdir(), 'modality-cart-'));
}

/** Start `modality cart` (port 0: the OS picks) and wait for the address it prints. */
export async function startCart(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Cart> {
  const data = args.includes('--data') ? args[args.indexOf('--data') + 1]! : tmpData();
  const proc = spawn(process.execPath, [BIN, 'cart', '--port', '0', ...(args.includes('--data') ? [] : ['--data', data]), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '',
    err = '';
  proc.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  proc.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /serving (http:\/\/\S+?)\/? \(/.exec(out);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => reject(new Error(`modality cart exited (${code}): ${err.trim()}`)));
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return {
    url,
    proc,
    data,
    out: () => out,
    err: () => err,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** JSON API calls the way a test (not the page) makes them. */
export async function call<T = unknown>(
  cart: { url: string },
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; data: T }> {
  const r = await fetch(
    `${cart.url}${path}`,
    body === undefined ? { headers } : { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
  );
  const text = await r.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, data: data as T };
}
