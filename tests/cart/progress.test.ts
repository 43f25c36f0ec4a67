/** The session screen's countdown and progress bars come from the engine's delivered-value accounting. */
import { describe, expect, it } from 'vitest';
import { remaining, type Progress } from '../../src/cart/progress.js';
import { DeliveredTracker } from '../../src/engine/delivered.js';
import type { RunEvent } from '../../src/engine/events.js';
import { resolveProtocol } from '../../src/protocol/index.js';
import { parseFaultSpec } from '../../sim/faults.js';
import { simulateSession } from '../../sim/harness.js';

async function countdown(id: string, faults: string[] = []): Promise<{ plannedMs: number; samples: Progress[] }> {
  const r = resolveProtocol(id);
  if (!r.ok) throw new Error('protocol');
  const tracker = new DeliveredTracker(r.plan);
  const events: RunEvent[] = [];
  const samples: Progress[] = [];
  await simulateSession({
    plan: r.plan,
    faults: faults.map(parseFaultSpec),
    onEvent: (e) => {
      tracker.add(e);
      if (e.type !== 'telemetry') events.push(e);
      if (e.type === 'telemetry') samples.push(remaining(r.plan, tracker, events, false));
    },
  });
  return { plannedMs: r.plan.totalMs, samples };
}

describe('the countdown', () => {
  it('starts at the planned length, never goes up, and reaches zero as the session completes', async () => {
    const { plannedMs, samples } = await countdown('upper-back-heat-us-tens');
    expect(Math.abs(samples[0]!.remainingMs - plannedMs)).toBeLessThan(2000);
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.remainingMs).toBeLessThanOrEqual(samples[i - 1]!.remainingMs + 1);
    const last = samples.at(-1)!;
    expect(last.remainingMs).toBeLessThan(1500);
    expect(last.programs.map((p) => [p.phase, p.doneMs === p.plannedMs])).toEqual([
      ['done', true],
      ['done', true],
      ['done', true],
    ]);
  });

  it('stands still while an electrode is off, and counts down again once the channel is back at amplitude', async () => {
    const { samples } = await countdown('tens-conventional', ['lead-off@5m+1m']);
    const during = samples.filter((s) => s.t > 5 * 60_000 + 2000 && s.t < 6 * 60_000 - 1000).map((s) => s.remainingMs);
    expect(during.length).toBeGreaterThan(30);
    expect(Math.max(...during) - Math.min(...during)).toBe(0);
    const after = samples.filter((s) => s.t > 6 * 60_000 + 30_000 && s.t < 7 * 60_000);
    expect(after.at(-1)!.remainingMs).toBeLessThan(after[0]!.remainingMs);
    expect(samples.at(-1)!.programs[0]).toMatchObject({ phase: 'done', doneMs: 1_200_000, plannedMs: 1_200_000 });
  });
});
