/**
 * The cart in a real browser (Debian's Chromium through playwright-core) against
 * the real `modality cart --board sim --speed 60` process. Every wait is on a
 * condition (the page's state, the API), never on a wall-clock bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { call, launch, skipBrowser, startCart, type Cart } from './helpers.js';
import { answerAll, startViaApi, untilIdle } from './session-helpers.js';

const WAIT = { timeout: 45_000 };

describe.skipIf(skipBrowser)('the cart in Chromium, on the simulated board at 60×', () => {
  let cart: Cart;
  let browser: Browser;
  beforeAll(async () => {
    cart = await startCart(['--board', 'sim', '--speed', '60']);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    if (cart) expect(await cart.stop()).toBe(0);
    expect(cart?.err() ?? '').not.toMatch(/\n\s+at /);
  });

  async function touchPage(): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 800, height: 480 }, hasTouch: true });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
    await page.goto(cart.url);
    return page;
  }

  it('at 800×480 with touch: choose, fill the context, answer the checklist, start, pause, resume, adjust, complete; the record has its context', async () => {
    const page = await touchPage();
    await page.getByRole('link', { name: /TENS, conventional \(high rate, low intensity\)/ }).tap();
    await page.getByRole('button', { name: 'Use this protocol' }).tap();
    const start = page.getByRole('button', { name: 'Start', exact: true });
    await expect(start.isDisabled()).resolves.toBe(true);
    await page.getByLabel('Patient identifier').fill('P-0042');
    await page.getByLabel('Clinician').fill('A. Physio');
    await page.getByLabel('Body site').fill('upper trapezius');
    await page.locator('.side .toggle', { hasText: 'Left' }).tap();
    await page.getByLabel('Notes').fill('trigger point, first visit');
    const items = page.locator('.checklist li');
    const n = await items.count();
    expect(n).toBe(6); // the TENS items
    for (let i = 0; i < n; i++) await items.nth(i).locator('.toggle', { hasText: /^No$/ }).tap();
    await expect(start.isEnabled()).resolves.toBe(true);
    await start.tap();

    // The session screen: the countdown moves.
    const countdown = page.getByLabel('remaining', { exact: true });
    await countdown.waitFor(WAIT);
    const first = Number(await countdown.getAttribute('data-ms'));
    await page.waitForFunction((ms) => Number(document.querySelector('.countdown')?.getAttribute('data-ms')) < ms, first, WAIT);

    // Pause, then resume.
    await page.getByRole('button', { name: 'Pause', exact: true }).tap();
    await page.getByRole('button', { name: 'Resume', exact: true }).waitFor(WAIT);
    await page.getByText('Paused', { exact: true }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Resume', exact: true }).tap();
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor(WAIT);

    // At amplitude (25 mA), one step up: the board reports 26 mA.
    const amp = page.locator('output.amp[data-channel="1"]');
    await page.waitForFunction(() => document.querySelector('output.amp')?.textContent === '25 mA', undefined, WAIT);
    await page.getByRole('button', { name: 'Increase intensity' }).tap();
    await page.waitForFunction(() => document.querySelector('output.amp')?.textContent === '26 mA', undefined, WAIT);
    expect(await amp.textContent()).toBe('26 mA');

    // It completes.
    await page.getByText('Session completed').waitFor(WAIT);
    const snap = (
      await call<{ session: { recordId: number; events: { type: string; kind?: string; fromMa?: number; toMa?: number }[] } }>(cart, '/api/session')
    ).data.session;
    expect(snap.events.filter((e) => e.type === 'action').map((e) => e.kind)).toEqual(expect.arrayContaining(['pause', 'resume', 'adjust']));
    expect(snap.events.find((e) => e.kind === 'adjust')).toMatchObject({ fromMa: 25, toMa: 26 });

    // History: the record with its context; its report reads as documentation.
    await page.getByRole('link', { name: 'History' }).tap();
    await page.getByLabel('Show simulations too').check();
    const row = page.locator('tbody tr').first();
    await row.getByText('P-0042').waitFor(WAIT);
    await row.getByText('upper trapezius (Left)').waitFor(WAIT);
    await row.getByText('completed').waitFor(WAIT);
    await row.getByRole('link', { name: `Open report ${snap.recordId}` }).tap();
    const report = page.frameLocator('iframe');
    await report.getByText('A. Physio').waitFor(WAIT);
    await report.getByText(/^intensity 25 → 26 mA at \d+:\d\d$/).waitFor(WAIT);
    const hist = await call<{ sessions: { id: number; context: Record<string, unknown>; simulated: boolean }[] }>(cart, '/api/history?all=true');
    expect(hist.data.sessions[0]).toMatchObject({
      id: snap.recordId,
      simulated: true,
      context: { patient: 'P-0042', clinician: 'A. Physio', site: 'upper trapezius', side: 'left', notes: 'trigger point, first visit' },
    });
    expect((hist.data.sessions[0]!.context['contraindications'] as unknown[]).length).toBe(n);
    // A simulation is never shown as a treatment.
    expect((await call<{ sessions: unknown[] }>(cart, '/api/history')).data.sessions).toHaveLength(0);
    await page.context().close();
  });

  it('emergency stop from the session screen ends the session stopped, and the board reports every output off', async () => {
    await startViaApi(cart, 'tens-conventional');
    const page = await touchPage();
    await page.waitForFunction(() => document.querySelector('output.amp')?.textContent === '25 mA', undefined, WAIT);
    await page.getByRole('button', { name: 'Emergency stop' }).tap();
    await page.getByText('Session stopped').waitFor(WAIT);
    const s = (
      await call<{
        session: { summary: { outcome: string; stopReason?: string } };
        board: { telemetry: { outputs: Record<string, { value: number | null }>; faults: string[] } };
      }>(cart, '/api/session')
    ).data;
    expect(s.session.summary.outcome).toBe('stopped');
    expect(s.board.telemetry.outputs).toMatchObject({ tens1: { value: 0 }, tens2: { value: 0 }, ultrasound: { value: 0 }, pad: { value: null } });
    expect(s.board.telemetry.faults).toContain('ESTOP');
    // The latched emergency stop shows in words; Acknowledge clears it so the cart can be used again.
    await page.getByRole('alert').getByText('Emergency stop.').waitFor(WAIT);
    await page.getByRole('button', { name: 'Acknowledge' }).tap();
    await page.getByRole('alert').waitFor({ state: 'detached', ...WAIT });
    await untilIdle(cart);
    await page.context().close();
  });

  it('an injected lead-off shows the banner in plain words; the session resumes when contact is back; Acknowledge clears the banner', async () => {
    await startViaApi(cart, 'tens-conventional');
    const page = await touchPage();
    await page.waitForFunction(() => document.querySelector('output.amp')?.textContent === '25 mA', undefined, WAIT);
    expect((await call(cart, '/api/sim/faults', { fault: 'lead-off@0s' })).status).toBe(200);
    const banner = page.getByRole('alert');
    await banner.getByText('Electrode contact lost on TENS channel 1.').waitFor(WAIT);
    await banner.getByText('That channel was switched off at once; the timer waits.').waitFor(WAIT);
    await page.locator('.reading dd.bad', { hasText: 'LOST' }).waitFor(WAIT);
    await page.waitForFunction(() => document.querySelector('output.amp')?.textContent === '0 mA', undefined, WAIT);
    // Contact back: the channel re-ramps and reaches its amplitude again; the session goes on.
    expect((await call(cart, '/api/sim/faults', { restore: 'contact:1' })).status).toBe(200);
    await banner.getByText('The cause has gone.').waitFor(WAIT);
    await page.waitForFunction(() => document.querySelector('output.amp')?.textContent === '25 mA', undefined, WAIT);
    expect((await call<{ session: { status: string } }>(cart, '/api/session')).data.session.status).toBe('running');
    await page.getByRole('button', { name: 'Acknowledge' }).tap();
    await banner.waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('button', { name: 'Stop', exact: true }).tap();
    await page.getByText('Session stopped').waitFor(WAIT);
    await untilIdle(cart);
    await page.context().close();
  });

  it('a reload mid-session restores the state, two pages agree, and the session is not touched', async () => {
    const { recordId } = await startViaApi(cart, 'tens-conventional');
    const a = await touchPage();
    const b = await touchPage();
    for (const p of [a, b]) await p.waitForFunction(() => document.querySelector('output.amp')?.textContent === '25 mA', undefined, WAIT);
    const before = (await call<{ session: { events: unknown[] } }>(cart, '/api/session')).data.session.events.length;
    await a.reload();
    await a.getByLabel('remaining', { exact: true }).waitFor(WAIT);
    await a.getByText('Patient P-0099 · lower trapezius (Right)').waitFor(WAIT);
    // Both pages show the same step and reach the same countdown reading as the session moves on.
    await a.getByRole('button', { name: 'Pause', exact: true }).tap();
    for (const p of [a, b]) await p.getByRole('button', { name: 'Resume', exact: true }).waitFor(WAIT);
    const s = (await call<{ session: { recordId: number; status: string; events: { type: string; kind?: string }[] } }>(cart, '/api/session')).data.session;
    expect(s.recordId).toBe(recordId);
    expect(s.status).toBe('running');
    expect(s.events.length).toBeGreaterThan(before);
    // Nothing but the clinician's own pause happened to the session on reload.
    expect(s.events.filter((e) => e.type === 'action' && e.kind !== 'step').map((e) => e.kind)).toEqual(['pause']);
    await b.getByRole('button', { name: 'Resume', exact: true }).tap();
    for (const p of [a, b]) await p.getByRole('button', { name: 'Pause', exact: true }).waitFor(WAIT);
    await call(cart, '/api/session/actions', { action: 'stop' });
    for (const p of [a, b]) await p.getByText('Session stopped').waitFor(WAIT);
    await untilIdle(cart);
    await a.context().close();
    await b.context().close();
  });

  it("a hash change between the first render and the router's listener still opens that screen", async () => {
    // Preact runs effects after paint: on an animation frame, or after 35 ms without one (RAF_TIMEOUT). Here
    // both are held back until the route has changed, as a loaded machine can do; the router's
    // listener then comes too late to hear the change, and the library stayed up.
    const ctx = await browser.newContext({ viewport: { width: 800, height: 480 }, hasTouch: true });
    await ctx.addInitScript(() => {
      const held: (() => void)[] = [];
      const w = window as unknown as { __release: () => void };
      window.requestAnimationFrame = () => 0;
      const setTimeoutReal = window.setTimeout.bind(window);
      window.setTimeout = ((fn: () => void, ms?: number) => {
        if (ms !== 35) return setTimeoutReal(fn, ms);
        held.push(fn);
        return 0;
      }) as typeof window.setTimeout;
      w.__release = () => {
        window.setTimeout = setTimeoutReal as typeof window.setTimeout;
        for (const fn of held.splice(0)) fn();
      };
    });
    const page = await ctx.newPage();
    await page.goto(cart.url);
    await page.locator('main').waitFor(WAIT); // the first render is on the page
    await page.evaluate(() => {
      location.hash = '#/start/tens-conventional';
      (window as unknown as { __release: () => void }).__release();
    });
    await page.locator('.checklist li').first().waitFor(WAIT);
    await ctx.close();
  });

  it('Start stays disabled while a contraindication is present, and the API refuses it too', async () => {
    const page = await touchPage();
    await page.goto(`${cart.url}/#/start/tens-conventional`);
    const items = page.locator('.checklist li');
    await items.first().waitFor(WAIT);
    await page.getByLabel('Patient identifier').fill('P-1');
    await page.getByLabel('Clinician').fill('C');
    await page.getByLabel('Body site').fill('neck');
    await page.locator('.side .toggle', { hasText: 'Left' }).tap();
    const n = await items.count();
    for (let i = 1; i < n; i++) await items.nth(i).locator('.toggle', { hasText: /^No$/ }).tap();
    await items.nth(0).locator('.toggle', { hasText: /^Yes$/ }).tap(); // pacemaker
    await page.getByText('A contraindication is present: this protocol cannot be started.').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Start', exact: true }).isDisabled()).toBe(true);
    const r = await call(cart, '/api/session', {
      protocol: { key: 'tens-conventional' },
      context: {
        patient: 'P-1',
        clinician: 'C',
        site: 'neck',
        side: 'left',
        contraindications: (await answerAll(cart, 'tens-conventional')).map((a) => ({ ...a, present: a.id === 'tens-implant' })),
      },
    });
    expect(r.status).toBe(422);
    await page.context().close();
  });
});
