/**
 * The AVR firmware booted on simavr and opened over its pty with serialport, as
 * a BoardUnderTest for the conformance scenarios and the pulse tests.
 */
import { SerialPort } from 'serialport';
import { ADC, electrodeAdc, parsePins, startFirmwareBoard, tensMaFromPwm, thermistorAdc, usFromPwm, type FirmwareBoard } from '../../sim/firmware-runner.js';
import type { BoardUnderTest } from '../conformance/scenarios.js';

export interface BootedFirmware {
  board: FirmwareBoard;
  port: SerialPort;
  under: BoardUnderTest;
  close(): Promise<void>;
}

export async function bootFirmware(): Promise<BootedFirmware> {
  const board = await startFirmwareBoard();
  const port = new SerialPort({ path: board.path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  const boardMs = async () => {
    const answer = await board.control('ms?');
    const m = /^ms (\d+)/.exec(answer.trim());
    if (!m) throw new Error(`the simavr runner answered "${answer}" to ms?`);
    return Number(m[1]);
  };
  const under: BoardUnderTest = {
    write: (bytes) => void port.write(Buffer.from(bytes)),
    onData: (cb) => void port.on('data', (d: Buffer) => cb(new Uint8Array(d))),
    // On the board's own clock (the runner answers `ms?`): a loaded host that starves
    // simavr then waits longer, instead of the scenario reading the board too early.
    advance: async (ms) => {
      const t0 = await boardMs();
      let now = t0;
      while (now - t0 < ms) {
        await new Promise((res) => setTimeout(res, Math.max(1, Math.min(20, ms - (now - t0)))));
        now = await boardMs();
      }
      return now - t0;
    },
    setStopInput: async (on) => void (await board.control(`stop ${on ? 1 : 0}`)),
    setElectrodeOhm: async (ch, ohm) => void (await board.control(`adc ${ch === 0 ? ADC.tens1Z : ADC.tens2Z} ${electrodeAdc(ohm)}`)),
    setCoupled: async (coupled) => void (await board.control(`adc ${ADC.coupling} ${coupled ? 1023 : 0}`)),
    setPadC: async (c) => void (await board.control(`adc ${ADC.padNtc} ${thermistorAdc(c)}`)),
    setHeadC: async (c) => void (await board.control(`adc ${ADC.headNtc} ${thermistorAdc(c)}`)),
    readOutputs: async () => {
      const p = parsePins(await board.control('pins?'));
      return {
        tensMa: [tensMaFromPwm(p.t1amp), tensMaFromPwm(p.t2amp)],
        usWPerCm2: usFromPwm(p.us),
        tensPulseHz: [p.t1hz, p.t2hz],
        padDrive: p.heat + p.cool,
      };
    },
    tolerance: { tensMa: 0.5, usWPerCm2: 0.03 },
  };
  return {
    board,
    port,
    under,
    close: async () => {
      if (port.isOpen) await new Promise<void>((res) => port.close(() => res()));
      await board.stop();
    },
  };
}
