/** The records store in process: written as the session happens, interrupted sessions, corrupt databases. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boardInfo } from '../helpers.js';
import type { RunEvent } from '../../src/engine/events.js';
import { resolveProtocol, type Plan } from '../../src/protocol/index.js';
import { DeliveredTracker } from '../../src/engine/delivered.js';
import { RecordsError, RecordStore } from '../../src/records/store.js';
import { simulateSession } from '../../sim/harness.js';
import { parseFaultSpec } from '../../sim/faults.js';
import { steppingClock, tmp } from './helpers.js';

function plan(id: string): Plan {
  const r = resolveProtocol(id);
  if (!r.ok) throw new Error(`${id} does not resolve`);
  return r.plan;
}

describe('delivered so far, from the event stream', () => {
  it.each([
    ['tens-conventional', []],
    ['upper-back-heat-us-tens', []],
    ['contrast-cold-finish', []],
    ['us-tens-combined', ['coupling-loss@1m+20s']],
    ['examples/tens-10s.yaml', ['stop-button@5s']],
  ])('agrees with the summary at the end of %s %j', async (id, faults) => {
    const p = plan(id);
    const tracker = new DeliveredTracker(p);
    const { summary } = await simulateSession({ plan: p, faults: faults.map(parseFaultSpec), onEvent: (e) => tracker.add(e) });
    const snap = tracker.snapshot();
    if (summary.outcome === 'completed') {
      expect(snap).toEqual(summary.delivered.map((d) => (d.modality === 'thermal' ? { ...d, maxC: expect.any(Number), minC: expect.any(Number) } : d)));
    } else {
      // Cut short: the tracker also counts the phase that was running (the summary does not); the output profile integrates the same.
      expect(snap.map((d) => (d.modality === 'tens' ? d.stimulationMs : 0))).toEqual(
        summary.delivered.map((d) => (d.modality === 'tens' ? d.stimulationMs : 0)),
      );
    }
  });

  it('counts the running phase and the output up to the latest event, mid-plateau', async () => {
    const p = plan('tens-conventional');
    const tracker = new DeliveredTracker(p);
    let at5min: ReturnType<DeliveredTracker['snapshot']> | null = null;
    await simulateSession({
      plan: p,
      onEvent: (e) => {
        tracker.add(e);
        if (!at5min && e.type === 'telemetry' && e.t >= 300_000) at5min = tracker.snapshot();
      },
    });
    const d = at5min![0]!;
    expect(d.modality).toBe('tens');
    if (d.modality !== 'tens') return;
    // 10 s ramp up then plateau: at 5 min about 4:50 at amplitude, 5 min stimulating.
    expect(d.plateauMs).toBeGreaterThan(285_000);
    expect(d.plateauMs).toBeLessThan(295_000);
    expect(d.stimulationMs).toBeGreaterThan(295_000);
    expect(d.stimulationMs).toBeLessThan(d.planned.plateauMs);
  });
});

describe('RecordStore', () => {
  it('writes the session as it happens: the row and events exist before the summary', async () => {
    const dir = tmp();
    const store = RecordStore.open(dir, { now: steppingClock() });
    const p = plan('tens-conventional');
    // minWallMs 0: flush on every second of session time even at --speed max, so the test does not depend on the machine's speed
    const w = store.begin(p, 'sim', { minWallMs: 0 });
    let midRow: ReturnType<RecordStore['list']>[number] | undefined;
    let midEvents = 0;
    const reader = RecordStore.open(dir, { pid: process.pid });
    const { summary } = await simulateSession({
      plan: p,
      onEvent: (e) => {
        w.event(e);
        if (!midRow && e.type === 'telemetry' && e.t >= 600_000) {
          // another connection sees it (WAL: committed data only)
          midRow = reader.list()[0];
          midEvents = reader.get(midRow!.id)!.events.length;
        }
      },
    });
    w.finish(summary);
    expect(midRow).toMatchObject({ outcome: 'running', protocol: { id: 'tens-conventional', hash: p.hash }, startedAt: '2025-03-04T09:00:00.000Z' });
    expect(midEvents).toBeGreaterThan(590);
    expect(midRow!.deliveredAsOfMs).toBeGreaterThan(597_000);
    const mid = midRow!.delivered[0]!;
    expect(mid.modality === 'tens' && mid.plateauMs).toBeGreaterThan(585_000);

    const rec = store.get(w.id!)!;
    expect(rec.outcome).toBe('completed');
    expect(rec.summary).toEqual(summary);
    expect(rec.delivered).toEqual(summary.delivered);
    expect(rec.board).toMatchObject({ kind: 'simulated', firmware: '0.3.1' });
    expect(rec.protocolDefinition).toEqual(p.protocol);
    expect(rec.endedAt).not.toBeNull();
    expect(Date.parse(rec.endedAt!)).toBeGreaterThan(Date.parse(rec.startedAt));
    expect(rec.events.filter((e) => e.type === 'action').map((e) => (e.event as { kind: string }).kind)).toContain('step');
    expect(rec.events.map((e) => e.seq)).toEqual(rec.events.map((_, i) => i));
    reader.close();
    store.close();
  });

  it('records clinician actions with their time stamps, and faults', async () => {
    const dir = tmp();
    const store = RecordStore.open(dir, { now: steppingClock() });
    const p = plan('examples/tens-10s.yaml');
    const w = store.begin(p, 'sim');
    const { summary } = await simulateSession({
      plan: p,
      onEvent: (e) => w.event(e),
      faults: [parseFaultSpec('host-silence@9s')],
      onStart: ({ run, clock }) => {
        clock.setTimeout(() => run.send({ type: 'ADJUST_INTENSITY', deltaMa: -1 }), 4000);
        clock.setTimeout(() => run.send({ type: 'PAUSE' }), 5000);
        clock.setTimeout(() => run.send({ type: 'RESUME' }), 6000);
      },
    });
    w.finish(summary);
    const rec = store.get(w.id!)!;
    const kinds = rec.events.filter((e) => e.type === 'action').map((e) => (e.event as { kind: string }).kind);
    expect(kinds.length).toBeGreaterThan(2);
    for (const a of rec.events.filter((e) => e.type === 'action')) {
      expect(a.t).toBeTypeOf('number');
      expect(a.wallMs).toBeGreaterThan(Date.parse('2025-03-04T09:00:00.000Z'));
    }
    expect(rec.faults.length).toBe(summary.faults.length);
    expect(rec.outcome).toBe(summary.outcome);
    store.close();
  });

  it('marks a running session interrupted once its process is gone, keeping what was delivered so far', async () => {
    const dir = tmp();
    const dead = 999_999;
    const store = RecordStore.open(dir, { now: steppingClock(), pid: dead });
    const p = plan('tens-conventional');
    const w = store.begin(p, 'sim');
    await simulateSession({
      plan: p,
      onEvent: (e) => {
        if ('t' in e && e.t > 120_000) return;
        w.event(e);
      },
    });
    w.flush();
    store.close();
    // Still alive: left running.
    const alive = RecordStore.open(dir, { isAlive: () => true });
    expect(alive.list()[0]!.outcome).toBe('running');
    alive.close();
    // Gone: interrupted, with delivered-so-far.
    const after = RecordStore.open(dir, { isAlive: (pid) => pid !== dead });
    const row = after.list()[0]!;
    expect(row.outcome).toBe('interrupted');
    expect(row.endedAt).not.toBeNull();
    const d = row.delivered[0]!;
    expect(d.modality).toBe('tens');
    if (d.modality === 'tens') {
      expect(d.stimulationMs).toBeGreaterThan(100_000);
      expect(d.plateauMs).toBeLessThan(d.planned.plateauMs);
    }
    after.close();
  });

  it('leaves sessions of another host alone', async () => {
    const dir = tmp();
    const store = RecordStore.open(dir, { hostname: 'cart-7', pid: 1234 });
    const p = plan('examples/tens-10s.yaml');
    const w = store.begin(p, 'sim');
    w.event({
      type: 'session',
      t: 0,
      boardMs: 0,
      protocol: p.protocol.id,
      name: p.protocol.name,
      hash: p.hash,
      plannedMs: p.totalMs,
      board: boardInfo({ firmware: 'x' }),
    } as RunEvent);
    store.close();
    const other = RecordStore.open(dir, { isAlive: () => false });
    expect(other.list()[0]!.outcome).toBe('running');
    other.close();
  });

  it('refuses a file that is not a database, and leaves it as it was', () => {
    const dir = tmp();
    const file = join(dir, 'records.db');
    const garbage = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) & 0xff));
    writeFileSync(file, garbage);
    expect(() => RecordStore.open(dir)).toThrow(RecordsError);
    expect(() => RecordStore.open(dir)).toThrow(file);
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('refuses a SQLite database that is not a records database', async () => {
    const dir = tmp();
    const Database = (await import('better-sqlite3')).default;
    const other = new Database(join(dir, 'records.db'));
    other.exec('CREATE TABLE t (x)');
    other.close();
    const before = readFileSync(join(dir, 'records.db'));
    expect(() => RecordStore.open(dir)).toThrow(/not a modality records database/);
    expect(readFileSync(join(dir, 'records.db')).equals(before)).toBe(true);
  });
});
