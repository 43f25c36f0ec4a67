/**
 * The AVR firmware itself, on simavr, over a pseudo-terminal with serialport and the
 * TS codec: the conformance scenarios of tests/conformance/scenarios.ts.
 *
 * Skips only when the AVR toolchain is absent locally; under CI=true a missing
 * toolchain fails (apt packages: see FIRMWARE_APT_PACKAGES).
 */
import { execFileSync } from 'node:child_process';
import { SerialPort } from 'serialport';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ADC, buildFirmware, electrodeAdc, FIRMWARE_APT_PACKAGES, FIRMWARE_DIR, parsePins, startFirmwareBoard,
  tensMaFromPwm, thermistorAdc, toolchainAvailable, usFromPwm, type FirmwareBoard,
} from '../../sim/firmware-runner.js';
import { scenarios, type BoardUnderTest } from '../conformance/scenarios.js';

const available = toolchainAvailable();
const ci = process.env.CI === 'true';

describe('firmware toolchain', () => {
  it.runIf(ci || available)('is installed (required in CI)', () => {
    expect(available, `AVR toolchain missing: apt-get install -y ${FIRMWARE_APT_PACKAGES.join(' ')}`).toBe(true);
  });
});

describe.runIf(available || ci)('AVR firmware on simavr over a pty', () => {
  beforeAll(async () => {
    await buildFirmware();
  }, 180_000);

  it('builds with at least 25% of the RAM left for the stack', () => {
    const out = execFileSync('make', ['-s', '-C', FIRMWARE_DIR, 'size'], { encoding: 'utf8' });
    const m = /flash (\d+) \/ 32768 bytes; RAM (\d+) \/ 2048/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(32768);
    expect(Number(m![2])).toBeLessThanOrEqual(1536);
  });

  let running: { board: FirmwareBoard; port: SerialPort } | undefined;
  afterEach(async () => {
    if (!running) return;
    const { board, port } = running;
    running = undefined;
    if (port.isOpen) await new Promise<void>((res) => port.close(() => res()));
    await board.stop();
  });

  async function boot(): Promise<BoardUnderTest> {
    const board = await startFirmwareBoard();
    const port = new SerialPort({ path: board.path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    running = { board, port };
    const pins = async () => parsePins(await board.control('pins?'));
    return {
      write: (bytes) => void port.write(Buffer.from(bytes)),
      onData: (cb) => void port.on('data', (d: Buffer) => cb(new Uint8Array(d))),
      advance: (ms) => new Promise((res) => setTimeout(res, ms)),
      setStopInput: async (on) => void (await board.control(`stop ${on ? 1 : 0}`)),
      setElectrodeOhm: async (ch, ohm) => void (await board.control(`adc ${ch === 0 ? ADC.tens1Z : ADC.tens2Z} ${electrodeAdc(ohm)}`)),
      setCoupled: async (coupled) => void (await board.control(`adc ${ADC.coupling} ${coupled ? 1023 : 0}`)),
      setPadC: async (c) => void (await board.control(`adc ${ADC.padNtc} ${thermistorAdc(c)}`)),
      readOutputs: async () => {
        const p = await pins();
        return {
          tensMa: [tensMaFromPwm(p.t1amp), tensMaFromPwm(p.t2amp)], usWPerCm2: usFromPwm(p.us), tensPulseHz: [p.t1hz, p.t2hz],
          padDrive: p.heat + p.cool,
        };
      },
      tolerance: { tensMa: 0.5, usWPerCm2: 0.03 },
    };
  }

  for (const s of scenarios) {
    it(s.name, async () => {
      await s.run(await boot());
    }, 45_000); // the runaway scenario waits out the 20 s watch period in real time
  }
});
