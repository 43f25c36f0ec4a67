/**
 * The planned length tells the truth: thermal transitions are estimated and
 * included, so every built-in's plan is within 10 % of its simulated run (the
 * issue: contrast-cold-finish was listed as 21:00 and ran 28:44.7).
 */
import { describe, expect, it } from 'vitest';
import { estimateTransitionsMs, listBuiltins, REFERENCE_PAD, resolveProtocol } from '../../src/protocol/index.js';
import { planTimeline } from '../../src/protocol/index.js';
import { simulateSession } from '../../sim/harness.js';

describe('planned length of every built-in against the simulated run', () => {
  it.each(listBuiltins().map((b) => b.id))('%s: the plan is within a tenth of the session on the simulated board', async (id) => {
    const r = resolveProtocol(id);
    if (!r.ok) throw new Error(id);
    const { summary } = await simulateSession({ plan: r.plan, speed: Infinity });
    expect(summary.outcome).toBe('completed');
    const ratio = summary.elapsedMs / r.plan.totalMs;
    expect(ratio, `${id}: planned ${r.plan.totalMs} ms, ran ${summary.elapsedMs} ms`).toBeGreaterThan(0.9);
    expect(ratio, `${id}: planned ${r.plan.totalMs} ms, ran ${summary.elapsedMs} ms`).toBeLessThan(1.1);
  });
});

describe('thermal transitions in the plan', () => {
  it('are listed apart from the time at target, and add up to the planned total', () => {
    const r = resolveProtocol('contrast-cold-finish');
    if (!r.ok) throw new Error('contrast-cold-finish');
    const thermal = r.plan.steps[0]!.programs[0]!;
    if (thermal.modality !== 'thermal') throw new Error('not thermal');
    expect(thermal.atTargetMs).toBe(20 * 60_000); // 4 × (4 min hot + 1 min cold)
    expect(thermal.transitionMs).toBeGreaterThan(5 * 60_000); // heating 12 → 40 °C and cooling back, 8 times
    expect(thermal.durationMs).toBe(thermal.atTargetMs + thermal.transitionMs);
    expect(r.plan.totalMs).toBe(thermal.durationMs + 60_000); // then the 1-minute stretch prompt
    const tl = planTimeline(r.plan).filter((t) => t.modality === 'thermal');
    expect(tl.map((t) => t.phase).slice(0, 4)).toEqual(['to-hot', 'hot', 'to-cold', 'cold']);
    expect(tl.filter((t) => t.estimated).reduce((n, t) => n + t.endMs - t.startMs, 0)).toBe(thermal.transitionMs);
    expect(tl.at(-1)!.endMs).toBe(thermal.durationMs);
  });

  it('follow the pad model: a bigger step or a slower pad takes longer; a pad already there takes none', () => {
    const to40 = (startC: number, pad = REFERENCE_PAD) => estimateTransitionsMs([{ kind: 'hot', targetC: 40, durationMs: 0 }], { ...pad, startC })[0]!;
    expect(to40(39.5)).toBe(0);
    expect(to40(25)).toBeGreaterThan(to40(31));
    expect(to40(31, { ...REFERENCE_PAD, maxHeatCPerS: 0.25 })).toBeGreaterThan(to40(31));
    // 31 → 39 °C (within the 1 °C band) at ≤ 0.5 °C/s heating takes at least 16 s, plus the sensor's lag.
    expect(to40(31)).toBeGreaterThanOrEqual(16_000);
  });
});

describe('the live panel says the truth too', () => {
  it('"of … planned" includes the transitions', async () => {
    const { SessionView } = await import('../../src/cli/live.js');
    const r = resolveProtocol('contrast-cold-finish');
    if (!r.ok) throw new Error('contrast-cold-finish');
    const line = new SessionView(r.plan).render()[1]!;
    expect(line).toContain('of ~28:45.2 planned'); // it said ~21:00; the session runs 28:44.7 on the simulated board
  });
});
