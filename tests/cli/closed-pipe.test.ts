/**
 * Commands that only print end quietly, exit 0, when their reader has gone
 * (`modality history | head -1`): no stack trace, nothing on stderr. The read
 * end of the pipe is closed before the command writes a byte, so every write
 * meets EPIPE.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveProtocol } from '../../src/protocol/index.js';
import { RecordStore } from '../../src/records/store.js';
import { simulateSession } from '../../sim/harness.js';
import { BIN, tmp } from '../records/helpers.js';

function closedReader(args: string[]) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }>((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.destroy(); // the reader is gone before the first write
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code, signal) => resolve({ code, signal, err }));
  });
}

describe('print-only commands on a closed pipe', () => {
  it('protocols, show, history, report and export end with exit 0 and print nothing else', async () => {
    const data = tmp();
    const store = RecordStore.open(data);
    const r = resolveProtocol('tens-conventional');
    if (!r.ok) throw new Error('tens-conventional');
    const w = store.begin(r.plan, 'sim');
    const sim = await simulateSession({ plan: r.plan, onEvent: (e) => w.event(e) });
    w.finish(sim.summary);
    store.close();
    for (const args of [
      ['protocols'],
      ['show', 'upper-back-heat-us-tens'],
      ['history', '--data', data],
      ['report', '1', '--data', data],
      ['export', '1', '--format', 'csv', '--data', data],
    ]) {
      const res = await closedReader(args);
      expect({ args, ...res }).toEqual({ args, code: 0, signal: null, err: '' });
    }
  });
});
