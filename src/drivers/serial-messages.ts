/**
 * Wire protocol v1 messages ↔ the Board interface's terms, for the serial
 * driver (serial-board.ts): output names and ids, clinical units and wire
 * integers (wire/units.ts), IDENTIFY → BoardInfo, CONFIG bodies, TELEMETRY →
 * Telemetry, EVENT → BoardEvents. Pure: board times are mapped by the caller's
 * functions (the driver's clock sync).
 */
import type { BoardEvent, BoardInfo, OutputName, TensConfig, Telemetry, UltrasoundConfig } from './board.js';
import { OUTPUT_NAMES } from './board.js';
import type { MessageBody, MessageOf } from './wire/messages.js';
import { BOARD_LIMITS, EVENT_KIND, FAULT_NAME, OUTPUT, STATUS_NAME, type FaultName } from './wire/spec.js';
import { fromWire, toWire, WIRE_QUANTITIES as WQ, type WireQuantity } from './wire/units.js';

export const OUT_ID: Record<OutputName | 'all', number> = {
  tens1: OUTPUT.tens1,
  tens2: OUTPUT.tens2,
  ultrasound: OUTPUT.ultrasound,
  pad: OUTPUT.pad,
  all: OUTPUT.all,
};

export function outName(id: number): OutputName | 'all' {
  return id === OUTPUT.all ? 'all' : (OUTPUT_NAMES[id] ?? 'all');
}

/** What SET/RAMP `value` means, per output (wire/units.ts: the table validate checks against). */
export const VALUE: Record<OutputName, WireQuantity> = {
  tens1: WQ.tensAmplitudeMa,
  tens2: WQ.tensAmplitudeMa,
  ultrasound: WQ.usIntensityWPerCm2,
  pad: WQ.padTargetC,
};

export function faultNames(mask: number): FaultName[] {
  const out: FaultName[] = [];
  for (let c = 1; c <= 16; c++) if (mask & (1 << (c - 1)) && FAULT_NAME[c]) out.push(FAULT_NAME[c] as FaultName);
  return out;
}

/** What the board says it is (IDENTIFY), with the limits it was built with. */
export function boardInfoFrom(m: MessageOf<'IDENTIFY'>): BoardInfo {
  return {
    protocolVersion: m.protocolVersion,
    firmware: `${m.fwMajor}.${m.fwMinor}.${m.fwPatch}`,
    kind: m.boardKind === 1 ? 'simulated' : m.boardKind === 2 ? 'avr' : 'unknown',
    tensChannels: m.tensChannels,
    hasUltrasound: m.hasUltrasound === 1,
    hasPad: m.hasPad === 1,
    maxTensMa: m.maxTensMaX10 / 10,
    maxTensSlewMaPerS: m.maxTensSlewMaPerSX10 / 10,
    maxUsWPerCm2: m.maxUsWPerCm2X100 / 100,
    maxPadC: m.maxPadCX10 / 10,
    minPadC: m.minPadCX10 / 10,
    leaseMs: m.leaseMs,
    // Not in IDENTIFY: the firmware is built with these same constants (wire_spec.h, generated from spec.ts).
    maxTensDensityAckMaPerCm2: BOARD_LIMITS.maxTensDensityAckMaPerCm2,
    runawayHysteresisC: BOARD_LIMITS.runawayHysteresisC,
    runawayPeriodMs: BOARD_LIMITS.runawayPeriodMs,
    timing: 'board',
  };
}

export function tensConfigBody(output: 'tens1' | 'tens2', cfg: TensConfig): MessageBody<'CONFIG_TENS'> {
  const mod = cfg.modulation;
  return {
    output: OUT_ID[output],
    rateHz: toWire(WQ.tensRateHz, cfg.rateHz),
    pulseWidthUs: toWire(WQ.tensPulseWidthUs, cfg.pulseWidthUs),
    waveform: cfg.waveform === 'symmetric-biphasic' ? 1 : 0,
    electrodeAreaCm2x10: toWire(WQ.electrodeAreaCm2, cfg.electrodeAreaCm2),
    flags: cfg.highDensityAcknowledged ? 1 : 0,
    burstsPerS: toWire(WQ.burstsPerS, cfg.burst?.burstsPerS ?? 0),
    pulsesPerBurst: toWire(WQ.pulsesPerBurst, cfg.burst?.pulsesPerBurst ?? 0),
    modKind: mod ? { rate: 1, width: 2, amplitude: 3 }[mod.kind] : 0,
    modMinPct: toWire(WQ.modMinPct, mod?.minPct ?? 100),
    modPeriodDs: mod ? toWire(WQ.modPeriodS, mod.periodS) : 0,
  };
}

export function ultrasoundConfigBody(cfg: UltrasoundConfig): MessageBody<'CONFIG_US'> {
  return {
    frequencyMHz: toWire(WQ.usFrequencyMHz, cfg.frequencyMHz),
    dutyCyclePct: toWire(WQ.usDutyCyclePct, cfg.dutyCyclePct),
    eraCm2x10: toWire(WQ.eraCm2, cfg.eraCm2),
  };
}

/** The board's clock, as the driver maps it: a u32 boardMs from the wire → engine time, and a board duration → host ms. */
export interface BoardTimes {
  engineTime(boardMs: number): number;
  durationFromBoard(ms: number): number;
}

export function telemetryFrom(m: MessageOf<'TELEMETRY'>, times: BoardTimes): Telemetry {
  return {
    boardMs: times.engineTime(m.boardMs),
    outputs: {
      tens1: { value: fromWire(WQ.tensAmplitudeMa, m.tens1X10), electrodeOhm: m.tens1Ohm === 0xffff ? null : m.tens1Ohm },
      tens2: { value: fromWire(WQ.tensAmplitudeMa, m.tens2X10), electrodeOhm: m.tens2Ohm === 0xffff ? null : m.tens2Ohm },
      ultrasound: { value: fromWire(WQ.usIntensityWPerCm2, m.usX100), coupled: m.coupled === 1, tempC: m.headCX10 / 10 },
      pad: { value: m.padTargetCX10 === 0 ? null : fromWire(WQ.padTargetC, m.padTargetCX10), tempC: m.padCX10 / 10 },
    },
    stopInput: m.stopInput === 1,
    faults: faultNames(m.faults),
  };
}

/**
 * What one EVENT means: the Board events to emit, and the output whose held
 * commands the host must drop (the board cut it, or latched a fault that
 * blocks its queue), or null.
 */
export function eventsFrom(m: MessageOf<'EVENT'>, times: BoardTimes): { events: BoardEvent[]; dropHeld: OutputName | 'all' | null } {
  const output = outName(m.output);
  const value = output === 'all' ? m.value : fromWire(VALUE[output], m.value);
  const fault = FAULT_NAME[m.code];
  const boardMs = times.engineTime(m.boardMs);
  const none = { events: [], dropHeld: null };
  switch (m.kind) {
    case EVENT_KIND.APPLIED_SET:
      return output === 'all' ? none : { events: [{ type: 'applied', output, boardMs, action: 'set', value }], dropHeld: null };
    case EVENT_KIND.RAMP_START:
      if (output === 'all') return none;
      return { events: [{ type: 'applied', output, boardMs, action: 'ramp', value, durationMs: Math.round(times.durationFromBoard(m.aux)) }], dropHeld: null };
    case EVENT_KIND.APPLIED_OFF:
      return {
        // protocol v1 boards send one APPLIED_OFF per output; an older firmware sent one for 0xFF
        // after a board-wide latch: it cut every output, and the accounting must see each cut
        events: (output === 'all' ? OUTPUT_NAMES : [output]).map(
          (o): BoardEvent => ({ type: 'applied', output: o, boardMs, action: 'off', value: 0, ...(fault ? { cause: fault } : {}) }),
        ),
        dropHeld: fault ? output : null, // a cut: the board dropped that queue
      };
    case EVENT_KIND.FAULT_LATCHED:
      return { events: [{ type: 'fault', code: fault ?? 'LIMIT', output, boardMs }], dropHeld: output }; // a latch drops the queues it blocks
    case EVENT_KIND.FAULT_CLEARED:
      return { events: [{ type: 'faultCleared', output, boardMs }], dropHeld: null };
    case EVENT_KIND.CAUSE_GONE:
      return output === 'all' ? none : { events: [{ type: 'causeGone', output, code: fault ?? 'LIMIT', boardMs }], dropHeld: null };
    case EVENT_KIND.PAD_AT_TARGET:
      return { events: [{ type: 'padAtTarget', targetC: fromWire(WQ.padTargetC, m.value), boardMs }], dropHeld: null };
    case EVENT_KIND.REFUSED:
      return {
        events: [{ type: 'refused', output, status: STATUS_NAME[m.code] ?? 'BAD_MESSAGE', boardMs, command: `queued command for ${output}` }],
        dropHeld: null,
      };
    default:
      return none;
  }
}
