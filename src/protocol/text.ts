/** Turning JSON.parse failures into one-line messages with a position. */
import { parseDocument } from 'yaml';

export function describeJsonError(text: string, e: unknown): { message: string; line?: number; column?: number } {
  // Node 20's messages vary: some give "at position N", some quote the context instead.
  const raw = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  const msg = raw
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/, (\.\.\.)?".*$/, '')
    .replace(/ is not valid JSON$/, '');
  const m = /position (\d+)/.exec(raw);
  if (m) {
    const before = text.slice(0, Number(m[1])).split('\n');
    return { message: `malformed JSON: ${msg}`, line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
  }
  // no position: let the YAML parser (JSON is YAML) find where it breaks
  const pos = parseDocument(text, { prettyErrors: true }).errors[0]?.linePos?.[0];
  return pos ? { message: `malformed JSON: ${msg}`, line: pos.line, column: pos.col } : { message: `malformed JSON: ${msg}` };
}
