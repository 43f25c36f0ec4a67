/**
 * The parts of the report that make it clinical documentation: who, where and
 * why; the contraindication answers; faults and clinician actions in words,
 * with session time and local wall-clock time (the cart's time zone, never
 * raw ISO UTC). Words come from the message catalogue (src/messages/).
 */
import type { RunEvent } from '../engine/events.js';
import { en } from '../messages/en.js';
import { fmt } from '../messages/index.js';
import { formatMs } from '../util/time.js';
import type { SessionRecord } from './store.js';

const M = en;
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** A stored wall time (ISO UTC) in the cart's local time zone, with the zone's name. */
export function localDateTime(iso: string | number | null): string {
  if (iso === null) return '—';
  const d = new Date(iso);
  const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value;
  return `${dateTime.format(d)}${zone ? ` ${zone}` : ''}`;
}
export const localTime = (ms: number) => time.format(new Date(ms));

type Action = Extract<RunEvent, { type: 'action' }>;
type Fault = Extract<RunEvent, { type: 'fault' }>;

/** A fault in words: what happened, what the board did. */
export function faultInWords(f: Pick<Fault, 'code' | 'output' | 'message'>): string {
  const w = M.faults.codes[f.code];
  const p = { output: M.faults.outputs[f.output ?? 'all'] ?? f.output ?? '', message: f.message ?? '', code: f.code };
  if (!w) return `${fmt(M.faults.unknown.what, p)}${f.message ? ` ${f.message}` : ''}`;
  return `${fmt(w.what, p)} ${fmt(w.board, p)}`;
}

/** A clinician action in words, e.g. "intensity 25 → 26 mA at 4:10"; null for engine bookkeeping (step changes). */
export function actionInWords(a: Action): string | null {
  if (a.kind === 'step') return null;
  const template = M.actions[a.kind];
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(a)) if (typeof v === 'string' || typeof v === 'number') params[k] = v;
  if (a.kind === 'adjust') {
    params['from'] = String(a['fromMa']);
    params['to'] = String(a['toMa']);
  }
  if (a.kind === 'adjust-clamped') params['max'] = String(a['maxMa']);
  const text = template ? fmt(template, params) : a.kind.replace(/_/g, ' ');
  return fmt(M.actions['at']!, { action: text, time: formatMs(Math.floor(a.t / 1000) * 1000) });
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const row = (cells: string[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;

/** Why a record is a simulation, in words; null for a treatment. */
export function simulationReason(rec: SessionRecord): string | null {
  if (!rec.simulated) return null;
  const why = [
    rec.boardSpec === 'sim' || rec.board?.kind === 'simulated' ? M.report.simWhy['board']! : '',
    rec.speed !== null && rec.speed !== 1
      ? Number.isFinite(rec.speed)
        ? fmt(M.report.simWhy['speed']!, { speed: rec.speed })
        : M.report.simWhy['speedMax']!
      : '',
    rec.injectedFaults.length ? fmt(M.report.simWhy['faults']!, { faults: rec.injectedFaults.join(', ') }) : '',
  ].filter(Boolean);
  return fmt(M.report.simulated, { why: why.join('; ') });
}

/** Who, where, why: `<dt>/<dd>` pairs for the report's header. */
export function whoWhereWhy(rec: SessionRecord): string {
  const c = rec.context ?? {};
  const side = c.side ? ` (${M.start.sides[c.side] ?? c.side})` : '';
  const pairs: [string, string][] = [
    [M.report.patient, c.patient ?? M.report.notRecorded],
    [M.report.clinician, c.clinician ?? M.report.notRecorded],
    [M.report.site, c.site ? `${c.site}${side}` : M.report.notRecorded],
    [M.report.indication, rec.protocolDefinition.indication],
  ];
  return pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('\n');
}

/** Notes, contraindication answers, faults and actions in words, as HTML sections. */
export function clinicalSections(rec: SessionRecord): string {
  const c = rec.context ?? {};
  const out: string[] = [];
  out.push(`<h2>${esc(M.report.notes)}</h2>\n<p>${esc(c.notes ?? M.report.notRecorded)}</p>`);
  out.push(`<h2>${esc(M.report.placement)}</h2>\n<p>${esc(rec.protocolDefinition.notes ?? M.detail.noNotes)}</p>`);
  const answers = c.contraindications ?? [];
  out.push(`<h2>${esc(M.report.checklist)}</h2>`);
  out.push(
    answers.length
      ? `<table class="checklist">\n${row(M.report.checklistColumns, 'th')}\n${answers.map((a) => row([M.checklist[a.id] ?? a.text, a.present ? M.report.present : M.report.absent])).join('\n')}\n</table>`
      : `<p>${esc(M.report.checklistNone)}</p>`,
  );
  const wallOf = new Map(rec.events.map((e) => [e.event, e.wallMs]));
  const faults = rec.events.map((e) => e.event).filter((e): e is Fault => e.type === 'fault');
  out.push(`<h2>${esc(M.report.faults)}</h2>`);
  out.push(
    faults.length
      ? `<table class="faults">\n${row(M.report.faultColumns, 'th')}\n${faults.map((f) => row([formatMs(Math.floor(f.t / 1000) * 1000), localTime(wallOf.get(f) ?? 0), faultInWords(f)])).join('\n')}\n</table>`
      : `<p>${esc(M.report.faultsNone)}</p>`,
  );
  const actions = rec.events
    .filter((e) => e.event.type === 'action')
    .map((e) => ({ wall: e.wallMs, text: actionInWords(e.event as Action) }))
    .filter((a) => a.text !== null);
  out.push(`<h2>${esc(M.report.actions)}</h2>`);
  out.push(
    actions.length
      ? `<table class="actions">\n${row(M.report.actionColumns, 'th')}\n${actions.map((a) => row([a.text!, localTime(a.wall)])).join('\n')}\n</table>`
      : `<p>${esc(M.report.actionsNone)}</p>`,
  );
  return out.join('\n');
}
