/**
 * The Firmata protocol as StandardFirmata 2.5 speaks it on an Arduino Uno: the
 * command bytes, the pin modes, how long each command is, and the fixed
 * replies (firmware name, capabilities, analog mapping). The simulated board
 * (firmata-board.ts) answers with these.
 */

// Firmata command bytes.
export const FIRMATA = {
  DIGITAL_MESSAGE: 0x90,
  ANALOG_MESSAGE: 0xe0,
  REPORT_ANALOG: 0xc0,
  REPORT_DIGITAL: 0xd0,
  SET_PIN_MODE: 0xf4,
  SET_DIGITAL_PIN_VALUE: 0xf5,
  REPORT_VERSION: 0xf9,
  SYSTEM_RESET: 0xff,
  START_SYSEX: 0xf0,
  END_SYSEX: 0xf7,
  // sysex
  ANALOG_MAPPING_QUERY: 0x69,
  ANALOG_MAPPING_RESPONSE: 0x6a,
  CAPABILITY_QUERY: 0x6b,
  CAPABILITY_RESPONSE: 0x6c,
  PIN_STATE_QUERY: 0x6d,
  PIN_STATE_RESPONSE: 0x6e,
  EXTENDED_ANALOG: 0x6f,
  QUERY_FIRMWARE: 0x79,
  SAMPLING_INTERVAL: 0x7a,
} as const;

export const PIN_MODE = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4, PULLUP: 0x0b } as const;

/** The Arduino Uno as StandardFirmata describes it: 20 pins, PWM on six, analog from pin 14. */
export const UNO_PINS = 20;
export const UNO_PWM: readonly number[] = [3, 5, 6, 9, 10, 11];
export const UNO_FIRST_ANALOG = 14;
const FIRMWARE_NAME = 'StandardFirmata.ino';

/** Bytes in a (non-sysex) command starting with this command byte (its channel nibble cleared), or 0 for one StandardFirmata does not know. */
export function commandLength(hi: number): number {
  if (hi === FIRMATA.REPORT_ANALOG || hi === FIRMATA.REPORT_DIGITAL) return 2;
  if (hi === FIRMATA.REPORT_VERSION || hi === FIRMATA.SYSTEM_RESET) return 1;
  if (hi === FIRMATA.DIGITAL_MESSAGE || hi === FIRMATA.ANALOG_MESSAGE || hi === FIRMATA.SET_PIN_MODE || hi === FIRMATA.SET_DIGITAL_PIN_VALUE) return 3;
  return 0;
}

/** REPORT_FIRMWARE: version 2.5 and the sketch's name, 7 bits at a time. */
export function firmwareReply(): number[] {
  const name: number[] = [];
  for (const ch of FIRMWARE_NAME) {
    const c = ch.charCodeAt(0);
    name.push(c & 0x7f, (c >> 7) & 0x7f);
  }
  return [FIRMATA.START_SYSEX, FIRMATA.QUERY_FIRMWARE, 2, 5, ...name, FIRMATA.END_SYSEX];
}

/** CAPABILITY_RESPONSE: every pin's modes and resolutions (pins 0 and 1 are the serial line). */
export function capabilityReply(): number[] {
  const out: number[] = [FIRMATA.START_SYSEX, FIRMATA.CAPABILITY_RESPONSE];
  for (let p = 0; p < UNO_PINS; p++) {
    if (p >= 2) {
      out.push(PIN_MODE.INPUT, 1, PIN_MODE.OUTPUT, 1, PIN_MODE.PULLUP, 1);
      if (p >= UNO_FIRST_ANALOG) out.push(PIN_MODE.ANALOG, 10);
      if (UNO_PWM.includes(p)) out.push(PIN_MODE.PWM, 8);
      if (p < UNO_FIRST_ANALOG) out.push(PIN_MODE.SERVO, 14);
    }
    out.push(0x7f);
  }
  out.push(FIRMATA.END_SYSEX);
  return out;
}

/** ANALOG_MAPPING_RESPONSE: the analog channel of each pin (0x7f: none). */
export function analogMappingReply(): number[] {
  const out: number[] = [FIRMATA.START_SYSEX, FIRMATA.ANALOG_MAPPING_RESPONSE];
  for (let p = 0; p < UNO_PINS; p++) out.push(p >= UNO_FIRST_ANALOG ? p - UNO_FIRST_ANALOG : 0x7f);
  out.push(FIRMATA.END_SYSEX);
  return out;
}
