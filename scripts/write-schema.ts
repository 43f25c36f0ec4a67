/** `npm run schema`: write schema/protocol.schema.json from the zod schema. */
import { writeFileSync } from 'node:fs';
import { renderSchema, SCHEMA_PATH } from '../src/protocol/write-schema.js';

writeFileSync(SCHEMA_PATH, renderSchema());
process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
