/** Writes schema/protocol.schema.json from the zod schema (npm run schema). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { protocolJsonSchema } from './schema.js';

export const SCHEMA_PATH = fileURLToPath(new URL('../../schema/protocol.schema.json', import.meta.url));

export function renderSchema(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_PATH, renderSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
