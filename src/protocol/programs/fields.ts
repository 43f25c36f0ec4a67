/** The zod field helpers the program schemas share: a number with its description (unit in the name), a duration in seconds. */
import { z } from 'zod';

export const num = (description: string, extra: Record<string, unknown> = {}) => z.number().meta({ description, ...extra });

export const durationS = (what: string) => num(`${what}, seconds (> 0)`, { exclusiveMinimum: 0 });
