/** The JSON Schema of protocol files, rendered from the zod schema; `npm run schema` (scripts/write-schema.ts) writes it. */
import { protocolJsonSchema } from './schema.js';
import { packagePath } from '../util/package-root.js';

export const SCHEMA_PATH = packagePath('schema', 'protocol.schema.json');

export function renderSchema(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}
