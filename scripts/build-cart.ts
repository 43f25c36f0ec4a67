/** `npm run build:cart`: build the cart's front end into dist/cart/ (see src/cart/bundle.ts). */
import { BUNDLE_DIR, buildBundle } from '../src/cart/bundle.js';

await buildBundle();
process.stdout.write(`${BUNDLE_DIR}\n`);
