/** Touch targets: every control on every screen is at least 48 × 48 px on the 800×480 display. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, skipBrowser, startCart, type Cart } from './helpers.js';
import { startViaApi, untilIdle } from './session-helpers.js';

const CONTROLS = 'button, a.button, nav a, .toggle, .check, input:not([type=checkbox]):not([type=radio]):not([type=file]), textarea';

async function small(page: Page): Promise<string[]> {
  return page.locator(CONTROLS).evaluateAll((els) =>
    els.flatMap((el) => {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return []; // not shown
      const label = (el.getAttribute('aria-label') ?? el.textContent ?? el.tagName).trim().slice(0, 40);
      return r.width < 48 || r.height < 48 ? [`${label}: ${Math.round(r.width)}×${Math.round(r.height)}`] : [];
    }),
  );
}

describe.skipIf(skipBrowser)('touch targets at 800×480', () => {
  let cart: Cart;
  let browser: Browser;
  beforeAll(async () => {
    cart = await startCart(['--board', 'sim', '--speed', '60']);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    if (cart) expect(await cart.stop()).toBe(0);
  });

  it('are at least 48 px on every screen', async () => {
    const page = await (await browser.newContext({ viewport: { width: 800, height: 480 }, hasTouch: true })).newPage();
    const screens: [string, string][] = [
      ['#/library', '.cards'],
      ['#/protocol/upper-back-heat-us-tens', '.steps li'],
      ['#/start/upper-back-heat-us-tens', '.checklist li'],
      ['#/history', 'h1'],
    ];
    for (const [hash, ready] of screens) {
      await page.goto(`${cart.url}/${hash}`);
      await page.locator(ready).first().waitFor({ timeout: 45_000 });
      expect(await page.locator(CONTROLS).count(), hash).toBeGreaterThan(3);
      expect(await small(page), hash).toEqual([]);
    }
    await startViaApi(cart, 'tens-conventional');
    await page.goto(`${cart.url}/#/session`);
    await page.waitForFunction(() => document.querySelector('output.amp')?.textContent === '25 mA', undefined, { timeout: 45_000 });
    expect(await small(page), 'session').toEqual([]);
    await page.getByRole('button', { name: 'Stop', exact: true }).tap();
    await page.getByText('Session stopped').waitFor({ timeout: 45_000 });
    expect(await small(page), 'ended').toEqual([]);
    await untilIdle(cart);
  });
});
