/**
 * The session report: a timeline chart (SVG, written by hand) of what the board
 * reported, and (HTML) the chart with a table of planned against delivered
 * values, the faults and the clinician's actions.
 *
 * Series come from the stored telemetry (at most one a second); faults are
 * marked from the stored fault events. Colours are fixed (SERIES_COLOURS) so a
 * screenshot test can find each series.
 */
import type { RunEvent } from '../engine/events.js';
import { MODALITIES, type ModalityDescriptor } from '../modalities/index.js';
import { formatMs } from '../util/time.js';
import { clinicalSections, localDateTime, simulationReason, whoWhereWhy } from './clinical.js';
import { deliveredLine, deliveredTable } from './format.js';
import type { SessionRecord } from './store.js';

const FAULT_COLOUR = '#d62728';

/** Every colour the chart draws, by name: each modality's chart colours (src/modalities/), and the fault lines'. */
export const SERIES_COLOURS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.values(MODALITIES).flatMap((m) => Object.entries(m.chart.colours))),
  fault: FAULT_COLOUR,
};

type Telemetry = Extract<RunEvent, { type: 'telemetry' }>;
type Fault = Extract<RunEvent, { type: 'fault' }>;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Max/min without spreading (a long session has too many samples for Math.max(...xs)). */
function maxOf(xs: Iterable<number>, start = -Infinity): number {
  let m = start;
  for (const x of xs) if (x > m) m = x;
  return m;
}
const numbers = (v: number | null): number[] => (v === null ? [] : [v]);

function minOf(xs: Iterable<number>, start = Infinity): number {
  let m = start;
  for (const x of xs) if (x < m) m = x;
  return m;
}

const fmt = (x: number) => String(Number(x.toFixed(1)));

/** 1, 2, 5 × 10^k steps giving about `count` ticks over [0, max]. */
function niceStep(max: number, count: number): number {
  const raw = max / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Time axis steps in ms: whole seconds or minutes. */
function timeStep(maxMs: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);
  return steps.find((s) => maxMs / s <= 10) ?? 7200_000;
}

interface Panel {
  key: string;
  title: string;
  unit: string;
  yMin: number;
  yMax: number;
  draw: (x: (t: number) => number, y: (v: number) => number, top: number, h: number) => string;
}

function polylines(points: [number, number | null][], x: (t: number) => number, y: (v: number) => number, colour: string, dashed = false): string {
  const runs: string[][] = [];
  let cur: string[] = [];
  for (const [t, v] of points) {
    if (v === null) {
      if (cur.length) runs.push(cur);
      cur = [];
      continue;
    }
    cur.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
  }
  if (cur.length) runs.push(cur);
  return runs
    .map((r) => (r.length === 1 ? `${r[0]} ${r[0]}` : r.join(' ')))
    .map(
      (pts) =>
        `<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2" shape-rendering="crispEdges"${dashed ? ' stroke-dasharray="8 4"' : ''}/>`,
    )
    .join('\n');
}

/** The timeline chart of one session, as a standalone SVG document. */
export function renderSvg(rec: SessionRecord, opts: { width?: number; header?: boolean } = {}): string {
  const width = opts.width ?? 1100;
  const header = opts.header ?? true;
  const events = rec.events.map((e) => e.event);
  const allTele = events.filter((e): e is Telemetry => e.type === 'telemetry');
  // A very long record (hours) has more samples than the chart has pixels: keep every k-th, and every change of a strip (the coupling).
  const stride = Math.ceil(allTele.length / 4000);
  const strips = Object.values(MODALITIES).flatMap((m) => (m.chart.strip ? [m.chart.strip] : []));
  const changed = (a: Telemetry, b: Telemetry | undefined) => b !== undefined && strips.some((f) => f(a.outputs) !== f(b.outputs));
  const tele = stride <= 1 ? allTele : allTele.filter((e, i) => i % stride === 0 || i === allTele.length - 1 || changed(e, allTele[i - 1]));
  const faults = events.filter((e): e is Fault => e.type === 'fault');
  const programs = rec.plan.steps.flatMap((s) => s.programs);
  const lastT = maxOf(
    events.map((e) => ('t' in e && typeof e.t === 'number' ? e.t : 0)),
    Math.max(1000, rec.elapsedMs ?? 0),
  );
  const endT = Math.max(lastT, rec.outcome === 'completed' ? 0 : Math.min(rec.plannedMs, lastT));

  const panels: Panel[] = [];
  // a panel per modality the plan uses, in registry order, as its descriptor's chart says
  for (const m of Object.values(MODALITIES) as ModalityDescriptor[]) {
    const own = programs.filter((p) => p.modality === m.name);
    if (!own.length) continue;
    const c = m.chart;
    const colour = (key: string) => c.colours[key] ?? '#000';
    const series = c.series(own);
    const values = [...own.flatMap((p) => c.planned(p)), ...series.flatMap((se) => tele.flatMap((e) => numbers(se.at(e.outputs))))];
    let yMin = 0,
      yMax: number;
    if (c.axis.from === 'zero') yMax = maxOf(values, c.axis.atLeast) * 1.1;
    else {
      yMin = Math.floor((minOf(values) - 2) / 5) * 5;
      yMax = Math.ceil((maxOf(values) + 2) / 5) * 5;
    }
    const strip = c.strip;
    panels.push({
      key: c.key,
      title: c.title,
      unit: c.unit,
      yMin,
      yMax,
      draw: (x, y, top, h) => {
        const out: string[] = [];
        if (strip)
          for (let i = 0; i < tele.length; i++) {
            const a = tele[i]!,
              b = tele[i + 1];
            const key = strip(a.outputs);
            if (key === null) continue;
            const x0 = x(a.t),
              x1 = b ? x(b.t) : x(Math.min(endT, a.t + 1000));
            out.push(
              `<rect x="${x0.toFixed(1)}" y="${(top + h - 8).toFixed(1)}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="8" fill="${colour(key)}" shape-rendering="crispEdges"/>`,
            );
          }
        for (const se of series)
          out.push(
            polylines(
              tele.map((e) => [e.t, se.at(e.outputs)]),
              x,
              y,
              colour(se.colour),
              se.dashed,
            ),
          );
        return out.join('\n');
      },
    });
  }

  const left = 80,
    right = 30,
    headerH = header ? 58 : 8,
    panelH = 140,
    gap = 30,
    axisH = 40;
  const plotW = width - left - right;
  const height = headerH + Math.max(1, panels.length) * (panelH + gap) + axisH;
  const x = (t: number) => left + (Math.max(0, Math.min(t, endT)) / endT) * plotW;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<title>${esc(`Session ${rec.id}: ${rec.protocol.name}`)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (header) out.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">${esc(`Session ${rec.id} · ${rec.protocol.name}`)}</text>`);
  if (header)
    out.push(
      `<text x="${left}" y="42" fill="#444444">${esc(`${rec.protocol.id} · started ${localDateTime(rec.startedAt)} · ${rec.outcome}${rec.outcome === 'interrupted' ? ` (record ends at ${formatMs(rec.elapsedMs ?? 0)})` : ''} · planned ${formatMs(rec.plannedMs)}`)}</text>`,
    );
  const tStep = timeStep(endT);
  panels.forEach((p, i) => {
    const top = headerH + i * (panelH + gap) + 16;
    const h = panelH;
    const y = (v: number) => top + h - ((v - p.yMin) / (p.yMax - p.yMin)) * h;
    out.push(`<g class="panel" data-series="${p.key}">`);
    out.push(`<text x="${left}" y="${top - 5}" font-weight="bold">${esc(`${p.title}, ${p.unit}`)}</text>`);
    out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${h}" fill="#fafafa" stroke="#999999"/>`);
    const vStep = niceStep(p.yMax - p.yMin, 4);
    for (let v = Math.ceil(p.yMin / vStep) * vStep; v <= p.yMax + 1e-9; v += vStep) {
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/>`);
      out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(fmt(v))}</text>`);
    }
    for (let t = tStep; t < endT; t += tStep) out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${top + h}" stroke="#eeeeee"/>`);
    out.push(p.draw(x, y, top, h));
    for (const f of faults) {
      out.push(
        `<line x1="${x(f.t).toFixed(1)}" x2="${x(f.t).toFixed(1)}" y1="${top}" y2="${top + h}" stroke="${FAULT_COLOUR}" stroke-width="2" shape-rendering="crispEdges"/>`,
      );
      if (i === 0) out.push(`<text x="${(x(f.t) + 4).toFixed(1)}" y="${top + 14}" fill="${FAULT_COLOUR}">${esc(f.code)}</text>`);
    }
    out.push(`</g>`);
  });
  if (!panels.length) out.push(`<text x="${left}" y="${headerH + 40}">no programs in this protocol</text>`);
  const axisY = headerH + panels.length * (panelH + gap) + 16;
  for (let t = 0; t <= endT + 1e-9; t += tStep) out.push(`<text x="${x(t).toFixed(1)}" y="${axisY}" text-anchor="middle">${esc(formatMs(t))}</text>`);
  out.push(`<text x="${left + plotW}" y="${axisY + 18}" text-anchor="end" fill="#444444">session time (board clock), min:s</text>`);
  out.push(`</svg>`);
  return `${out.join('\n')}\n`;
}

/** The report as one HTML page: header, chart, planned against delivered, faults, actions. */
export function renderHtml(rec: SessionRecord): string {
  const svg = renderSvg(rec, { header: false }).replace(/^<\?xml[^>]*>\n/, '');
  const sim = simulationReason(rec);
  const table = deliveredTable(rec.delivered);
  const b = rec.board;
  const asOf =
    rec.outcome === 'running' || rec.outcome === 'interrupted'
      ? ` (delivered up to ${formatMs(rec.deliveredAsOfMs ?? 0)} of session time: the last values written before the record ends)`
      : '';
  const row = (cells: string[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(`Treatment record ${rec.id}: ${rec.protocol.name}`)}</title>
<style>
body { font-family: sans-serif; margin: 12px 16px; color: #222; font-size: 14px; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
.outcome-interrupted, .outcome-faulted { color: #b00; font-weight: bold; }
.simulated { color: #8a5300; font-weight: bold; border: 2px solid #8a5300; padding: 4px 8px; display: inline-block; }
dl { display: grid; grid-template-columns: max-content auto max-content auto; gap: 2px 12px; margin: 4px 0; }
dd { margin: 0; }
dt { color: #555; }
</style>
</head>
<body>
<h1>${esc(`Treatment record ${rec.id}: ${rec.protocol.name}`)}</h1>
${sim ? `<p class="simulated">${esc(sim)}</p>` : ''}
<dl>
${whoWhereWhy(rec)}
<dt>Protocol</dt><dd>${esc(rec.protocol.id)} (sha256 ${esc(rec.protocol.hash.slice(0, 12))}…)</dd>
<dt>Board</dt><dd>${esc(b ? `${b.kind}, firmware ${b.firmware}, timing on the ${b.timing === 'board' ? 'board' : 'host'}` : 'unknown')} (${esc(rec.boardSpec)})</dd>
<dt>Started</dt><dd>${esc(localDateTime(rec.startedAt))}</dd>
<dt>Ended</dt><dd>${esc(rec.endedAt ? localDateTime(rec.endedAt) : '—')}</dd>
<dt>Outcome</dt><dd class="outcome-${esc(rec.outcome)}">${esc(rec.outcome)}${rec.stopReason ? esc(` (${rec.stopReason})`) : ''}</dd>
<dt>Session time</dt><dd>${esc(`${formatMs(rec.elapsedMs ?? 0)} of ${formatMs(rec.plannedMs)} planned`)}</dd>
</dl>
${svg}
<h2>Planned and delivered${esc(asOf)}</h2>
<table>
${row(['Program', 'Quantity', 'Planned', 'Delivered'], 'th')}
${table.map((r) => row(r)).join('\n')}
</table>
<ul>
${rec.delivered.map((d) => `<li>${esc(deliveredLine(d))}</li>`).join('\n')}
</ul>
${clinicalSections(rec)}
</body>
</html>
`;
}
