import { describe, expect, it } from 'vitest';
import { formatMs, formatSessionTime, TimeFormatError } from '../../src/util/time.js';

describe('formatMs: the one time formatter', () => {
  it('rounds once, to tenths, before splitting into minutes and hours (no 0:60.0 rollovers)', () => {
    expect(formatMs(59_998)).toBe('1:00'); // the issue: printed as 0:60.0
    expect(formatMs(59_999.5)).toBe('1:00'); // 59.9995 s
    expect(formatMs(59_949)).toBe('0:59.9');
    expect(formatMs(59_950)).toBe('1:00');
    expect(formatMs(3_599_999.5)).toBe('1:00:00'); // 3599.9995 s
    expect(formatMs(3_599_949)).toBe('59:59.9');
    expect(formatMs(1_559_998)).toBe('26:00'); // 25:59.998
    expect(formatMs(7_199_960)).toBe('2:00:00');
  });

  it('prints whole seconds without a fraction, and hours only when needed', () => {
    expect(formatMs(0)).toBe('0:00');
    expect(formatMs(49)).toBe('0:00');
    expect(formatMs(50)).toBe('0:00.1');
    expect(formatMs(1_234_567)).toBe('20:34.6');
    expect(formatMs(600_000)).toBe('10:00');
    expect(formatMs(3_600_000)).toBe('1:00:00');
    expect(formatMs(3_661_500)).toBe('1:01:01.5');
    expect(formatMs(36_000_000 + 61_000)).toBe('10:01:01');
  });

  it('refuses negative and non-finite durations', () => {
    expect(() => formatMs(-1)).toThrow(TimeFormatError);
    expect(() => formatMs(-0.0001)).toThrow(/cannot be negative/);
    expect(() => formatMs(Number.NaN)).toThrow(TimeFormatError);
    expect(() => formatMs(Infinity)).toThrow(TimeFormatError);
  });

  it('session times may be before the zero, and carry a sign', () => {
    expect(formatSessionTime(-1500)).toBe('-0:01.5');
    expect(formatSessionTime(-40)).toBe('0:00');
    expect(formatSessionTime(-59_998)).toBe('-1:00');
    expect(formatSessionTime(61_000)).toBe('1:01');
  });
});

describe('every module prints times through src/util/time.ts', () => {
  it('src/records does not import the CLI, and nothing else defines a time formatter', async () => {
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk('src');
    walk('sim');
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      // The CLI's glue to the records (--data, one-line errors) is src/cli/records.ts: the records never need the CLI.
      if (f.startsWith(join('src', 'records'))) expect(text, f).not.toMatch(/from '\.\.\/cli\//);
      if (f !== join('src', 'util', 'time.ts')) expect(text, f).not.toMatch(/function formatMs|const formatMs/);
    }
  });
});
