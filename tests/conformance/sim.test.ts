/**
 * The simulated board (sim/board.ts: the firmware's core as WebAssembly) against the same
 * conformance scenarios as the AVR firmware (tests/firmware/pty.test.ts): on a virtual
 * clock, over the in-process serial line, so the whole suite runs in milliseconds and
 * deterministically.
 */
import { describe, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { OUTPUT } from '../../src/drivers/wire/spec.js';
import { SimBoard } from '../../sim/board.js';
import { createLinkPair } from '../../sim/link.js';
import { scenarios, type BoardUnderTest } from './scenarios.js';

function boot(): BoardUnderTest {
  const clock = new VirtualClock();
  const link = createLinkPair(clock);
  const board = new SimBoard(clock, link.board, { bootOffsetMs: 1234 });
  return {
    write: (bytes) => link.host.write(bytes),
    onData: (cb) => link.host.onData(cb),
    advance: async (ms) => clock.advance(ms),
    setStopInput: async (on) => board.setStopInput(on),
    setElectrodeOhm: async (ch, ohm) => board.setElectrodeOhm(ch, ohm),
    setCoupled: async (coupled) => board.setCoupled(coupled),
    // Hold the pad where the firmware runner holds its thermistor: no heating, cooling or drift.
    setPadC: async (c) => board.holdPadC(c),
    setHeadC: async (c) => board.holdHeadC(c),
    readOutputs: async () => ({
      tensMa: [board.outputValue(OUTPUT.tens1) / 10, board.outputValue(OUTPUT.tens2) / 10],
      usWPerCm2: board.outputValue(OUTPUT.ultrasound) / 100,
      padDrive: board.padDrive(),
    }),
    tolerance: { tensMa: 0.1, usWPerCm2: 0.01 },
  };
}

describe('simulated board: conformance scenarios', () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      await s.run(boot());
    });
  }
});
