/** `modality run` as a user runs it: a real process, real exit codes, real output. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { describe, expect, it } from 'vitest';
import { listBuiltins, resolveProtocol } from '../../src/protocol/index.js';
import { expectDeliveredAsPlanned } from '../delivered.js';

const BIN = new URL('../../bin/modality.js', import.meta.url).pathname;
function modality(...args: string[]) {
  // The timeout only guards against a hung process (a synchronous spawn cannot be interrupted by the test timeout).
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same command line in process (no process start-up per call): what main() prints and returns. */
async function inProcess(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`), err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`) });
  return { code, out, err };
}

describe('modality run', () => {
  it.each(listBuiltins().map((b) => b.id))('completes the built-in %s at --speed max with the planned delivery', async (id) => {
    const r = await inProcess('run', id, '--speed', 'max', '--json', '--data', mkdtempSync(join(tmpdir(), 'modality-run-')));
    expect(r.code, `${id}: ${r.err}`).toBe(0);
    const summary = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(summary.outcome).toBe('completed');
    const resolved = resolveProtocol(id);
    if (!resolved.ok) throw new Error(id);
    expectDeliveredAsPlanned(resolved.plan, summary.delivered);
  });

  it('prints one JSON event per line, ending with the summary, and exits 0 when completed', () => {
    const r = modality('run', 'upper-back-heat-us-tens', '--speed', 'max', '--json');
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].type).toBe('session');
    const summary = lines.at(-1);
    expect(summary).toMatchObject({ type: 'summary', outcome: 'completed', protocol: 'upper-back-heat-us-tens' });
    expect(summary.delivered.map((d: { modality: string }) => d.modality)).toEqual(['thermal', 'ultrasound', 'tens']);
    expect(Object.keys(summary.link)).toEqual(expect.arrayContaining(['framesSent', 'retransmits', 'crcErrors']));
    // Telemetry at most once a second.
    const tm = lines.filter((l) => l.type === 'telemetry').map((l) => l.boardMs);
    for (let i = 1; i < tm.length; i++) expect(tm[i] - tm[i - 1]).toBeGreaterThanOrEqual(1000);
    expect(r.err).toBe('');
  });

  it('prints byte-identical output for the same arguments', () => {
    const args = ['run', 'us-tens-combined', '--speed', 'max', '--json', '--fault', 'line-noise:0.001', '--fault', 'lead-off@2m+10s', '--seed', '7'];
    const a = modality(...args);
    const b = modality(...args);
    expect(a.code).toBe(0);
    expect(a.out.length).toBeGreaterThan(10_000);
    expect(b.out).toBe(a.out);
  });

  it('exits 3 when stopped and 4 when faulted', () => {
    expect(modality('run', 'examples/tens-10s.yaml', '--speed', 'max', '--fault', 'stop-button@5s').code).toBe(3);
    const f = modality('run', 'examples/tens-10s.yaml', '--speed', 'max', '--fault', 'host-silence@5s', '--json');
    expect(f.code).toBe(4);
    expect(JSON.parse(f.out.trim().split('\n').at(-1)!).faults.map((x: { code: string }) => x.code)).toContain('HOST_TIMEOUT');
  });

  it('rejects bad input with exit 2, a clear message and no stack trace', () => {
    for (const args of [
      ['run', 'no-such-protocol'],
      ['run', 'tens-conventional', '--fault', 'meteor@5s'],
      ['run', 'tens-conventional', '--fault', 'lead-off@soon'],
      ['run', 'tens-conventional', '--speed', 'fast'],
      ['run', 'tens-conventional', '--board', 'serial:/dev/ttyNOPE'],
      ['run', 'tens-conventional', '--board', 'usb'],
      ['run', 'tens-conventional', '--board', 'serial:/dev/ttyNOPE', '--speed', '10'],
    ]) {
      const r = modality(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/modality: |error/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const missing = modality('run', 'tens-conventional', '--board', 'serial:/dev/ttyNOPE');
    expect(missing.err).toContain('/dev/ttyNOPE');
    expect(missing.err).toMatch(/Ports on this machine|no serial ports were found/);
  });

  it('shows plain progress lines and a summary when stdout is not a terminal', () => {
    const r = modality('run', 'examples/tens-10s.yaml', '--speed', 'max');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/#0 tens plateau/);
    expect(r.out).toMatch(/outcome: COMPLETED/);
    expect(r.out).toMatch(/delivered #0 TENS ch1: 0:06 at amplitude \(planned 0:06\)/);
  });

  it('--help teaches the options, keys, fault specs and exit codes', () => {
    const r = modality('run', '--help');
    expect(r.code).toBe(0);
    for (const s of ['--board', '--speed', '--fault', 'lead-off@T', 'EMERGENCY STOP', 'Exit codes']) expect(r.out).toContain(s);
  });
});
