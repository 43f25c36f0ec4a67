/** Starting and ending sessions through the API, for tests that are about something else. */
import { expect } from 'vitest';
import { call, type Cart } from './helpers.js';

export async function answerAll(cart: Pick<Cart, 'url'>, key: string): Promise<{ id: string; text: string; present: boolean }[]> {
  const d = await call<{ checklist: { id: string }[] }>(cart, `/api/protocols/${key}`);
  return d.data.checklist.map((i) => ({ id: i.id, text: i.id, present: false }));
}

export async function startViaApi(cart: Pick<Cart, 'url'>, key: string, headers: Record<string, string> = {}): Promise<{ recordId: number }> {
  const r = await call<{ recordId: number }>(
    cart,
    '/api/session',
    {
      protocol: { key },
      context: { patient: 'P-0099', clinician: 'B. Physio', site: 'lower trapezius', side: 'right', contraindications: await answerAll(cart, key) },
    },
    headers,
  );
  expect(r.status, JSON.stringify(r.data)).toBe(201);
  return r.data;
}

/** Wait until no session runs and the board has nothing latched (acknowledging what is). */
export async function untilIdle(cart: Pick<Cart, 'url'>): Promise<void> {
  for (;;) {
    const s = (await call<{ session: { status: string } | null; board: { latched: string[]; telemetry: { faults: string[] } | null } }>(cart, '/api/session'))
      .data;
    if (s.session?.status !== 'running' && !s.board.telemetry?.faults.length) return;
    if (s.session?.status !== 'running') await call(cart, '/api/session/actions', { action: 'acknowledge' });
    await new Promise((r) => setTimeout(r, 50));
  }
}
