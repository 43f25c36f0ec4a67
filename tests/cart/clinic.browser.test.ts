/** The clinic's own protocols (a folder under --data, or a file from the browser), and a prompt step's Continue. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { call, launch, skipBrowser, startCart, tmpData, type Cart } from './helpers.js';
import { untilIdle } from './session-helpers.js';

const WAIT = { timeout: 45_000 };
const SHORT = `id: neck-tens-stretch
name: "Neck: short TENS, then a stretch"
indication: Neck pain from desk work
notes: Electrodes either side of C5-C7, 2 cm from the spine.
steps:
  - tens: { channel: 1, waveform: asymmetric-biphasic, rateHz: 80, pulseWidthUs: 100, amplitudeMa: 10, electrodeAreaCm2: 25, rampUpS: 2, durationS: 6, rampDownS: 2 }
  - prompt: { text: "Chin tucks, 10 times", durationS: 3600 }
`;

describe.skipIf(skipBrowser)('clinic protocols at the cart', () => {
  let cart: Cart;
  let browser: Browser;
  beforeAll(async () => {
    const data = tmpData();
    mkdirSync(join(data, 'protocols'));
    writeFileSync(join(data, 'protocols', 'neck.yaml'), SHORT);
    writeFileSync(join(data, 'protocols', 'broken.yaml'), 'id: broken\nname: x\nsteps: []\n');
    cart = await startCart(['--board', 'sim', '--speed', '60', '--data', data]);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    if (cart) expect(await cart.stop()).toBe(0);
  });

  it('lists a clinic file under its body region, shows its placement notes, runs it, and Continue ends its prompt', async () => {
    const page = await (await browser.newContext({ viewport: { width: 800, height: 480 }, hasTouch: true })).newPage();
    await page.goto(cart.url);
    const neck = page.getByRole('region', { name: 'Neck' });
    await neck.getByRole('link', { name: /Neck: short TENS, then a stretch/ }).tap();
    await page.getByText('Electrodes either side of C5-C7, 2 cm from the spine.').waitFor(WAIT);
    // The broken file is listed with its errors, not hidden.
    const lib = (await call<{ protocols: { key: string; errors?: string[] }[] }>(cart, '/api/protocols')).data.protocols;
    expect(lib.find((p) => p.key === 'clinic:broken')?.errors?.length).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Use this protocol' }).tap();
    await page.getByLabel('Patient identifier').fill('P-7');
    await page.getByLabel('Clinician').fill('C. Physio');
    await page.getByLabel('Body site').fill('neck');
    await page.locator('.side .toggle', { hasText: 'Midline' }).tap();
    const items = page.locator('.checklist li');
    for (let i = 0; i < (await items.count()); i++) await items.nth(i).locator('.toggle', { hasText: /^No$/ }).tap();
    await page.getByRole('button', { name: 'Start', exact: true }).tap();
    await page.getByText('Instruction: Chin tucks, 10 times').waitFor(WAIT);
    await page.getByRole('button', { name: 'Continue', exact: true }).tap();
    await page.getByText('Session completed').waitFor(WAIT);
    await untilIdle(cart);
  });

  it('runs a protocol file chosen in the browser, after checking it against the limits', async () => {
    const r = await call<{ checklist: unknown[]; plan: { protocol: { id: string } } }>(cart, '/api/protocols/check', {
      file: { name: 'mine.yaml', text: SHORT.replace('neck-tens-stretch', 'mine') },
    });
    expect(r.status).toBe(200);
    expect(r.data.plan.protocol.id).toBe('mine');
    const bad = await call<{ error: string; detail: string[] }>(cart, '/api/protocols/check', {
      file: { name: 'hot.yaml', text: SHORT.replace('amplitudeMa: 10', 'amplitudeMa: 500') },
    });
    expect(bad.status).toBe(422);
    expect(bad.data.detail.join('\n')).toMatch(/amplitudeMa/);
  });
});
