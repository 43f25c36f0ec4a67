/**
 * The session report renders: the SVG is well-formed XML, and the HTML report,
 * screenshotted in headless Chromium, is not blank and shows every series.
 *
 * Needs Debian's chromium (apt-get install -y chromium). Skips only when it is
 * absent locally; with CI=true a missing chromium fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERIES_COLOURS } from '../../src/records/report.js';
import { checkXml } from './xml.js';
import { countColour, decodePng, distinctColours } from './png.js';
import { modality, tmp } from './helpers.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../cart/helpers.js';

const chromium = existsSync(CHROMIUM);
const ci = process.env.CI === 'true';

const data = tmp();
const out = tmp('modality-report-');
let id = '';

beforeAll(() => {
  // Every modality, a coupling loss (orange in the coupling strip) and a lead-off (a fault line).
  const r = modality(
    'run',
    'upper-back-heat-us-tens',
    '--speed',
    'max',
    '--json',
    '--data',
    data,
    '--fault',
    'coupling-loss@12m+30s',
    '--fault',
    'lead-off@25m+20s',
  );
  expect(r.code, r.err).toBe(0);
  id = String(JSON.parse(modality('history', '--all', '--json', '--data', data).out)[0].id);
}, 60_000);

describe('modality report', () => {
  it('writes an SVG that is well-formed XML, with a panel per modality and the faults marked', () => {
    const file = join(out, 'session.svg');
    const r = modality('report', id, '--out', file, '--data', data);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(file);
    const svg = readFileSync(file, 'utf8');
    expect(checkXml(svg).root).toBe('svg');
    for (const key of ['tens', 'ultrasound', 'thermal']) expect(svg).toContain(`data-series="${key}"`);
    for (const c of Object.values(SERIES_COLOURS).filter((c) => c !== SERIES_COLOURS.tens2)) expect(svg, c).toContain(c);
    expect(svg).toContain('UNCOUPLED');
    expect(svg).toContain('LEAD_OFF');
  });

  it('prints the HTML report to stdout without --out; the embedded SVG is well-formed too', () => {
    const r = modality('report', id, '--data', data);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^<!DOCTYPE html>/);
    const svg = r.out.slice(r.out.indexOf('<svg'), r.out.indexOf('</svg>') + 6);
    expect(checkXml(svg).root).toBe('svg');
    expect(r.out).toContain('Planned and delivered');
    expect(modality('report', '999', '--data', data).code).toBe(2);
    expect(modality('report', id, '--out', join(out, 'x.pdf'), '--data', data).code).toBe(2);
  });

  it('rejects malformed XML (the checker works)', () => {
    expect(() => checkXml('<svg><g></svg>')).toThrow();
    expect(() => checkXml('<svg a="1" a="2"/>')).toThrow();
    expect(() => checkXml('<svg>&nbsp;</svg>')).toThrow();
    expect(() => checkXml('<svg x=1/>')).toThrow();
  });
});

describe('headless Chromium', () => {
  it.runIf(ci || chromium)('is installed (required in CI)', () => {
    expect(chromium, `${CHROMIUM} missing: apt-get install -y chromium`).toBe(true);
  });

  it.runIf(chromium)(
    'shows the report: not blank, every series drawn',
    () => {
      const html = join(out, 'session.html');
      expect(modality('report', id, '--out', html, '--data', data).code).toBe(0);
      const png = join(out, 'session.png');
      const r = spawnSync(
        CHROMIUM,
        [...CHROMIUM_ARGS, `--user-data-dir=${tmp('modality-chromium-')}`, `--screenshot=${png}`, '--window-size=1200,900', `file://${html}`],
        { encoding: 'utf8', timeout: 300_000 },
      ); // a guard against a hung browser, not a measure
      expect(existsSync(png), r.stderr).toBe(true);
      const img = decodePng(readFileSync(png));
      expect([img.width, img.height]).toEqual([1200, 900]);
      expect(distinctColours(img)).toBeGreaterThan(20);
      const white = countColour(img, '#ffffff', 0);
      expect(white).toBeLessThan(img.width * img.height * 0.95);
      const counts = Object.fromEntries(Object.entries(SERIES_COLOURS).map(([k, c]) => [k, countColour(img, c)]));
      // Thresholds in pixels: long 2-px lines run to thousands, short features to tens.
      expect(counts['tens1'], JSON.stringify(counts)).toBeGreaterThan(1500);
      expect(counts['ultrasound'], JSON.stringify(counts)).toBeGreaterThan(500);
      expect(counts['coupled'], JSON.stringify(counts)).toBeGreaterThan(3000);
      expect(counts['uncoupled'], JSON.stringify(counts)).toBeGreaterThan(40);
      expect(counts['pad'], JSON.stringify(counts)).toBeGreaterThan(1000);
      expect(counts['padTarget'], JSON.stringify(counts)).toBeGreaterThan(100);
      expect(counts['fault'], JSON.stringify(counts)).toBeGreaterThan(600);
    },
    90_000,
  );
});
