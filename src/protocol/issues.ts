/**
 * Issues: every problem with a protocol or profile is a value, never a throw.
 */
import type { core } from 'zod';
import { PARALLEL_KEYS, STEP_KEYS } from './schema.js';

/** 'wire': a value the wire protocol cannot carry exactly (resolution or field range, src/drivers/wire/units.ts). */
export type IssueLayer = 'absolute' | 'profile' | 'schema' | 'syntax' | 'wire';

export type Issue = {
  /** file path as given, or protocols/<id>.yaml for built-ins */
  file: string;
  /** field path like steps[2].tens.amplitudeMa; '' for the whole file */
  path: string;
  message: string;
  value?: unknown;
  /** the limit that was broken, with unit, e.g. "≤ 80 mA" */
  limit?: string;
  layer?: IssueLayer;
  severity: 'error' | 'warning';
  /** who set the limit, e.g. "absolute limit, IEC 60601-2-10" or "device profile default" */
  setBy?: string;
  /** 1-based position in the file, when known */
  line?: number;
  column?: number;
};

export type PathSegment = string | number;

export function pathToString(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

export function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : String(value);
  if (value === undefined) return 'undefined';
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** One human line: `protocols/x.yaml: steps[0].tens.amplitudeMa = 95: exceeds 80 mA (absolute limit, IEC 60601-2-10)` */
export function formatIssue(issue: Issue): string {
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.column ?? 1}` : issue.file;
  const head = issue.path === '' ? where : `${where}: ${issue.path}`;
  const value = 'value' in issue && issue.value !== undefined ? ` = ${formatValue(issue.value)}` : '';
  const tail = issue.setBy ? ` (${issue.setBy})` : '';
  const warn = issue.severity === 'warning' ? 'warning: ' : '';
  return `${head}${value}: ${warn}${issue.message}${tail}`;
}

export const isError = (i: Issue) => i.severity === 'error';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}

type Locate = (path: readonly PathSegment[]) => { line: number; column: number } | undefined;

/**
 * Turn zod issues into Issues. Union errors (a step is one of several shapes)
 * are resolved by the step's own key, so "steps[1].tens.rateHz: missing"
 * comes out rather than "Invalid input".
 */
export function zodIssuesToIssues(
  zIssues: readonly core.$ZodIssue[],
  file: string,
  locate: Locate = () => undefined,
  prefix: readonly PathSegment[] = [],
): Issue[] {
  const out: Issue[] = [];
  const push = (segs: readonly PathSegment[], message: string, value?: unknown, withValue = true) => {
    const pos = locate(segs);
    const issue: Issue = { file, path: pathToString(segs), message, layer: 'schema', severity: 'error' };
    if (withValue && value !== undefined) issue.value = value;
    if (pos) {
      issue.line = pos.line;
      issue.column = pos.column;
    }
    out.push(issue);
  };
  for (const zi of zIssues) {
    const segs = [...prefix, ...(zi.path as PathSegment[])];
    const input = (zi as { input?: unknown }).input;
    switch (zi.code) {
      case 'invalid_type': {
        if (input === undefined) push(segs, `missing required field (expected ${zi.expected})`);
        else push(segs, `wrong type: expected ${zi.expected}, got ${typeName(input)}`, input);
        break;
      }
      case 'unrecognized_keys': {
        // a typo usually shows as an unknown key plus a missing one next to it: suggest it
        const missing = zIssues
          .filter((o) => o.code === 'invalid_type' && (o as { input?: unknown }).input === undefined && o.path.length === zi.path.length + 1)
          .filter((o) => zi.path.every((p, k) => o.path[k] === p))
          .map((o) => String(o.path[o.path.length - 1]));
        for (const key of zi.keys) {
          const near = missing.find((m) => m.toLowerCase() === key.toLowerCase() || editDistance(m, key) <= 2);
          push([...segs, key], `unknown field '${key}'${near ? ` (did you mean '${near}'?)` : ''}`, undefined, false);
        }
        break;
      }
      case 'invalid_value': {
        push(segs, `must be one of ${zi.values.map((v) => String(v)).join(', ')}`, input);
        break;
      }
      case 'invalid_union': {
        out.push(...resolveUnion(zi, segs, input, file, locate));
        break;
      }
      default: {
        // too_small, too_big, invalid_format, custom, …
        const msg = zi.message.replace(/^Invalid input: /, '');
        push(segs, msg, typeof input === 'object' ? undefined : input);
      }
    }
  }
  return out;
}

function resolveUnion(zi: core.$ZodIssueInvalidUnion, segs: PathSegment[], input: unknown, file: string, locate: Locate): Issue[] {
  const mk = (message: string, value?: unknown): Issue => {
    const pos = locate(segs);
    const i: Issue = { file, path: pathToString(segs), message, layer: 'schema', severity: 'error' };
    if (value !== undefined) i.value = value;
    if (pos) {
      i.line = pos.line;
      i.column = pos.column;
    }
    return i;
  };
  // discriminated union (thermal mode) with no matching discriminator
  const disc = (zi as { discriminator?: string; options?: unknown[] }).options;
  if (disc && zi.errors.length === 0) {
    const key = (zi as { discriminator?: string }).discriminator ?? '';
    const v = input && typeof input === 'object' ? (input as Record<string, unknown>)[key] : input;
    return [mk(v === undefined ? `missing required field (one of ${disc.join(', ')})` : `must be one of ${disc.join(', ')}`, v)];
  }
  // which union is this? a step or a parallel item: decide from the trailing path
  const inParallel = segs.length >= 2 && segs[segs.length - 2] === 'parallel';
  const keys: readonly string[] = inParallel ? PARALLEL_KEYS : STEP_KEYS;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return [mk(`wrong type: a step must be an object with one of: ${keys.join(', ')}`, input)];
  }
  const present = Object.keys(input as object);
  const known = present.filter((k) => (keys as readonly string[]).includes(k));
  if (present.length === 1 && known.length === 1) {
    const idx = keys.indexOf(known[0]!);
    const branch = zi.errors[idx];
    if (branch) return zodIssuesToIssues(branch, file, locate, segs);
  }
  if (present.length === 0) return [mk(`empty step: expected one of ${keys.join(', ')}`)];
  if (inParallel && present.length === 1 && (present[0] === 'prompt' || present[0] === 'parallel')) {
    return [mk(`a parallel group may contain only ${keys.join(', ')} programs, not '${present[0]}'`)];
  }
  if (known.length === 0) {
    return present.map((k) => {
      const p = [...segs, k];
      const pos = locate(p);
      const i: Issue = {
        file,
        path: pathToString(p),
        message: `unknown modality '${k}': a ${inParallel ? 'parallel item' : 'step'} is one of ${keys.join(', ')}`,
        layer: 'schema',
        severity: 'error',
      };
      if (pos) {
        i.line = pos.line;
        i.column = pos.column;
      }
      return i;
    });
  }
  return [
    mk(
      `a ${inParallel ? 'parallel item' : 'step'} has exactly one key (one of ${keys.join(', ')}); found ${present.join(', ')}` +
        (inParallel ? '' : '; use parallel: for programs that run together'),
    ),
  ];
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}
