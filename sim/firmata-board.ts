/**
 * A simulated Arduino Uno running StandardFirmata 2.5, speaking the Firmata
 * protocol byte for byte over a Transport-like byte stream (in-process, or a
 * pty through sim/firmata-pty.ts). It has no scheduler, no lease and no
 * limits, exactly like the real sketch: whatever the host writes goes to the
 * pins at once.
 *
 * The pad plant (ThermalPad from sim/plants.ts) is driven by the heater and
 * cooler pins of the pin map; its sensor temperature comes back on the
 * thermistor's analog channel through the same divider conversion the driver
 * assumes (thermistorRaw in src/drivers/firmata-pins.ts). The stop input and
 * the electrode-sense inputs are toggled by tests. Every pin write is recorded
 * with its clock time.
 */
import type { Clock, TimerId } from '../src/clock.js';
import { ADC_MAX, electrodeRaw, loadFirmataPins, thermistorRaw, type FirmataPinMap } from '../src/drivers/firmata-pins.js';
import { analogMappingReply, capabilityReply, commandLength, FIRMATA, firmwareReply, PIN_MODE, UNO_FIRST_ANALOG, UNO_PINS } from './firmata-protocol.js';
import { DEFAULT_PAD, ThermalPad, type PadParams } from './plants.js';

export { FIRMATA, PIN_MODE } from './firmata-protocol.js';

const PLANT_MS = 100;

export interface PinWrite {
  /** Clock time of the write (ms). */
  tMs: number;
  pin: number;
  kind: 'pwm' | 'digital' | 'mode';
  value: number;
}

export interface ByteLink {
  write(bytes: Uint8Array): void;
  onData(cb: (bytes: Uint8Array) => void): void;
}

export interface SimFirmataOptions {
  pins?: FirmataPinMap;
  pad?: Partial<PadParams>;
  /** Answer nothing at all (a port with a dead board behind it). */
  silent?: boolean;
}

interface PinState {
  mode: number /** output value (PWM duty or 0/1) */;
  value: number /** input level for digital inputs */;
  level: 0 | 1;
}

export class SimFirmataBoard {
  readonly pad: ThermalPad;
  readonly pins: FirmataPinMap;
  /** Every pin write and mode change the host made, in order. */
  readonly writes: PinWrite[] = [];
  readonly stats = { bytesIn: 0, bytesOut: 0, unknownCommands: 0 };
  private readonly state: PinState[];
  private reportAnalog = 0; // bit per analog channel
  private reportDigital = 0; // bit per port
  private samplingMs = 19;
  private sampleTimer: TimerId | null = null;
  private plantTimer: TimerId | null = null;
  private rx: number[] = [];
  private stopPressed = false;
  private contact: boolean[] = [true, true];
  private electrodeOhmValue: (number | null)[] = [1200, 1200];
  private closed = false;
  private silent: boolean;

  constructor(
    private readonly clock: Clock,
    private readonly link: ByteLink,
    opts: SimFirmataOptions = {},
  ) {
    this.pins = opts.pins ?? loadFirmataPins();
    this.pad = new ThermalPad({ ...DEFAULT_PAD, ...opts.pad });
    this.silent = opts.silent ?? false;
    this.state = Array.from({ length: UNO_PINS }, (_, i) => ({ mode: i >= UNO_FIRST_ANALOG ? PIN_MODE.ANALOG : PIN_MODE.OUTPUT, value: 0, level: 0 as 0 | 1 }));
    this.applyInputs();
    link.onData((b) => this.onBytes(b));
    this.plantTick();
  }

  // ---------------------------------------------------------------- test controls

  /** Press (true) or release the stop switch; the pin level follows the pin map. */
  setStop(pressed: boolean): void {
    this.stopPressed = pressed;
    this.applyInputs();
  }

  /** Electrode contact on a TENS channel (0 or 1). For an analog sense, contact = 1.2 kΩ, none = open. */
  setElectrodeContact(channel: 0 | 1, contact: boolean): void {
    this.contact[channel] = contact;
    this.electrodeOhmValue[channel] = contact ? 1200 : null;
    this.applyInputs();
  }

  /** Analog electrode sense only: an explicit impedance (null = open). */
  setElectrodeOhm(channel: 0 | 1, ohm: number | null): void {
    this.electrodeOhmValue[channel] = ohm;
    this.contact[channel] = ohm !== null && ohm <= 10000;
    this.applyInputs();
  }

  /** Present output value of a pin (PWM duty or 0/1). */
  pinValue(pin: number): number {
    return this.state[pin]?.value ?? 0;
  }

  pinMode(pin: number): number {
    return this.state[pin]?.mode ?? -1;
  }

  /** Writes to one pin since a time. */
  writesTo(pin: number, sinceMs = -Infinity): PinWrite[] {
    return this.writes.filter((w) => w.pin === pin && w.kind !== 'mode' && w.tMs >= sinceMs);
  }

  /** The analog value the board reports on an A-channel now. */
  analogValue(channel: number): number {
    const p = this.pins;
    if (p.pad && p.pad.thermistor.analogPin === channel) return thermistorRaw(this.pad.sensorC, p.pad.thermistor);
    const i = p.electrodeSense.findIndex((e) => e.kind === 'analog' && e.analogPin === channel);
    if (i >= 0) {
      const e = p.electrodeSense[i]!;
      return e.kind === 'analog' ? electrodeRaw(this.electrodeOhmValue[i] ?? null, e.refOhm) : 0;
    }
    return 0;
  }

  /**
   * What StandardFirmata's setup() sends when the board comes out of reset (the
   * DTR pulse of opening a real Arduino's port): its version, then its
   * firmware name. A pty never resets the board; an in-process stream does.
   */
  announce(): void {
    this.send([FIRMATA.REPORT_VERSION, 2, 5]);
    this.sysex([FIRMATA.QUERY_FIRMWARE]);
  }

  close(): void {
    this.closed = true;
    for (const t of [this.sampleTimer, this.plantTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.sampleTimer = this.plantTimer = null;
  }

  // ---------------------------------------------------------------- inputs and plant

  private applyInputs(): void {
    const s = this.pins.stop;
    this.setLevel(s.pin, this.stopPressed === (s.activeWhen === 'high') ? 1 : 0);
    this.pins.electrodeSense.forEach((e, i) => {
      if (e.kind === 'digital') this.setLevel(e.pin, !this.contact[i] === (e.leadOffWhen === 'high') ? 1 : 0);
    });
  }

  private setLevel(pin: number, level: 0 | 1): void {
    const st = this.state[pin];
    if (!st || st.level === level) return;
    st.level = level;
    const port = pin >> 3;
    if (this.reportDigital & (1 << port)) this.sendPort(port);
  }

  private plantTick(): void {
    this.plantTimer = this.clock.setTimeout(() => {
      this.plantTimer = null;
      if (this.closed) return;
      const p = this.pins.pad;
      if (p) {
        const heat = this.outputHigh(p.heaterPin);
        const cool = p.coolerPin !== undefined && this.outputHigh(p.coolerPin);
        this.pad.drive = heat && !cool ? 1 : cool && !heat ? -1 : 0;
      }
      this.pad.step(PLANT_MS / 1000);
      this.plantTick();
    }, PLANT_MS);
  }

  private outputHigh(pin: number): boolean {
    const st = this.state[pin];
    return !!st && st.mode === PIN_MODE.OUTPUT && st.value !== 0;
  }

  // ---------------------------------------------------------------- bytes in

  private onBytes(bytes: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesIn += bytes.length;
    if (this.silent) return;
    for (const b of bytes) {
      if (b & 0x80) {
        // A command byte. An unfinished sysex swallows nothing but its end.
        if (this.rx[0] === FIRMATA.START_SYSEX && b !== FIRMATA.END_SYSEX) {
          this.rx = [b];
        } else if (this.rx[0] === FIRMATA.START_SYSEX && b === FIRMATA.END_SYSEX) {
          this.sysex(this.rx.slice(1));
          this.rx = [];
          continue;
        } else this.rx = [b];
      } else {
        if (this.rx.length === 0) continue; // stray data byte
        this.rx.push(b);
      }
      this.tryCommand();
    }
  }

  private tryCommand(): void {
    const rx = this.rx;
    const cmd = rx[0]!;
    if (cmd === FIRMATA.START_SYSEX) return;
    const hi = cmd < 0xf0 ? cmd & 0xf0 : cmd;
    const need = commandLength(hi);
    if (need === 0) {
      this.stats.unknownCommands++;
      this.rx = [];
      return;
    }
    if (rx.length < need) return;
    this.rx = [];
    const a = rx[1] ?? 0,
      b = rx[2] ?? 0;
    switch (hi) {
      case FIRMATA.REPORT_VERSION:
        return this.send([FIRMATA.REPORT_VERSION, 2, 5]);
      case FIRMATA.SYSTEM_RESET:
        return this.reset();
      case FIRMATA.ANALOG_MESSAGE:
        return this.analogWrite(cmd & 0x0f, a | (b << 7));
      case FIRMATA.DIGITAL_MESSAGE:
        return this.digitalPortWrite(cmd & 0x0f, a | (b << 7));
      case FIRMATA.SET_PIN_MODE:
        return this.setPinMode(a, b);
      case FIRMATA.SET_DIGITAL_PIN_VALUE:
        return this.digitalPinWrite(a, b ? 1 : 0);
      case FIRMATA.REPORT_ANALOG: {
        const ch = cmd & 0x0f;
        if (a) this.reportAnalog |= 1 << ch;
        else this.reportAnalog &= ~(1 << ch);
        this.armSampling();
        return;
      }
      case FIRMATA.REPORT_DIGITAL: {
        const port = cmd & 0x0f;
        if (a) {
          this.reportDigital |= 1 << port;
          this.sendPort(port);
        } else this.reportDigital &= ~(1 << port);
        return;
      }
    }
  }

  private sysex(d: number[]): void {
    const [id, ...body] = d;
    switch (id) {
      case FIRMATA.QUERY_FIRMWARE:
        return this.send(firmwareReply());
      case FIRMATA.CAPABILITY_QUERY:
        return this.send(capabilityReply());
      case FIRMATA.ANALOG_MAPPING_QUERY:
        return this.send(analogMappingReply());
      case FIRMATA.PIN_STATE_QUERY: {
        const p = body[0] ?? 0;
        const st = this.state[p];
        if (!st) return;
        const v = st.mode === PIN_MODE.INPUT || st.mode === PIN_MODE.PULLUP ? st.level : st.value;
        const bytes = [v & 0x7f];
        for (let x = v >> 7; x > 0; x >>= 7) bytes.push(x & 0x7f);
        return this.send([FIRMATA.START_SYSEX, FIRMATA.PIN_STATE_RESPONSE, p, st.mode, ...bytes, FIRMATA.END_SYSEX]);
      }
      case FIRMATA.EXTENDED_ANALOG: {
        const [p, ...vb] = body;
        let v = 0;
        vb.forEach((x, i) => {
          v |= (x & 0x7f) << (7 * i);
        });
        return this.analogWrite(p ?? 0, v);
      }
      case FIRMATA.SAMPLING_INTERVAL: {
        const ms = (body[0] ?? 0) | ((body[1] ?? 0) << 7);
        this.samplingMs = Math.max(1, ms); // StandardFirmata clamps at MINIMUM_SAMPLING_INTERVAL (1 ms)
        this.armSampling();
        return;
      }
      default:
        this.stats.unknownCommands++;
    }
  }

  // ---------------------------------------------------------------- pins

  private record(pin: number, kind: PinWrite['kind'], value: number): void {
    this.writes.push({ tMs: this.clock.now(), pin, kind, value });
  }

  private setPinMode(pin: number, mode: number): void {
    const st = this.state[pin];
    if (!st) return;
    st.mode = mode;
    this.record(pin, 'mode', mode);
    if (mode === PIN_MODE.PWM || mode === PIN_MODE.OUTPUT) st.value = 0; // as StandardFirmata's setPinModeCallback
    if (mode === PIN_MODE.ANALOG && pin >= UNO_FIRST_ANALOG) {
      this.reportAnalog |= 1 << (pin - UNO_FIRST_ANALOG);
      this.armSampling();
    }
  }

  private analogWrite(pin: number, value: number): void {
    const st = this.state[pin];
    if (!st) return;
    // StandardFirmata writes PWM only on pins in PWM mode (and servos); on an Uno duty is 8-bit.
    if (st.mode !== PIN_MODE.PWM) return;
    st.value = Math.min(255, value);
    this.record(pin, 'pwm', st.value);
  }

  private digitalPortWrite(port: number, mask: number): void {
    for (let i = 0; i < 8; i++) {
      const pin = port * 8 + i;
      const st = this.state[pin];
      if (!st || st.mode !== PIN_MODE.OUTPUT) continue; // StandardFirmata only drives OUTPUT pins from a port write
      const v = (mask >> i) & 1;
      if (v !== st.value) {
        st.value = v;
        this.record(pin, 'digital', v);
      }
    }
  }

  private digitalPinWrite(pin: number, v: 0 | 1): void {
    const st = this.state[pin];
    if (!st || st.mode !== PIN_MODE.OUTPUT) return;
    st.value = v;
    this.record(pin, 'digital', v);
  }

  private reset(): void {
    this.reportAnalog = 0;
    this.reportDigital = 0;
    for (let p = 0; p < UNO_PINS; p++) {
      const st = this.state[p]!;
      if (st.value !== 0) this.record(p, st.mode === PIN_MODE.PWM ? 'pwm' : 'digital', 0);
      st.value = 0;
      st.mode = p >= UNO_FIRST_ANALOG ? PIN_MODE.ANALOG : PIN_MODE.OUTPUT;
    }
    this.armSampling();
  }

  // ---------------------------------------------------------------- bytes out

  private sendPort(port: number): void {
    let mask = 0;
    for (let i = 0; i < 8; i++) {
      const st = this.state[port * 8 + i];
      if (st && (st.mode === PIN_MODE.INPUT || st.mode === PIN_MODE.PULLUP) && st.level) mask |= 1 << i;
    }
    this.send([FIRMATA.DIGITAL_MESSAGE | port, mask & 0x7f, (mask >> 7) & 0x7f]);
  }

  private armSampling(): void {
    if (this.sampleTimer !== null) this.clock.clearTimeout(this.sampleTimer);
    this.sampleTimer = null;
    if (this.reportAnalog === 0 || this.closed) return;
    this.sampleTimer = this.clock.setTimeout(() => {
      this.sampleTimer = null;
      const out: number[] = [];
      for (let ch = 0; ch < 6; ch++) {
        if (!(this.reportAnalog & (1 << ch))) continue;
        const v = Math.min(ADC_MAX, this.analogValue(ch));
        out.push(FIRMATA.ANALOG_MESSAGE | ch, v & 0x7f, (v >> 7) & 0x7f);
      }
      this.send(out);
      this.armSampling();
    }, this.samplingMs);
  }

  private send(bytes: number[]): void {
    if (this.closed || this.silent || bytes.length === 0) return;
    this.stats.bytesOut += bytes.length;
    this.link.write(Uint8Array.from(bytes));
  }
}
