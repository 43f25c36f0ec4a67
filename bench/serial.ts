/**
 * Set-point timing of the serial driver with board-side scheduling: the
 * simulated board served on a pty in real time, the real serialport driver,
 * set-points scheduled on the board clock. Measures how late, after its due
 * time, each set-point's tick actually ran (the board's own timer jitter: here
 * Node's event loop waking the core; on the AVR the 1 ms tick).
 */
import { RealClock } from '../src/clock.js';
import { SerialBoard } from '../src/drivers/serial-board.js';
import { openSerialTransport } from '../src/drivers/serial-transport.js';
import { EVENT_KIND, OUTPUT } from '../src/drivers/wire/spec.js';
import { serveSimOnPty } from '../sim/pty.js';
import { percentile } from './stats.js';

export async function benchSerialSetPoints(opts: { setPoints?: number; spacingMs?: number } = {}): Promise<{ p50Us: number; p99Us: number; samples: number }> {
  const n = opts.setPoints ?? 200;
  const spacing = opts.spacingMs ?? 40; // 250 ms margin ÷ 40 ms keeps about six queued: within the board's 8-deep queue
  const clock = new RealClock();
  const server = serveSimOnPty({ clock });
  const errorsUs: number[] = [];
  server.sim.onEvent = (e, lateMs) => {
    if (e.kind === EVENT_KIND.APPLIED_SET && e.output === OUTPUT.ultrasound) errorsUs.push(lateMs * 1000);
  };
  const board = await SerialBoard.connect(clock, await openSerialTransport(server.path), { label: server.path });
  try {
    board.configureUltrasound({ frequencyMHz: 1, dutyCyclePct: 100, eraCm2: 5 });
    const t0 = board.boardNow() + 300;
    for (let i = 0; i < n; i++) {
      const at = t0 + i * spacing;
      while (board.boardNow() < at - board.scheduleMarginMs) await new Promise((r) => setTimeout(r, 2));
      board.set('ultrasound', at, i % 2 === 0 ? 1.5 : 0.75);
    }
    while (errorsUs.length < n && board.boardNow() < t0 + n * spacing + 2000) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await board.close();
    server.close();
  }
  return { p50Us: percentile(errorsUs, 50), p99Us: percentile(errorsUs, 99), samples: errorsUs.length };
}
