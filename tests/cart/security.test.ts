/** Who may talk to the cart: loopback by default; any other address only with the token, on every request and the WebSocket. */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BIN, call, launch, skipBrowser, startCart, type Cart } from './helpers.js';

const TOKEN = 's3cret-cart-token';

/** Open the event stream; resolves to the first message, or to the HTTP status it was refused with. */
function openEvents(url: string, headers: Record<string, string> = {}): Promise<{ status: number; first?: { type: string } }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/events`, { headers });
    ws.on('message', (m) => {
      resolve({ status: 101, first: JSON.parse(String(m)) });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', () => resolve({ status: 0 }));
  });
}

/** fetch() cannot set Host: a plain request can (as a DNS-rebinding page's browser would). */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: '/api/session', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a cart listening beyond loopback', () => {
  it('refuses to start without a token: one line, exit 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'cart', '--listen', '0.0.0.0', '--port', '0'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, MODALITY_TOKEN: '' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--listen 0\.0\.0\.0 .* --token/);
  });

  let cart: Cart;
  beforeAll(async () => {
    cart = await startCart(['--listen', '127.0.0.2'], { MODALITY_TOKEN: TOKEN });
  });
  afterAll(async () => {
    if (cart) expect(await cart.stop()).toBe(0);
  });

  it('without the token refuses the page, the API and the WebSocket', async () => {
    expect(cart.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    expect((await call(cart, '/')).status).toBe(401);
    expect((await call(cart, '/app.js')).status).toBe(401);
    expect((await call(cart, '/api/session')).status).toBe(401);
    expect((await call(cart, '/api/session/actions', { action: 'emergency-stop' })).status).toBe(401);
    expect((await call(cart, '/?token=wrong-token-value')).status).toBe(401);
    expect((await call(cart, '/api/session', undefined, { authorization: 'Bearer wrong-token-value' })).status).toBe(401);
    expect((await openEvents(cart.url)).status).toBe(401);
  });

  it('with the token (Bearer, or the cookie from ?token=) answers, and the WebSocket streams', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await call(cart, '/api/session', undefined, auth)).status).toBe(200);
    expect((await openEvents(cart.url, auth)).first?.type).toBe('snapshot');
    const r = await fetch(`${cart.url}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await call(cart, '/api/protocols', undefined, { cookie: cookie.split(';')[0]! })).status).toBe(200);
  });

  it('refuses a WebSocket from another site even with the token', async () => {
    expect((await openEvents(cart.url, { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' })).status).toBe(403);
  });

  it.skipIf(skipBrowser)('in a browser: opened once with ?token=, the page and its live connection work', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 480 } });
      const refused = await page.goto(cart.url);
      expect(refused?.status()).toBe(401);
      await page.goto(`${cart.url}/?token=${TOKEN}`);
      expect(new URL(page.url()).search).toBe('');
      await page.getByRole('heading', { name: 'Protocol library' }).waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Emergency stop' }).waitFor({ timeout: 30_000 });
      // Connected: the "Connecting" notice is gone once the snapshot arrived.
      await page.getByText('Connecting to the cart…').waitFor({ state: 'detached', timeout: 30_000 });
    } finally {
      await browser.close();
    }
  });
});

describe('a cart on loopback (the default)', () => {
  let cart: Cart;
  beforeAll(async () => {
    cart = await startCart();
  });
  afterAll(async () => {
    if (cart) expect(await cart.stop()).toBe(0);
  });

  it('answers only to its own name (no DNS rebinding) and refuses posts and WebSockets from other sites', async () => {
    expect((await call(cart, '/api/session')).status).toBe(200);
    expect(await statusWithHost(cart.url, 'evil.example')).toBe(421);
    expect(await statusWithHost(cart.url, `localhost:${new URL(cart.url).port}`)).toBe(200);
    expect((await call(cart, '/api/session/actions', { action: 'acknowledge' }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await openEvents(cart.url, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await openEvents(cart.url, { origin: cart.url })).first?.type).toBe('snapshot');
  });

  it('sends a strict Content-Security-Policy and loads nothing from elsewhere', async () => {
    const r = await fetch(`${cart.url}/`);
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe|https?:/);
    const html = await r.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });

  it('validates every body with zod: one-line JSON errors, never a stack trace', async () => {
    for (const [path, body] of [
      ['/api/session', {}],
      ['/api/session', { protocol: { key: 'tens-conventional' }, context: { patient: 'P' } }],
      ['/api/session/actions', { action: 'dance' }],
      ['/api/session/actions', { action: 'adjust', deltaMa: 500 }],
      ['/api/sim/faults', { fault: 'meteor@1s' }],
    ] as const) {
      const r = await call<{ error: string }>(cart, path, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.data.error).toMatch(/\S/);
      expect(JSON.stringify(r.data)).not.toMatch(/\bat .*\.ts:\d+/);
    }
    expect((await call(cart, '/api/protocols/no-such')).status).toBe(404);
    expect((await call(cart, '/api/history/abc/report')).status).toBe(400);
    expect((await call(cart, '/api/session/actions', { action: 'pause' })).status).toBe(409);
    const bad = await fetch(`${cart.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(bad.status).toBe(400);
  });
});
