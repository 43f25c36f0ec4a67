/** The message catalogues (one per language) and the one formatting helper. */
import { en, type Messages } from './en.js';

export type { Messages };
export const catalogues: Record<string, Messages> = { en };

/** The catalogue for a language tag ("en-GB" → en), English when there is none. */
export function messagesFor(lang: string | undefined): Messages {
  const base = (lang ?? 'en').toLowerCase().split('-')[0] ?? 'en';
  return catalogues[base] ?? en;
}

/** "{a} of {b}" with params. */
export function fmt(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}
