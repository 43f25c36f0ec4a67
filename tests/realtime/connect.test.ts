/**
 * Every connect failure ends `modality run` with exit 2 and one line, serial
 * and Firmata alike: no board on the port (a pty with nothing answering),
 * wrong firmware (a Firmata board on serial:, a modality board on firmata:),
 * a missing port. Real processes over real ptys; the only bound is the test
 * timeout (a process that never exits fails it), never host time.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair } from '../../sim/pty.js';
import { serveFirmataOnPty } from '../../sim/firmata-pty.js';
import { BIN, modality, tmp } from '../records/helpers.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function run(board: string) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn(process.execPath, [BIN, 'run', 'examples/tens-10s.yaml', '--board', board, '--data', tmp()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

const oneLine = (text: string) => text.trimEnd().split('\n');

describe('connect failures end the process with exit 2 and one line', () => {
  it('serial: a port with nothing answering (it used to print "no answer" and never exit)', async () => {
    const silent = openPtyPair();
    cleanups.push(() => silent.close());
    const r = await run(`serial:${silent.path}`);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toEqual([
      `modality: no answer from the board on serial:${silent.path} within 3000 ms: check the cable, the port and that the board runs modality firmware (115200 baud)`,
    ]);
    expect(r.out).toBe('');
  });

  it('firmata: a port with nothing answering', async () => {
    const silent = openPtyPair();
    cleanups.push(() => silent.close());
    const r = await run(`firmata:${silent.path}`);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^modality: no Firmata answer from \/dev\/pts\/\d+ within 5000 ms/);
  });

  it('serial: wrong firmware (StandardFirmata behind the port)', async () => {
    const firmata = serveFirmataOnPty();
    cleanups.push(() => firmata.close());
    const r = await run(`serial:${firmata.path}`);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^modality: no answer from the board on serial:/);
  });

  it('firmata: wrong firmware (the modality board behind the port)', async () => {
    const sim = spawn(process.execPath, [BIN, 'sim', '--pty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => sim.kill('SIGTERM'));
    const path = await new Promise<string>((resolve) => sim.stdout.once('data', (d: Buffer) => resolve(d.toString('utf8').trim())));
    const r = await run(`firmata:${path}`);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^modality: no Firmata answer from \/dev\/pts\/\d+/);
  });

  it.each(['serial', 'firmata'])('%s: a missing port, at once, naming the ports there are (firmata used to say "internal error", exit 1)', (kind) => {
    const r = modality('run', 'examples/tens-10s.yaml', '--board', `${kind}:/dev/ttyUSB97`, '--data', tmp());
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^modality: no serial port (at )?\/dev\/ttyUSB97/);
  });
});
