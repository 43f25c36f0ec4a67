/** Bad --fault options are refused before anything starts: exit 2, one line each, and no record written. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tmp } from '../records/helpers.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`), err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`) });
  return { code, out, err };
}

describe('modality run refuses faults that cannot happen', () => {
  it('a fault time past the planned end (the issue: lead-off@2h on a 20-minute session was accepted and never happened)', async () => {
    const data = tmp();
    const r = await run('run', 'tens-conventional', '--speed', 'max', '--fault', 'lead-off@2h', '--data', data);
    expect(r.code).toBe(2);
    expect(r.err).toBe('modality: --fault lead-off:1@2:00:00: that is not before the planned end of the session (20:15), so it would never happen\n');
    expect(r.out).toBe('');
    expect(existsSync(join(data, 'records.db'))).toBe(false); // nothing started, nothing recorded
  });

  it('at the planned end exactly is refused too; just before it is accepted and happens', async () => {
    const data = tmp();
    expect((await run('run', 'examples/tens-10s.yaml', '--speed', 'max', '--fault', 'stop-button@10s', '--data', data)).code).toBe(2);
    const ok = await run('run', 'examples/tens-10s.yaml', '--speed', 'max', '--json', '--fault', 'stop-button@9s', '--data', data);
    expect(ok.code).toBe(3);
    expect(JSON.parse(ok.out.trim().split('\n').at(-1)!)).toMatchObject({ outcome: 'stopped', stopReason: 'patient' });
  });

  it.each([
    [['--fault', 'coupling-loss@10s'], 'modality: --fault coupling-loss: the board has no ultrasound head\n'],
    [['--fault', 'overtemp@10s'], 'modality: --fault overtemp: the board has no thermal pad\n'],
  ])('a fault kind the board (shaped by --profile) cannot inject: %j', async (fault, message) => {
    const r = await run('run', 'tens-conventional', '--speed', 'max', '--profile', 'tests/fixtures/profiles/tens-only.json', ...fault, '--data', tmp());
    expect(r.code).toBe(2);
    expect(r.err).toBe(message);
  });

  it('a TENS channel the board does not have', async () => {
    const r = await run(
      'run',
      'tens-conventional',
      '--speed',
      'max',
      '--profile',
      'tests/fixtures/profiles/narrow.json',
      '--fault',
      'lead-off:2@10s',
      '--data',
      tmp(),
    );
    expect(r.code).toBe(2);
    expect(r.err).toBe('modality: --fault lead-off:2: the board has one TENS channel\n');
  });
});
