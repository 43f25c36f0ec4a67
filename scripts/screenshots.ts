/**
 * Screenshots of every cart screen at 800×480 (the Pi's 7-inch display) and
 * 1280×800, for the README: `npm run screenshots` (writes docs/screenshots/).
 * Runs the real `modality cart --board sim` and Debian's Chromium.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { call, launch, startCart } from '../tests/cart/helpers.js';
import { answerAll, untilIdle } from '../tests/cart/session-helpers.js';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const SIZES = [
  { width: 800, height: 480 },
  { width: 1280, height: 800 },
] as const;
const T = { timeout: 60_000 };

mkdirSync(OUT, { recursive: true });
const cart = await startCart(['--board', 'sim', '--speed', '10']);
const browser = await launch();
try {
  // One finished session in the records, so history and the report have something to show.
  const ctx = { patient: 'P-0042', clinician: 'A. Physio', site: 'upper trapezius', side: 'left', notes: 'Trigger point, left upper trapezius; first visit.' };
  const start = async (key: string) => {
    const r = await call(cart, '/api/session', { protocol: { key }, context: { ...ctx, contraindications: await answerAll(cart, key) } });
    if (r.status !== 201) throw new Error(JSON.stringify(r.data));
  };
  await start('us-tens-combined');
  const waitAmp = (p: Page, ma: string) => p.waitForFunction((v) => document.querySelector('output.amp')?.textContent === v, ma, T);
  for (const size of SIZES) {
    const name = (screen: string) => join(OUT, `${screen}-${size.width}x${size.height}.png`);
    const page = await (await browser.newContext({ viewport: size, hasTouch: true })).newPage();
    await page.goto(`${cart.url}/#/library`);
    await page.locator('.cards').first().waitFor(T);
    await page.getByText('Connecting to the cart…').waitFor({ state: 'detached', ...T });
    await page.screenshot({ path: name('library') });
    await page.goto(`${cart.url}/#/protocol/upper-back-heat-us-tens`);
    await page.locator('.steps li').first().waitFor(T);
    await page.screenshot({ path: name('detail') });
    await page.goto(`${cart.url}/#/start/us-tens-combined`);
    await page.locator('.checklist li').first().waitFor(T);
    await page.getByLabel('Patient identifier').fill('P-0042');
    await page.getByLabel('Clinician').fill('A. Physio');
    await page.getByLabel('Body site').fill('upper trapezius');
    await page.locator('.side .toggle', { hasText: 'Left' }).tap();
    const items = page.locator('.checklist li');
    for (let i = 0; i < 3; i++) await items.nth(i).locator('.toggle', { hasText: /^No$/ }).tap();
    await page.locator('main').evaluate((m) => m.scrollTo(0, 0));
    await page.screenshot({ path: name('start') });
    await page.goto(`${cart.url}/#/session`);
    await waitAmp(page, '20 mA');
    await page.screenshot({ path: name('session') });
    await page.context().close();
  }
  // A lead-off: the banner in words.
  await call(cart, '/api/sim/faults', { fault: 'lead-off@0s+60s' });
  for (const size of SIZES) {
    const page = await (await browser.newContext({ viewport: size, hasTouch: true })).newPage();
    await page.goto(`${cart.url}/#/session`);
    await page.getByRole('alert').waitFor(T);
    await page.locator('.reading dd.bad').waitFor(T);
    await page.screenshot({ path: join(OUT, `fault-${size.width}x${size.height}.png`) });
    await page.context().close();
  }
  await call(cart, '/api/session/actions', { action: 'stop' });
  await untilIdle(cart);
  await call(cart, '/api/session/actions', { action: 'acknowledge' });
  for (const size of SIZES) {
    const page = await (await browser.newContext({ viewport: size, hasTouch: true })).newPage();
    await page.goto(`${cart.url}/#/session`);
    await page.getByText('Session stopped').waitFor(T);
    await page.screenshot({ path: join(OUT, `ended-${size.width}x${size.height}.png`) });
    await page.goto(`${cart.url}/#/history`);
    await page.getByLabel('Show simulations too').check();
    await page.locator('tbody tr').first().waitFor(T);
    await page.screenshot({ path: join(OUT, `history-${size.width}x${size.height}.png`) });
    await page.locator('tbody tr').first().getByRole('link').tap();
    await page.frameLocator('iframe').getByText('A. Physio').waitFor(T);
    await page.screenshot({ path: join(OUT, `report-${size.width}x${size.height}.png`) });
    await page.context().close();
  }
  process.stdout.write(`${OUT}\n`);
} finally {
  await browser.close();
  await cart.stop();
}
