import { describe, expect, it } from 'vitest';
import { connectSim } from '../helpers.js';
import { OUTPUT } from '../../src/drivers/wire/spec.js';
import { SerialBoard } from '../../src/drivers/serial-board.js';

const tensCfg = { rateHz: 100, pulseWidthUs: 100, waveform: 'symmetric-biphasic' as const, electrodeAreaCm2: 25, highDensityAcknowledged: false };

describe('serial board driver against the simulated board', () => {
  it('handshakes and learns identity, limits and the board clock', async () => {
    const { board, clock, sim } = await connectSim();
    expect(board.info).toMatchObject({ protocolVersion: 1, kind: 'simulated', tensChannels: 2, maxTensMa: 80, leaseMs: 400, timing: 'board' });
    expect(Math.abs(board.boardNow() - sim.boardMs())).toBeLessThanOrEqual(1);
    clock.advance(10_000);
    expect(Math.abs(board.boardNow() - sim.boardMs())).toBeLessThanOrEqual(1);
  });

  it('runs a ramp scheduled at board time T exactly then, reported by the board', async () => {
    const { board, clock, sim, events } = await connectSim();
    board.configureTens('tens1', tensCfg);
    const t = board.boardNow() + 100;
    board.ramp('tens1', t, 0, 20, 4000);
    clock.advance(2100);
    expect(sim.outputValue(OUTPUT.tens1)).toBeGreaterThan(0);
    clock.advance(3000);
    expect(sim.outputValue(OUTPUT.tens1)).toBe(200);
    const applied = events.filter((e) => e.type === 'applied');
    expect(applied).toEqual([
      { type: 'applied', output: 'tens1', boardMs: t, action: 'ramp', value: 20, durationMs: 4000 },
      { type: 'applied', output: 'tens1', boardMs: t + 4000, action: 'set', value: 20 },
    ]);
  });

  it('keeps the lease alive with heartbeats; the board times out when the host goes silent', async () => {
    const { board, clock, sim, events } = await connectSim({ faults: { hostSilenceAtMs: 20_000 } });
    board.configureTens('tens1', tensCfg);
    board.ramp('tens1', board.boardNow() + 100, 0, 20, 4000);
    clock.runUntil(19_999);
    expect(sim.faultCodes()).toEqual([]);
    expect(sim.outputValue(OUTPUT.tens1)).toBe(200);
    clock.runUntil(20_500);
    expect(sim.outputValue(OUTPUT.tens1)).toBe(0);
    clock.runUntil(22_000);
    const fault = events.find((e) => e.type === 'fault');
    expect(fault).toMatchObject({ code: 'HOST_TIMEOUT', output: 'all' });
    // Cut within the lease of the last frame that reached the board.
    expect((fault as { boardMs: number }).boardMs - 5000).toBeLessThanOrEqual(20_000 + 400);
    expect(events.some((e) => e.type === 'linkLost')).toBe(true);
  });

  it('a host that gives the link up silences the line: its lease keeper must not hold the lease for it', async () => {
    const { board, clock, link, events } = await connectSim({ faults: { hostSilenceAtMs: 20_000 } });
    let silenced = 0;
    link.host.silence = () => {
      silenced++;
    };
    clock.runUntil(19_000);
    expect(silenced).toBe(0);
    clock.runUntil(25_000);
    expect(events.some((e) => e.type === 'linkLost')).toBe(true);
    expect(silenced).toBeGreaterThanOrEqual(1);
    await board.close();
  });

  it('retransmits through line noise and still applies every command once', async () => {
    const { createRng } = await import('../../src/util/rng.js');
    const { board, clock, sim, events } = await connectSim({ faults: { noiseRate: 0.005, rng: createRng(7) } });
    board.configureTens('tens1', tensCfg);
    const t = board.boardNow() + board.scheduleMarginMs;
    board.ramp('tens1', t, 0, 20, 4000);
    board.ramp('tens1', t + 10_000, 20, 0, 2000);
    clock.advance(20_000);
    const c = board.counters();
    expect(c.retransmits).toBeGreaterThan(0);
    expect(c.crcErrors + c.framingErrors).toBeGreaterThan(0);
    expect(sim.meter(OUTPUT.tens1).peak).toBe(200);
    expect(sim.eventLog.filter((e) => e.kind === 2).length).toBe(2); // two ramps, each applied once
    expect(events.filter((e) => e.type === 'applied' && e.action === 'ramp').length).toBe(2);
  });
});

describe('serial board driver: a board-wide cut reported the old way', () => {
  it('an APPLIED_OFF for output 0xFF (firmware before protocol revision 0.2) reaches the accounting as a cut of every output', async () => {
    const { encodeFrame } = await import('../../src/drivers/wire/frame.js');
    const { encodeMessage } = await import('../../src/drivers/wire/messages.js');
    const { EVENT_KIND, FAULT } = await import('../../src/drivers/wire/spec.js');
    const { clock, link, sim, events } = await connectSim();
    const at = sim.boardMs();
    link.board.write(
      encodeFrame(
        200,
        encodeMessage('EVENT', { eventId: 999, boardMs: at, kind: EVENT_KIND.APPLIED_OFF, output: OUTPUT.all, code: FAULT.STOP_INPUT, value: 0, aux: 0 }),
      ),
    );
    clock.advance(50);
    const offs = events.filter((e) => e.type === 'applied' && e.action === 'off');
    expect(offs).toEqual(
      ['tens1', 'tens2', 'ultrasound', 'pad'].map((output) => ({ type: 'applied', output, boardMs: at, action: 'off', value: 0, cause: 'STOP_INPUT' })),
    );
  });
});

describe('frames go out in seq order', () => {
  it('an urgent EVENT_ACK that jumps the queue takes the next seq when it is sent, not when it was queued', async () => {
    const { board, clock, sim, link, events } = await connectSim();
    const written: Uint8Array[] = [];
    const write = link.host.write.bind(link.host);
    link.host.write = (bytes, opts) => {
      written.push(bytes.slice());
      write(bytes, opts);
    };
    board.configureTens('tens1', tensCfg);
    board.configureTens('tens2', tensCfg);
    board.ramp('tens1', board.boardNow() + 300, 0, 10, 1000);
    board.ramp('tens2', board.boardNow() + 300, 0, 10, 1000);
    clock.advance(2000);
    // Both channels lose their electrodes at once: two events each (APPLIED_OFF, FAULT_LATCHED),
    // answered by urgent EVENT_ACKs, while the host has commands queued behind them.
    sim.setElectrodeOhm(0, 50_000);
    sim.setElectrodeOhm(1, 50_000);
    for (let i = 0; i < 6; i++) board.cancel(i % 2 === 0 ? 'tens1' : 'tens2');
    clock.advance(3000);
    const kinds = written.map((f) => f[2]);
    expect(kinds.filter((k) => k === 0x16).length, 'EVENT_ACKs sent').toBeGreaterThanOrEqual(4);
    expect(events.filter((e) => e.type === 'fault').length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < written.length; i++) {
      const prev = written[i - 1]!,
        cur = written[i]!;
      const retransmit = Buffer.from(prev).equals(Buffer.from(cur));
      if (!retransmit) expect(cur[1], `frame ${i}: seq after ${prev[1]}`).toBe((prev[1]! + 1) & 0xff);
    }
  });
});

describe('serial board driver: close() says BYE', () => {
  it('after close() every output is off, the board has closed the session and latched nothing, and a new host finds no fault', async () => {
    const { closeOnClock } = await import('../../sim/harness.js');
    const { board, clock, sim, link, events } = await connectSim();
    board.configureTens('tens1', tensCfg);
    const t = board.boardNow() + board.scheduleMarginMs;
    board.ramp('tens1', t, 0, 20, 4000);
    board.set('ultrasound', t, 1);
    board.set('pad', t, 35);
    board.set('ultrasound', t + 60_000, 2); // held on the host, then dropped
    clock.advance(2000);
    expect(sim.outputValue(OUTPUT.tens1)).toBeGreaterThan(0);
    expect(sim.outputValue(OUTPUT.ultrasound)).toBe(100);
    await closeOnClock(clock, board);
    for (const o of [OUTPUT.tens1, OUTPUT.tens2, OUTPUT.ultrasound, OUTPUT.pad]) expect(sim.outputValue(o), `output ${o}`).toBe(0);
    expect(sim.padDrive()).toBe(0);
    expect(sim.faultCodes()).toEqual([]);
    expect(sim.sessionActive).toBe(false);
    expect(events.filter((e) => e.type === 'refused' || e.type === 'linkLost' || e.type === 'fault')).toEqual([]);
    // the board's three APPLIED_OFF (code 0) followed the ACK of BYE
    expect(sim.eventLog.filter((e) => e.kind === 3).map((e) => [e.output, e.code])).toEqual([
      [0, 0],
      [2, 0],
      [3, 0],
    ]);
    const sent = board.counters().framesSent;
    clock.advance(5000); // far past the lease: no HOST_TIMEOUT, and the closed driver sends nothing
    expect(sim.faultCodes()).toEqual([]);
    expect(board.counters().framesSent).toBe(sent);
    expect(sim.outputValue(OUTPUT.ultrasound)).toBe(0);
    // the next session on the same board starts with nothing latched
    let next: SerialBoard | undefined;
    void SerialBoard.connect(clock, link.host, { label: 'sim' }).then((b) => (next = b));
    while (!next && clock.step()) await null;
    expect(next!.latchedFaults()).toEqual([]);
    await closeOnClock(clock, next!);
  });

  it('a board from before BYE answers BAD_MESSAGE: close() ends at that answer, quietly, and the lease then runs out as before', async () => {
    const { VirtualClock } = await import('../../src/clock.js');
    const { createLinkPair } = await import('../../sim/link.js');
    const { SimBoard } = await import('../../sim/board.js');
    const { closeOnClock } = await import('../../sim/harness.js');
    const { encodeFrame } = await import('../../src/drivers/wire/frame.js');
    const { encodeMessage } = await import('../../src/drivers/wire/messages.js');
    const { FAULT, MESSAGES, STATUS } = await import('../../src/drivers/wire/spec.js');
    const clock = new VirtualClock();
    const link = createLinkPair(clock);
    const sim = new SimBoard(clock, link.board, { bootOffsetMs: 5000 });
    // an old board: BYE is an id it does not know; it answers BAD_MESSAGE and does nothing
    let byes = 0;
    const oldBoard = {
      ...link.host,
      write: (bytes: Uint8Array, o?: { repeatable?: boolean }) => {
        if (bytes[2] !== MESSAGES.BYE.id) return link.host.write(bytes, o);
        byes++;
        clock.setTimeout(
          () => link.board.write(encodeFrame(250, encodeMessage('ACK', { ackSeq: bytes[1]!, status: STATUS.BAD_MESSAGE, boardMs: sim.boardMs() }))),
          2,
        );
      },
    };
    let board: SerialBoard | undefined;
    void SerialBoard.connect(clock, oldBoard, { label: 'old board' }).then((b) => (board = b));
    while (!board && clock.step()) await null;
    const events: string[] = [];
    board!.subscribe((e) => events.push(e.type));
    await closeOnClock(clock, board!);
    expect(byes, 'BYE sent once: the BAD_MESSAGE answer ends the wait').toBe(1);
    expect(events.filter((t) => t === 'refused' || t === 'linkLost')).toEqual([]);
    clock.advance(1000);
    expect(sim.faultCodes()).toEqual([FAULT.HOST_TIMEOUT]);
  });
});
