/** Print the firmware benchmarks: `npx tsx bench/firmware-main.ts`. */
import { benchFirmware } from './firmware.js';

const figures = await benchFirmware();
for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(36)} ${String(v)}`);
