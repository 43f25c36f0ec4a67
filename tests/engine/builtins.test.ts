import { describe, expect, it } from 'vitest';
import { listBuiltins, resolveProtocol, type Plan } from '../../src/protocol/index.js';
import { simulateSession } from '../../sim/harness.js';
import { expectDeliveredAsPlanned } from '../delivered.js';

function plan(id: string): Plan {
  const r = resolveProtocol(id);
  if (!r.ok) throw new Error(`${id}: ${JSON.stringify(r.errors)}`);
  return r.plan;
}

describe('every built-in protocol on the simulated board', () => {
  for (const { id } of listBuiltins()) {
    it(`${id} completes with the planned delivery`, async () => {
      const p = plan(id);
      const { summary, sim } = await simulateSession({ plan: p });
      expect(summary.outcome).toBe('completed');
      expect(summary.faults).toEqual([]);
      expectDeliveredAsPlanned(p, summary.delivered);
      // The board's own meters agree with the engine's account.
      for (const d of summary.delivered) {
        if (d.modality === 'tens') expect(sim.meter(d.channel - 1).peak).toBe(d.peakMa * 10);
      }
      expect(sim.faultCodes()).toEqual([]);
    });
  }
});
