/**
 * The modality wire protocol, version 1: the single source of truth for message
 * ids, field layouts, status codes, fault codes and the board-side limits.
 *
 * `firmware-host/core/wire_spec.h` is generated from this file
 * (`npm run gen:firmware`), and a test checks the committed header matches.
 * docs/protocol.md describes the same table for humans.
 *
 * All multi-byte fields are little-endian (the AVR's native order).
 */

export const PROTOCOL_VERSION = 1;

/** The board core's version (firmware-host/core/modality.h MOD_FW_*; a test checks they agree). IDENTIFY carries it. */
export const CORE_VERSION = [0, 3, 1] as const;

/** Frame layout: <len u8><seq u8><payload ...><crc16 u16 LE><sync 0x7E>. */
export const FRAME = {
  sync: 0x7e,
  /** len counts the whole frame: len + seq + payload + crc (2) + sync. */
  overheadBytes: 5,
  minLen: 6, // a payload carries at least its message id
  maxLen: 64,
} as const;

export type FieldType = 'u8' | 'u16' | 'i16' | 'u32';
export const FIELD_BYTES: Record<FieldType, number> = { u8: 1, u16: 2, i16: 2, u32: 4 };

export interface MessageSpec {
  readonly id: number;
  readonly dir: 'host' | 'board';
  readonly fields: readonly (readonly [string, FieldType])[];
  readonly doc: string;
}

/**
 * Outputs addressed by SET/RAMP/OFF/CLEAR. Units on the wire:
 *  - TENS channels: amplitude in 0.1 mA
 *  - ultrasound head: intensity in 0.01 W/cm²
 *  - thermal pad: target temperature in 0.1 °C (OFF = pad unpowered)
 */
export const OUTPUT = {
  tens1: 0,
  tens2: 1,
  ultrasound: 2,
  pad: 3,
  all: 0xff,
} as const;
export const OUTPUT_COUNT = 4;

export const MESSAGES = {
  // ---- host → board (every one is acknowledged by ACK) ----
  HELLO: {
    id: 0x01,
    dir: 'host',
    fields: [
      ['protocolVersion', 'u8'],
      ['leaseMs', 'u16'],
    ],
    doc: 'Start a session: sets the lease; the board answers ACK then IDENTIFY.',
  },
  PING: { id: 0x02, dir: 'host', fields: [], doc: 'Heartbeat and clock query: renews the lease; the ACK carries boardMs.' },
  CONFIG_TENS: {
    id: 0x03,
    dir: 'host',
    fields: [
      ['output', 'u8'],
      ['rateHz', 'u16'],
      ['pulseWidthUs', 'u16'],
      ['waveform', 'u8'],
      ['electrodeAreaCm2x10', 'u16'],
      ['flags', 'u8'],
      ['burstsPerS', 'u8'],
      ['pulsesPerBurst', 'u8'],
      ['modKind', 'u8'],
      ['modMinPct', 'u8'],
      ['modPeriodDs', 'u16'],
    ],
    doc: 'Pulse parameters of a TENS channel. waveform 0 = asymmetric biphasic, 1 = symmetric biphasic. flags bit0 = high current density acknowledged. modKind 0 none, 1 rate, 2 width, 3 amplitude.',
  },
  CONFIG_US: {
    id: 0x04,
    dir: 'host',
    fields: [
      ['frequencyMHz', 'u8'],
      ['dutyCyclePct', 'u8'],
      ['eraCm2x10', 'u16'],
    ],
    doc: 'Ultrasound head parameters.',
  },
  SET: {
    id: 0x10,
    dir: 'host',
    fields: [
      ['output', 'u8'],
      ['atMs', 'u32'],
      ['value', 'u16'],
    ],
    doc: 'At board time atMs, set the output to value (TENS is followed at the slew limit).',
  },
  RAMP: {
    id: 0x11,
    dir: 'host',
    fields: [
      ['output', 'u8'],
      ['atMs', 'u32'],
      ['from', 'u16'],
      ['to', 'u16'],
      ['durationMs', 'u32'],
    ],
    doc: 'At board time atMs, ramp linearly from `from` to `to` over durationMs. A rising TENS ramp steeper than the slew limit is refused; a ramp whose `from` lies above the present value is refused when due (it would be a jump).',
  },
  OFF: {
    id: 0x12,
    dir: 'host',
    fields: [
      ['output', 'u8'],
      ['atMs', 'u32'],
    ],
    doc: 'Turn an output (0xFF: all) off at board time atMs; atMs = 0 means now and also drops its queue.',
  },
  CANCEL: {
    id: 0x13,
    dir: 'host',
    fields: [['output', 'u8']],
    doc: 'Drop every queued (not yet due) command of an output (0xFF: all). The output keeps its present value.',
  },
  CLEAR: {
    id: 0x14,
    dir: 'host',
    fields: [['output', 'u8']],
    doc: 'Clear latched faults of an output (0xFF: all, including board-wide faults). Refused with CAUSE_PRESENT while the cause remains.',
  },
  ESTOP: { id: 0x15, dir: 'host', fields: [], doc: 'Emergency stop: every output off now, queues dropped, ESTOP latched.' },
  EVENT_ACK: { id: 0x16, dir: 'host', fields: [['eventId', 'u16']], doc: 'Acknowledge board EVENT eventId so the board stops resending it.' },
  BYE: {
    id: 0x17,
    dir: 'host',
    fields: [],
    doc: 'The host ends the session: every output off now, queues dropped, the session closed as after a lease expiry, but no fault latched. ACK first, then APPLIED_OFF for each output that was driven.',
  },
  // ---- board → host ----
  ACK: {
    id: 0x80,
    dir: 'board',
    fields: [
      ['ackSeq', 'u8'],
      ['status', 'u8'],
      ['boardMs', 'u32'],
    ],
    doc: 'Answer to a host frame with sequence ackSeq. A duplicate (retransmitted) frame is answered again but not applied twice.',
  },
  IDENTIFY: {
    id: 0x81,
    dir: 'board',
    fields: [
      ['protocolVersion', 'u8'],
      ['fwMajor', 'u8'],
      ['fwMinor', 'u8'],
      ['fwPatch', 'u8'],
      ['boardKind', 'u8'],
      ['tensChannels', 'u8'],
      ['hasUltrasound', 'u8'],
      ['hasPad', 'u8'],
      ['maxTensMaX10', 'u16'],
      ['maxTensSlewMaPerSX10', 'u16'],
      ['maxUsWPerCm2X100', 'u16'],
      ['maxPadCX10', 'u16'],
      ['minPadCX10', 'u16'],
      ['leaseMs', 'u16'],
      ['boardMs', 'u32'],
    ],
    doc: 'Board identity, channels and limits; sent after the ACK of HELLO. boardKind 1 = simulated board, 2 = AVR firmware.',
  },
  TELEMETRY: {
    id: 0x82,
    dir: 'board',
    fields: [
      ['boardMs', 'u32'],
      ['tens1X10', 'u16'],
      ['tens2X10', 'u16'],
      ['usX100', 'u16'],
      ['padTargetCX10', 'u16'],
      ['padCX10', 'i16'],
      ['headCX10', 'i16'],
      ['tens1Ohm', 'u16'],
      ['tens2Ohm', 'u16'],
      ['coupled', 'u8'],
      ['stopInput', 'u8'],
      ['faults', 'u16'],
      ['outputFaults', 'u16'],
    ],
    doc: 'Periodic state (every telemetryMs). Ohm 0xFFFF = open circuit. faults: bitmask of latched fault codes (bit = code - 1). outputFaults: 4 bits per output (bit0 lead-off / uncoupled, bit1 limit).',
  },
  EVENT: {
    id: 0x83,
    dir: 'board',
    fields: [
      ['eventId', 'u16'],
      ['boardMs', 'u32'],
      ['kind', 'u8'],
      ['output', 'u8'],
      ['code', 'u8'],
      ['value', 'u16'],
      ['aux', 'u32'],
    ],
    doc: 'Reliable event: resent every eventRetryMs until EVENT_ACK. kind: see EVENT_KIND.',
  },
} as const satisfies Record<string, MessageSpec>;

export type MessageName = keyof typeof MESSAGES;

/** ACK status codes. */
export const STATUS = {
  OK: 0,
  BAD_MESSAGE: 1,
  BAD_OUTPUT: 2,
  OUT_OF_LIMIT: 3,
  LATE: 4,
  FAULT_LATCHED: 5,
  QUEUE_FULL: 6,
  CAUSE_PRESENT: 7,
  NO_SESSION: 8,
  BAD_VERSION: 9,
} as const;
export type StatusName = keyof typeof STATUS;

/** Latched fault codes (telemetry faults bitmask bit = code - 1). */
export const FAULT = {
  LEAD_OFF: 1,
  UNCOUPLED: 2,
  OVER_TEMP: 3,
  STOP_INPUT: 4,
  HOST_TIMEOUT: 5,
  THERMAL_RUNAWAY: 6,
  UNDER_TEMP: 7,
  ESTOP: 8,
  LATE_COMMAND: 9,
  HEAD_OVER_TEMP: 10,
  LIMIT: 11,
} as const;
export type FaultName = keyof typeof FAULT;

/** The tables read backwards, for decoding: code → name. */
const byCode = <N extends string>(table: Record<N, number>): Record<number, N> =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [v, k])) as Record<number, N>;
export const STATUS_NAME: Record<number, StatusName> = byCode(STATUS);
export const FAULT_NAME: Record<number, FaultName> = byCode(FAULT);

/** EVENT kinds. */
export const EVENT_KIND = {
  /** output value set to `value` (aux = 0). */
  APPLIED_SET: 1,
  /** ramp started from the output's present value: value = to, aux = durationMs. The board reports APPLIED_SET when the ramp ends. */
  RAMP_START: 2,
  /** output turned off (value 0); code = fault that caused it, or 0 when commanded. */
  APPLIED_OFF: 3,
  /** a fault latched; code = FAULT code, output = 0xFF when board-wide. */
  FAULT_LATCHED: 4,
  /** faults cleared by CLEAR; output as in CLEAR. */
  FAULT_CLEARED: 5,
  /** the cause of an output fault went away (electrode contact or coupling back); code = FAULT code. */
  CAUSE_GONE: 6,
  /** the pad reached within 1 °C of its target; value = target in 0.1 °C. */
  PAD_AT_TARGET: 7,
  /** a queued command was refused when due; code = STATUS code. */
  REFUSED: 8,
} as const;
export type EventKindName = keyof typeof EVENT_KIND;

/**
 * Limits the board enforces on its own, whatever the host says. The host's
 * absolute limits (src/protocol/limits.ts) are the same numbers; a test checks
 * they agree, and the firmware header is generated from this table.
 */
export const BOARD_LIMITS = {
  maxTensMa: 80,
  /** TENS amplitude may not rise faster than this (mA per second). */
  maxTensSlewMaPerS: 10,
  minTensRateHz: 1,
  maxTensRateHz: 150,
  minTensPulseWidthUs: 20,
  maxTensPulseWidthUs: 500,
  /** RMS current density without acknowledgement, mA/cm². */
  maxTensDensityMaPerCm2: 2,
  /** RMS current density even with acknowledgement, mA/cm². */
  maxTensDensityAckMaPerCm2: 4,
  maxUsWPerCm2: 3,
  maxPadTargetC: 40,
  minPadTargetC: 10,
  /** Pad surface over this latches OVER_TEMP. */
  padOverTempC: 41,
  /** Pad surface under this latches UNDER_TEMP. */
  padUnderTempC: 8,
  /** Ultrasound head over this latches HEAD_OVER_TEMP. */
  headOverTempC: 43,
  /** Electrode impedance above this is lead-off (Ω). */
  leadOffOhm: 10000,
  maxLeaseMs: 500,
  minLeaseMs: 50,
  /** Runaway watch (Marlin WATCH_TEMP_PERIOD / INCREASE): after a target change, the pad must approach by this much ... */
  watchIncreaseC: 2,
  /** ... within this period, unless it is already within watchHysteresisC of the target. */
  watchPeriodMs: 20000,
  /** Once at target, a deviation above this for longer than runawayPeriodMs latches THERMAL_RUNAWAY. */
  runawayHysteresisC: 4,
  runawayPeriodMs: 40000,
  /** A command due more than this in the past when it arrives is refused LATE. */
  lateToleranceMs: 0,
  queueDepth: 8,
  /** The board's tick: queued commands run, ramps and the slew advance, and the safety checks run once per tick. */
  tickMs: 1,
  telemetryMs: 250,
  eventRetryMs: 50,
  /** Unacknowledged events the board keeps (see docs/protocol.md, "Events": overflow never drops FAULT_LATCHED or APPLIED_OFF). */
  eventQueueDepth: 16,
  /** Pad "at target" band, °C. */
  atTargetBandC: 1,
} as const;

/** Ultrasound head settings the board accepts in CONFIG_US (the host's limits use the same lists). */
export const US_FREQUENCIES_MHZ = [1, 3] as const;
export const US_DUTY_CYCLES_PCT = [10, 20, 25, 33, 50, 100] as const;

/**
 * The host's timing on the link (src/drivers/serial-board.ts defaults). docs/protocol.md
 * quotes these numbers and a test checks that it quotes them right.
 */
export const HOST_TIMING = {
  /** Lease the host asks for in HELLO. */
  leaseMs: 400,
  /** With nothing else to send, a PING this long after the last frame (leaseMs / 4): it renews the lease. */
  heartbeatMs: 100,
  /** A frame not acknowledged within this is sent again, byte for byte. */
  retransmitMs: 50,
  /** Sends of one frame, the first included, before the host gives the link up as lost. */
  maxTries: 8,
  /** Scheduled changes are placed at least this far ahead of the board's present time. */
  scheduleMarginMs: 250,
  /** No frame from the board for this long: the link is lost. */
  silenceMs: 1500,
  /** HELLO unanswered for this long: no board on the port. */
  connectTimeoutMs: 3000,
  /** Real serial lines: host silence (a stalled event loop) after which the lease keeper repeats the last frame. */
  keepaliveQuietMs: 150,
  /** Real serial lines: the longest host stall the lease keeper covers; past it the board's lease cuts the outputs. */
  keepaliveCoverMs: 2000,
} as const;

/** Serial line settings. */
export const LINE = { baudRate: 115200, bitsPerByte: 10 } as const;
