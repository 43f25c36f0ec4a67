/**
 * Reading protocol files (YAML or JSON) and built-ins. Every failure comes
 * back as Issues; nothing here throws for bad input.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { isMap, isNode, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { type Issue, type PathSegment, isError, zodIssuesToIssues } from './issues.js';
import { type DeviceProfile, loadProfile, ProfileError } from './profile.js';
import { type Protocol, ProtocolSchema } from './schema.js';
import { checkProtocol } from './validate.js';
import { describeJsonError } from './text.js';
import { buildPlan, type Plan } from './plan.js';
import { packageRoot } from '../util/package-root.js';

export const PROJECT_ROOT = packageRoot();
export const BUILTIN_DIR = join(PROJECT_ROOT, 'protocols');

export type ProtocolResult = { ok: true; plan: Plan } | { ok: false; errors: Issue[] };

type Locate = (path: readonly PathSegment[]) => { line: number; column: number } | undefined;

function makeLocator(doc: Document | undefined, lc: LineCounter): Locate {
  return (path) => {
    if (!doc) return undefined;
    // walk as deep as the path exists, so a missing field points at its parent
    let node: unknown = doc.contents;
    let best: { line: number; col: number } | undefined;
    const at = (n: unknown) => {
      if (isNode(n) && n.range) best = lc.linePos(n.range[0]);
    };
    at(node);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === seg);
        if (!pair) break;
        if (isNode(pair.key) && pair.key.range) best = lc.linePos(pair.key.range[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        at(node);
      } else break;
    }
    return best ? { line: best.line, column: best.col } : undefined;
  };
}

export type ParsedText = { ok: true; data: unknown; locate: Locate } | { ok: false; errors: Issue[] };

/** Parse YAML or JSON text (JSON when the file name ends in .json). */
export function parseProtocolText(text: string, file: string): ParsedText {
  const syntax = (message: string, line?: number, column?: number): ParsedText => {
    const i: Issue = { file, path: '', message, layer: 'syntax', severity: 'error' };
    if (line !== undefined) {
      i.line = line;
      i.column = column ?? 1;
    }
    return { ok: false, errors: [i] };
  };
  if (text.trim() === '') return syntax('file is empty: expected a protocol (id, name, indication, steps)');
  const lc = new LineCounter();
  if (extname(file).toLowerCase() === '.json') {
    try {
      JSON.parse(text);
    } catch (e) {
      const d = describeJsonError(text, e);
      return syntax(d.message, d.line, d.column);
    }
  }
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const errs: Issue[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const i: Issue = {
        file,
        path: '',
        message: `malformed YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
        layer: 'syntax',
        severity: 'error',
      };
      if (pos) {
        i.line = pos.line;
        i.column = pos.col;
      }
      return i;
    });
    return { ok: false, errors: errs };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) return syntax('file is empty: expected a protocol (id, name, indication, steps)');
  if (typeof data !== 'object' || Array.isArray(data))
    return syntax(`expected a mapping (id, name, indication, steps) at the top level, got ${Array.isArray(data) ? 'a list' : typeof data}`);
  return { ok: true, data, locate: makeLocator(doc, lc) };
}

export type ValidateOptions = { file?: string; source?: string; profile?: DeviceProfile; locate?: Locate; requireSource?: boolean };

/** Validate already-parsed data: schema, then limits. Returns a plan or every error. */
export function validateProtocolData(data: unknown, opts: ValidateOptions = {}): ProtocolResult {
  const file = opts.file ?? '<inline>';
  const locate = opts.locate ?? (() => undefined);
  const r = ProtocolSchema.safeParse(data, { reportInput: true });
  if (!r.success) return { ok: false, errors: zodIssuesToIssues(r.error.issues, file, locate) };
  let profile = opts.profile;
  if (!profile) {
    try {
      profile = loadProfile();
    } catch (e) {
      if (e instanceof ProfileError) return { ok: false, errors: e.issues };
      throw e;
    }
  }
  const issues = checkProtocol(r.data, profile, file, locate);
  if (opts.requireSource && !r.data.source)
    issues.push({ file, path: 'source', layer: 'schema', severity: 'error', message: 'built-in protocols must give a source for their parameters' });
  const errors = issues.filter(isError);
  if (errors.length) return { ok: false, errors: issues.filter(isError) };
  return { ok: true, plan: buildPlan(r.data, { source: opts.source ?? file, warnings: issues.filter((i) => !isError(i)) }) };
}

/** Read, parse, validate and plan one protocol file (.yaml, .yml or .json). */
export function loadProtocolFile(
  path: string,
  profile?: DeviceProfile,
  opts: { displayPath?: string; source?: string; requireSource?: boolean } = {},
): ProtocolResult {
  const file = opts.displayPath ?? path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a protocol file' : `cannot read file (${code ?? (e as Error).message})`;
    return { ok: false, errors: [{ file, path: '', message, severity: 'error' }] };
  }
  const parsed = parseProtocolText(text, path);
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map((i) => ({ ...i, file })) };
  const v: ValidateOptions = { file, source: opts.source ?? path, locate: parsed.locate };
  if (profile) v.profile = profile;
  if (opts.requireSource) v.requireSource = true;
  return validateProtocolData(parsed.data, v);
}

export type BuiltinEntry = { id: string; file: string };

/** Built-in protocols: protocols/<id>.yaml, sorted by id. `file` is the absolute path. */
export function listBuiltins(): BuiltinEntry[] {
  if (!existsSync(BUILTIN_DIR)) return [];
  return readdirSync(BUILTIN_DIR)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .map((f) => ({ id: basename(f).replace(/\.(ya?ml|json)$/i, ''), file: join(BUILTIN_DIR, f) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

const looksLikePath = (s: string) => /[\\/]/.test(s) || /\.(ya?ml|json)$/i.test(s);

/** A built-in id (e.g. upper-back-heat-us-tens) or a path to a .yaml/.yml/.json file. */
export function resolveProtocol(idOrFile: string, profile?: DeviceProfile): ProtocolResult {
  if (looksLikePath(idOrFile) || (existsSync(idOrFile) && !listBuiltins().some((b) => b.id === idOrFile))) {
    return loadProtocolFile(idOrFile, profile);
  }
  const entry = listBuiltins().find((b) => b.id === idOrFile);
  if (!entry) {
    const ids = listBuiltins().map((b) => b.id);
    return {
      ok: false,
      errors: [{ file: idOrFile, path: '', severity: 'error', message: `no built-in protocol '${idOrFile}' and no such file (built-ins: ${ids.join(', ')})` }],
    };
  }
  const r = loadProtocolFile(entry.file, profile, {
    displayPath: relative(process.cwd(), entry.file) || entry.file,
    source: `builtin:${entry.id}`,
    requireSource: true,
  });
  if (r.ok && r.plan.protocol.id !== entry.id) {
    return {
      ok: false,
      errors: [
        {
          file: entry.file,
          path: 'id',
          value: r.plan.protocol.id,
          severity: 'error',
          layer: 'schema',
          message: `a built-in's id must match its file name (${entry.id})`,
        },
      ],
    };
  }
  return r;
}

export type { Protocol };
