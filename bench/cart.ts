/**
 * `npm run bench -- cart`: the cart's front end in Chromium against the real
 * `modality cart --board sim --speed 10`:
 * - board telemetry → on-screen update latency: a WebSocket client in this
 *   process notes when each progress message (sent right after each telemetry
 *   event) leaves the server; the page notes when the countdown shows it (the
 *   frame after the DOM changed). Both on this machine's wall clock.
 * - the server's RSS during a session (/proc/<pid>/status);
 * - page load (navigation → library shown) and reconnect (reload mid-session → countdown shown).
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { launch, startCart } from '../tests/cart/helpers.js';
import { startViaApi, untilIdle } from '../tests/cart/session-helpers.js';
import { median, percentile } from './stats.js';

export interface CartFigures {
  latencyP50Ms: number;
  latencyP99Ms: number;
  samples: number;
  rssMedianMiB: number;
  rssMaxMiB: number;
  loadMedianMs: number;
  reconnectMedianMs: number;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function benchCart(seconds = 30): Promise<CartFigures> {
  const cart = await startCart(['--board', 'sim', '--speed', '10']);
  const browser = await launch();
  try {
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage({ viewport: { width: 800, height: 480 } });
      await page.goto(cart.url);
      loads.push(await page.waitForFunction(() => (document.querySelector('.cards') ? performance.now() : 0)).then((h) => h.jsonValue()));
      await page.close();
    }
    const sent = new Map<number, number>();
    const ws = new WebSocket(`${cart.url.replace('http', 'ws')}/api/events`);
    ws.on('message', (m) => {
      const e = JSON.parse(String(m));
      if (e.type === 'progress') sent.set(e.remainingMs, Date.now());
    });
    await new Promise((r) => ws.once('open', r));
    await startViaApi(cart, 'tens-conventional');
    const page = await browser.newPage({ viewport: { width: 800, height: 480 } });
    await page.goto(`${cart.url}/#/session`);
    await page.waitForSelector('.countdown');
    await page.evaluate(() => {
      const w = window as unknown as { shown: [number, number][] };
      w.shown = [];
      const el = document.querySelector('.countdown')!;
      new MutationObserver(() => {
        const ms = Number(el.getAttribute('data-ms'));
        requestAnimationFrame(() => w.shown.push([ms, Date.now()]));
      }).observe(el, { attributes: true, attributeFilter: ['data-ms'] });
    });
    const rss: number[] = [];
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      rss.push(rssMiB(cart.proc.pid!));
      await new Promise((r) => setTimeout(r, 250));
    }
    const shown = await page.evaluate(() => (window as unknown as { shown: [number, number][] }).shown);
    const lat = shown.flatMap(([ms, at]) => (sent.has(ms) ? [at - sent.get(ms)!] : []));
    const reconnects: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.reload();
      reconnects.push(await page.waitForFunction(() => (document.querySelector('.countdown') ? performance.now() : 0)).then((h) => h.jsonValue()));
    }
    ws.close();
    await fetch(`${cart.url}/api/session/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"action":"stop"}' });
    await untilIdle(cart);
    return {
      latencyP50Ms: percentile(lat, 50),
      latencyP99Ms: percentile(lat, 99),
      samples: lat.length,
      rssMedianMiB: median(rss),
      rssMaxMiB: Math.max(...rss),
      loadMedianMs: median(loads),
      reconnectMedianMs: median(reconnects),
    };
  } finally {
    await browser.close();
    await cart.stop();
  }
}
