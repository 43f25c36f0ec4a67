/** `--trace`: every frame on the link, one line each on stderr. */
import type { BoardOpenOptions, FrameTrace } from '../drivers/registry.js';
import type { Message } from '../drivers/wire/messages.js';
import { STATUS_NAME } from '../drivers/wire/spec.js';
import { io } from './io.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim();
const stamp = (dir: 'out' | 'in', hostMs: number) => `${dir === 'out' ? '→' : '←'} ${(hostMs / 1000).toFixed(3).padStart(11, '0')}`;

/** A modality frame, decoded, with its bytes. */
export function traceLine(dir: 'out' | 'in', msg: Message | null, bytes: Uint8Array, hostMs: number): string {
  const fields = msg
    ? Object.entries(msg)
        .filter(([k]) => k !== 'type')
        .map(([k, v]) => `${k}=${k === 'status' ? (STATUS_NAME[v as number] ?? v) : v}`)
        .join(' ')
    : '';
  const body = `seq ${bytes[1]} ${msg ? `${msg.type} ${fields}` : '(undecodable)'}`;
  return `${stamp(dir, hostMs)} ${body}   ${hex(bytes)}`;
}

/** The trace options for the board registry: modality frames (telemetry left out), or the Firmata bytes and pin writes. */
export function traceOptions(): Pick<BoardOpenOptions, 'trace' | 'traceBytes' | 'traceText'> {
  const trace: FrameTrace = (d, m, b, t) => {
    if (m?.type !== 'TELEMETRY') io().err(traceLine(d, m, b, t));
  };
  return {
    trace,
    traceBytes: (d, b, ms) => io().err(`${stamp(d, ms)} firmata   ${hex(b)}`),
    traceText: (d, text, ms) => io().err(`${stamp(d, ms)} ${text}`),
  };
}
