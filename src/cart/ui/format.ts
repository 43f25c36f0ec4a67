/** Times for people: durations as m:ss, wall times in the cart's local time zone (never raw ISO UTC). */
import { messagesFor } from '../../messages/index.js';

export const M = messagesFor(typeof navigator === 'undefined' ? 'en' : navigator.language);
export { fmt } from '../../messages/index.js';

export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600),
    m = Math.floor((total % 3600) / 60),
    s = total % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export const localTime = (ms: number | Date | string) => timeFmt.format(new Date(ms));
export const localDateTime = (ms: number | Date | string) => dateTimeFmt.format(new Date(ms));

export const num = (x: number, digits = 1) => String(Number(x.toFixed(digits)));
