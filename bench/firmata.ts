/**
 * Host-timed set-point error of the Firmata bench driver: schedule set-points
 * on the ultrasound intensity pin and measure, for each, the time its PWM write
 * reached the simulated StandardFirmata board (served on a pty, same process,
 * same RealClock) minus the time it was scheduled for. This is the error a
 * bench board adds on top of the modality firmware, which applies set-points
 * at its own 1 ms tick.
 */
import { RealClock } from '../src/clock.js';
import { FirmataBoard } from '../src/drivers/firmata-board.js';
import { serveFirmataOnPty } from '../sim/firmata-pty.js';

export async function benchFirmata(opts: { setPoints?: number; spacingMs?: number } = {}): Promise<{ p50Us: number; p99Us: number; samples: number }> {
  const n = opts.setPoints ?? 200;
  const spacing = opts.spacingMs ?? 20;
  const clock = new RealClock();
  const sim = serveFirmataOnPty({ clock });
  const board = await FirmataBoard.connect(clock, { path: sim.path, connectTimeoutMs: 5000 });
  try {
    board.configureUltrasound({ frequencyMHz: 1, dutyCyclePct: 100, eraCm2: 5 });
    const pin = board.pins.ultrasound!.intensityPin;
    const t0 = board.boardNow() + 100;
    const scheduled: number[] = [];
    // Alternate two intensities so every set-point is one distinct PWM write. Issue each
    // about scheduleMarginMs ahead, as the engine does (the host queue is 8 deep, like the board's).
    for (let i = 0; i < n; i++) {
      const at = t0 + i * spacing;
      while (board.boardNow() < at - board.scheduleMarginMs) await new Promise((r) => setTimeout(r, 2));
      scheduled.push(at);
      board.set('ultrasound', at, i % 2 === 0 ? 1.5 : 0.75);
    }
    await new Promise((r) => setTimeout(r, 300));
    const writes = sim.board.writesTo(pin, t0 - 1);
    const errors = scheduled
      .slice(0, writes.length)
      .map((at, i) => (writes[i]!.tMs - at) * 1000)
      .sort((a, b) => a - b);
    const q = (p: number) => Math.round(errors[Math.min(errors.length - 1, Math.floor(p * errors.length))] ?? NaN);
    return { p50Us: q(0.5), p99Us: q(0.99), samples: errors.length };
  } finally {
    await board.close();
    await sim.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchFirmata());
}
