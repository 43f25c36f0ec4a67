import { FIELD_BYTES, MESSAGES, type FieldType, type MessageName } from './spec.js';

type Fields<N extends MessageName> = (typeof MESSAGES)[N]['fields'];
type FieldNames<N extends MessageName> = Fields<N>[number][0];
export type MessageBody<N extends MessageName> = { [K in FieldNames<N>]: number };
export type Message = { [N in MessageName]: { type: N } & MessageBody<N> }[MessageName];
export type MessageOf<N extends MessageName> = Extract<Message, { type: N }>;

const BY_ID = new Map<number, MessageName>((Object.keys(MESSAGES) as MessageName[]).map((name) => [MESSAGES[name].id, name]));

const RANGE: Record<FieldType, [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
};

export function payloadLength(name: MessageName): number {
  return 1 + MESSAGES[name].fields.reduce((s, [, t]) => s + FIELD_BYTES[t], 0);
}

/** Encode a message body (without framing). Values must be integers within their field's range. */
export function encodeMessage<N extends MessageName>(name: N, body: MessageBody<N>): Uint8Array {
  const spec = MESSAGES[name];
  const out = new Uint8Array(payloadLength(name));
  const dv = new DataView(out.buffer);
  out[0] = spec.id;
  let o = 1;
  for (const [field, type] of spec.fields) {
    const v = (body as Record<string, number>)[field];
    const [lo, hi] = RANGE[type];
    if (v === undefined || !Number.isInteger(v) || v < lo || v > hi) {
      throw new RangeError(`${name}.${field} = ${String(v)} does not fit ${type}`);
    }
    if (type === 'u8') dv.setUint8(o, v);
    else if (type === 'u16') dv.setUint16(o, v, true);
    else if (type === 'i16') dv.setInt16(o, v, true);
    else dv.setUint32(o, v, true);
    o += FIELD_BYTES[type];
  }
  return out;
}

/** Decode a payload. Returns null for an unknown id or a wrong length (counted by the caller). */
export function decodeMessage(payload: Uint8Array): Message | null {
  const name = BY_ID.get(payload[0] ?? -1);
  if (name === undefined) return null;
  if (payload.length !== payloadLength(name)) return null;
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const msg: Record<string, number | string> = { type: name };
  let o = 1;
  for (const [field, type] of MESSAGES[name].fields) {
    msg[field] = type === 'u8' ? dv.getUint8(o) : type === 'u16' ? dv.getUint16(o, true) : type === 'i16' ? dv.getInt16(o, true) : dv.getUint32(o, true);
    o += FIELD_BYTES[type];
  }
  return msg as unknown as Message;
}

export function messageName(id: number): MessageName | undefined {
  return BY_ID.get(id);
}

/** Frame length of each message id (every message has a fixed layout), for the decoder's early check. */
export function frameLengthOf(msgId: number): number | undefined {
  const name = BY_ID.get(msgId);
  return name === undefined ? undefined : payloadLength(name) + 5;
}
