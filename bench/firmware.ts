/**
 * Benchmarks of the AVR firmware on simavr, paced to real time, driven by the real host
 * driver (SerialBoard over serialport on the runner's pty):
 *
 *  - set-point timing at the board, from the pins: a set-point scheduled at board time
 *    atMs (the engine's way: sent ~100 ms ahead, applied by the board at its own tick)
 *    against one timed on the host (setTimeout to the instant, then SET for "now" plus
 *    the line's transit), both while every host core runs a busy loop. The error is the
 *    ultrasound-enable pin's change (cycle-exact in simavr) minus the instant the board
 *    clock reached the intended ms (Timer2 overflow), in µs.
 *  - host silence to outputs off (the lease), from the last byte the UART received;
 *  - stop input to outputs off;
 *  - flash and RAM use against the ATmega328P's 32 KB / 2 KB.
 *
 * The board's clock is simulated: simavr counts 16 MHz cycles exactly, so board-side
 * figures are what the firmware does per instruction, not what a crystal would add
 * (±50 ppm on an Uno's resonator is ±50 µs per second of schedule).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { RealClock } from '../src/clock.js';
import type { BoardEvent } from '../src/drivers/board.js';
import { SerialBoard } from '../src/drivers/serial-board.js';
import { openSerialTransport } from '../src/drivers/serial-transport.js';
import type { Transport } from '../src/drivers/transport.js';
import {
  buildFirmware,
  CYCLES_PER_TICK,
  CYCLES_PER_US,
  FIRMWARE_DIR,
  parseEdges,
  parseIsr,
  startFirmwareBoard,
  VECTOR_NAMES,
  type FirmwareBoard,
} from '../sim/firmware-runner.js';

export interface BenchFirmwareOptions {
  /** set-points per timing run (default 100) */
  setPoints?: number;
  /** ms between set-points (default 20) */
  spacingMs?: number;
  /** repetitions of the lease and stop measurements (default 8) */
  repeats?: number;
  /** busy processes loading the host during the timing runs (default cores − 1, at least 1) */
  loadProcesses?: number;
}

/** How far ahead the board-timed set-points are sent (the board queues 8 per output). */
const AHEAD_MS = 100;
/** Host-timed set-points are sent for the host's estimate of board-now plus this lead, so
 *  they are not refused LATE; the figures are reported with the lead taken off. */
const LEAD_MS = 20;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tally(xs: string[]): string {
  const m = new Map<string, number>();
  for (const x of xs) {
    const k = x.replace(/^.*: /, '');
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].map(([k, v]) => `${k}×${v}`).join(', ') || 'none';
}

function quantiles(xs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { p50: r(q(0.5)), p99: r(q(0.99)), max: r(s.at(-1) ?? NaN), n: s.length };
}

/** One busy child process per core: the host under full CPU load. */
function cpuLoad(count: number): { stop: () => void } {
  const kids: ChildProcess[] = [];
  for (let i = 0; i < count; i++) kids.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  return {
    stop: () => {
      for (const k of kids) k.kill('SIGKILL');
    },
  };
}

async function connect(fw: FirmwareBoard, leaseMs: number): Promise<{ board: SerialBoard; transport: Transport; refused: string[]; applied: BoardEvent[] }> {
  const clock = new RealClock();
  const transport = await openSerialTransport(fw.path);
  const board = await SerialBoard.connect(clock, transport, { leaseMs, label: fw.path });
  const refused: string[] = [];
  const applied: BoardEvent[] = [];
  board.subscribe((e) => {
    if (e.type === 'refused') refused.push(`${e.command}: ${e.status}`);
    if (e.type === 'applied') applied.push(e);
  });
  board.configureUltrasound({ frequencyMHz: 1, dutyCyclePct: 100, eraCm2: 5 });
  return { board, transport, refused, applied };
}

/** Wait (up to 2 s) for the board to report the ultrasound applied at `value`. */
async function appliedUs(board: SerialBoard, value: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      off();
      resolve(false);
    }, 2000);
    const off = board.subscribe((e) => {
      if (e.type === 'applied' && e.output === 'ultrasound' && e.action === 'set' && e.value === value) {
        clearTimeout(t);
        off();
        resolve(true);
      }
    });
  });
}

/** Wait until the board clock (as the host estimates it) reaches `boardMs`. */
async function untilBoard(board: SerialBoard, boardMs: number): Promise<void> {
  for (;;) {
    const left = boardMs - board.boardNow();
    if (left <= 0) return;
    await sleep(left);
  }
}

/**
 * Alternate the ultrasound between 1.5 W/cm² and 0 so every set-point is one edge of the
 * enable pin (PD4, 100 % duty), and return, per set-point, pin edge − intended board tick in µs.
 */
async function timingRun(fw: FirmwareBoard, board: SerialBoard, n: number, spacingMs: number, hostTimed: boolean, leadMs: number): Promise<number[]> {
  await fw.control('edges?');
  const t0 = board.boardNow() + 200;
  const targets: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = t0 + i * spacingMs;
    const value = i % 2 === 0 ? 1.5 : 0;
    if (hostTimed) {
      await untilBoard(board, at); // the host's timer decides when
      board.set('ultrasound', board.boardNow() + leadMs, value);
    } else {
      await untilBoard(board, at - AHEAD_MS); // sent ahead; the board decides when
      board.set('ultrasound', at, value);
    }
    targets.push(at);
  }
  await sleep(200);
  board.set('ultrasound', board.boardNow() + 50, 0);
  await sleep(100);
  const rep = parseEdges(await fw.control('edges?'));
  const usen = rep.edges.filter((e) => e.pin === 'usen');
  const errors: number[] = [];
  targets.forEach((at, i) => {
    // the edge this set-point makes: its level, from its tick up to the next set-point
    const level = i % 2 === 0 ? 1 : 0;
    const tick = rep.epoch + at * CYCLES_PER_TICK;
    const e = usen.find((x) => x.level === level && x.cycle >= tick - CYCLES_PER_TICK && x.cycle < tick + spacingMs * CYCLES_PER_TICK);
    if (e) errors.push((e.cycle - tick) / CYCLES_PER_US - leadMs * 1000);
  });
  return errors;
}

export async function benchFirmware(opts: BenchFirmwareOptions = {}): Promise<Record<string, unknown>> {
  const n = opts.setPoints ?? 100;
  const spacing = opts.spacingMs ?? 50;
  const repeats = opts.repeats ?? 8;
  const wall0 = performance.now();
  await buildFirmware();
  const size = execFileSync('make', ['-s', '-C', FIRMWARE_DIR, 'size'], { encoding: 'utf8' });
  const m = /flash (\d+) \/ (\d+) bytes; RAM (\d+) \/ (\d+) bytes static, (\d+) left/.exec(size);
  const fw = await startFirmwareBoard();
  const out: Record<string, unknown> = {};
  try {
    // ---- set-point timing under host CPU load
    const { board, transport, refused, applied } = await connect(fw, 400);
    const loadProcesses = opts.loadProcesses ?? Math.max(1, availableParallelism() - 1);
    const load = cpuLoad(loadProcesses);
    let boardTimed: number[], hostTimed: number[], eventErrMs: number[], refusedBoard: number, refusedHost: number;
    let refusedKinds = ['', ''];
    const leadMs = LEAD_MS;
    try {
      await sleep(300);
      boardTimed = await timingRun(fw, board, n, spacing, false, 0);
      eventErrMs = applied.filter((e) => e.type === 'applied' && e.output === 'ultrasound').map(() => 0);
      refusedBoard = refused.length;
      hostTimed = await timingRun(fw, board, n, spacing, true, leadMs);
      refusedHost = refused.length - refusedBoard;
      refusedKinds = [tally(refused.slice(0, refusedBoard)), tally(refused.slice(refusedBoard))];
    } finally {
      load.stop();
    }
    void eventErrMs;
    const bt = quantiles(boardTimed);
    const ht = quantiles(hostTimed);
    Object.assign(out, {
      hostLoadProcesses: `${loadProcesses} busy loops on ${availableParallelism()} cores`,
      boardTimedSetPointErrorP50Us: bt.p50,
      boardTimedSetPointErrorP99Us: bt.p99,
      boardTimedSetPointErrorMaxUs: bt.max,
      boardTimedSetPoints: `${bt.n}/${n} measured (${refusedBoard} refused: ${refusedKinds[0]})`,
      hostTimedSetPointErrorP50Us: ht.p50,
      hostTimedSetPointErrorP99Us: ht.p99,
      hostTimedSetPointErrorMaxUs: ht.max,
      hostTimedSetPoints: `${ht.n}/${n} measured (${refusedHost} refused: ${refusedKinds[1]}; sent for host-now + ${leadMs} ms, the lead taken off the figures)`,
    });

    // ---- stop input to every output off, at the pins, under the firmware's worst load: a TENS
    // train at 150 Hz on a ramp in progress, the ultrasound on, and a UART burst at full line rate
    await fw.control('isr?'); // forget the interrupt run times so far
    const stopUs: number[] = [];
    let pulsesAfterStop = 0;
    for (let i = 0; i < repeats; i++) {
      board.clear('all');
      board.configureTens('tens1', { rateHz: 150, pulseWidthUs: 200, waveform: 'symmetric-biphasic', electrodeAreaCm2: 25, highDensityAcknowledged: false });
      const on = appliedUs(board, 1.5);
      const t = board.boardNow() + 60;
      board.set('ultrasound', t, 1.5);
      board.ramp('tens1', t, 0, 25, 2500);
      if (!(await on)) continue;
      await sleep(300); // into the ramp, pulses running
      await fw.control('edges?');
      await fw.control('edges? pulses');
      transport.write(new Uint8Array(600).fill(0x7e)); // ~52 ms of sync bytes at 115200: the UART busy throughout
      await sleep(10);
      await fw.control('stop 1');
      await sleep(20);
      const rep = parseEdges(await fw.control('edges?'));
      const pulses = parseEdges(await fw.control('edges? pulses'));
      const press = rep.edges.find((e) => e.pin === 'stop' && e.level === 1);
      if (press) {
        const offs = [
          rep.edges.find((e) => e.pin === 'usen' && e.level === 0 && e.cycle >= press.cycle),
          // TENS ch1: its pulse pin, if a pulse was high at the press, falls; no pulse rises after it
          pulses.edges.find((e) => e.pin === 't1' && e.level === 0 && e.cycle >= press.cycle && e.cycle < press.cycle + 20 * CYCLES_PER_US),
        ].filter((e) => e !== undefined);
        pulsesAfterStop += pulses.edges.filter((e) => e.pin === 't1' && e.level === 1 && e.cycle > press.cycle).length;
        if (offs[0]) stopUs.push((Math.max(...offs.map((e) => e!.cycle)) - press.cycle) / CYCLES_PER_US);
      }
      await fw.control('stop 0');
      await sleep(30);
    }
    const isr = parseIsr(await fw.control('isr?'));
    board.clear('all');
    await sleep(50);
    await board.close();
    const st = quantiles(stopUs);
    Object.assign(out, {
      stopToOffP50Us: st.p50,
      stopToOffP99Us: st.p99,
      stopToOffMaxUs: st.max,
      stopSamples: `${st.n} (TENS 150 Hz on a ramp, ultrasound on, UART burst at line rate)`,
      tensPulsesAfterStop: pulsesAfterStop,
    });
    // the longest run of each interrupt routine during the stop runs (entry to RETI, nested ones included)
    const longest = [...isr].sort((a, b) => b[1] - a[1]);
    for (const [v, cycles] of longest) out[`longestIsr ${VECTOR_NAMES[v] ?? `vector ${v}`} (µs)`] = Math.round((cycles / CYCLES_PER_US) * 10) / 10;

    // ---- host silence to outputs off: the lease, measured from the last byte the board received
    const leaseMs = 200;
    const silenceUs: number[] = [];
    const fromByteUs: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const c = await connect(fw, leaseMs);
      c.board.clear('all');
      const on = appliedUs(c.board, 1.5);
      c.board.set('ultrasound', c.board.boardNow() + 60, 1.5);
      if (!(await on)) {
        await c.board.close();
        continue;
      }
      await fw.control('edges?');
      await c.board.close(); // the host goes silent
      await sleep(leaseMs + 150);
      const rep = parseEdges(await fw.control('edges?'));
      const off = rep.edges.find((e) => e.pin === 'usen' && e.level === 0);
      if (off && rep.lastRxIsr) {
        // the lease expires at the tick edge leaseMs after the tick in which the last byte came in
        const lastTick = Math.floor((rep.lastRxIsr - rep.epoch) / CYCLES_PER_TICK);
        const expiry = rep.epoch + (lastTick + leaseMs) * CYCLES_PER_TICK;
        silenceUs.push((off.cycle - expiry) / CYCLES_PER_US);
        fromByteUs.push((off.cycle - rep.lastRxIsr) / CYCLES_PER_US - leaseMs * 1000);
      }
    }
    const si = quantiles(silenceUs);
    const fb = quantiles(fromByteUs);
    Object.assign(out, {
      leaseMs,
      leaseExpiryToOffP50Us: si.p50,
      leaseExpiryToOffP99Us: si.p99,
      leaseExpiryToOffMaxUs: si.max,
      lastByteToOffMinusLeaseP50Us: fb.p50,
      lastByteToOffMinusLeaseMaxUs: fb.max,
      silenceSamples: `${si.n} (the lease counts whole ticks: it expires at the tick edge leaseMs after the tick of the last byte)`,
    });
  } finally {
    await fw.stop();
  }
  if (m) {
    Object.assign(out, {
      flashBytes: Number(m[1]),
      flashOfBytes: Number(m[2]),
      flashPct: Math.round((1000 * Number(m[1])) / Number(m[2])) / 10,
      ramStaticBytes: Number(m[3]),
      ramOfBytes: Number(m[4]),
      ramPct: Math.round((1000 * Number(m[3])) / Number(m[4])) / 10,
      ramLeftForStackBytes: Number(m[5]),
    });
  }
  out['benchWallS'] = Math.round((performance.now() - wall0) / 100) / 10;
  return out;
}
