/**
 * docs/protocol.md is the contract. Its timing numbers come from spec.ts: the table
 * "Timing numbers" must list exactly the values spec.ts holds, and no other figure in ms
 * may appear in its prose (code blocks, which show example sessions, aside).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOARD_LIMITS, HOST_TIMING } from '../../src/drivers/wire/spec.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

function timingTable(): Map<string, number> {
  const start = DOC.indexOf('## Timing numbers');
  const end = DOC.indexOf('\n## ', start + 1);
  const rows = new Map<string, number>();
  for (const m of DOC.slice(start, end).matchAll(/^\| `(\w+)` \| (\d+) ms \|/gm)) rows.set(m[1]!, Number(m[2]));
  return rows;
}

describe('docs/protocol.md quotes spec.ts', () => {
  it('the timing table lists every time in BOARD_LIMITS and HOST_TIMING, with its value', () => {
    const table = timingTable();
    const spec: Record<string, number> = {};
    for (const [k, v] of Object.entries(BOARD_LIMITS)) if (/Ms$/.test(k)) spec[k] = v;
    for (const [k, v] of Object.entries(HOST_TIMING)) if (/Ms$/.test(k)) spec[k] = v;
    expect(Object.fromEntries(table)).toEqual(spec);
  });

  it('the counts it quotes are spec.ts values', () => {
    expect(DOC).toContain(`\`queueDepth\` = ${BOARD_LIMITS.queueDepth}`);
    expect(DOC).toContain(`\`eventQueueDepth\` = ${BOARD_LIMITS.eventQueueDepth}`);
    expect(DOC).toContain(`\`maxTries\` = ${HOST_TIMING.maxTries}`);
  });

  it('no figure in ms stands in the prose outside the table (write the name instead)', () => {
    const prose = DOC.replace(/```[\s\S]*?```/g, '')
      .split('\n')
      .filter((l) => !l.startsWith('|'));
    const stray = prose.filter((l) => /\b\d+ ?ms\b/.test(l));
    expect(stray).toEqual([]);
  });
});
