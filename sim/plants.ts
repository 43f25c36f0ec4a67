import { ELECTRODE_GOOD_OHM, ELECTRODE_OPEN_OHM } from './faults.js';
import { REFERENCE_PAD, type PadModel } from '../src/protocol/thermal-estimate.js';

/**
 * Plant models of the simulated board: the thermal pad, the electrodes and the
 * ultrasound head. Pure state plus an integration step; the board calls step()
 * on the shared clock.
 */

/** The pad's parameters: the reference model the plans estimate transitions with (src/protocol/thermal-estimate.ts). */
export type PadParams = PadModel;

export const DEFAULT_PAD: PadParams = REFERENCE_PAD;

/** First-order pad with bounded heating/cooling rates and a lagging skin sensor. */
export class ThermalPad {
  surfaceC: number;
  sensorC: number;
  /** Drive in [-1, 1]: positive heats, negative cools (the board's heater and cooler outputs). */
  drive = 0;
  /** Injected failure: the heater is stuck full on (a welded relay or shorted triac) until the safety cut. */
  heaterStuck = false;
  /** The pad's supply relay is open (closed only while the board drives the pad). */
  powerCut = false;

  constructor(readonly p: PadParams = DEFAULT_PAD) {
    this.surfaceC = p.startC;
    this.sensorC = p.startC;
  }

  step(dtS: number): void {
    let drive = this.powerCut ? 0 : this.drive;
    if (this.heaterStuck && !this.powerCut) drive = 1;
    const rate = drive > 0 ? drive * this.p.maxHeatCPerS : drive * this.p.maxCoolCPerS;
    const passive = (this.p.ambientC - this.surfaceC) / this.p.tauS;
    this.surfaceC += (rate + passive) * dtS;
    const a = Math.min(1, dtS / this.p.sensorLagS);
    this.sensorC += (this.surfaceC - this.sensorC) * a;
  }
}

/** Electrode contact: impedance seen by a TENS channel. */
export class Electrode {
  static readonly GOOD_OHM = ELECTRODE_GOOD_OHM;
  static readonly OPEN_OHM = ELECTRODE_OPEN_OHM;
  ohm = Electrode.GOOD_OHM;
}

/** Ultrasound head: coupling and head temperature (warms while sonating, more when uncoupled). */
export class UltrasoundHead {
  coupled = true;
  tempC = 30;
  /** Held at tempC (tests set the thermistor reading). */
  held = false;
  step(dtS: number, wPerCm2: number): void {
    if (this.held) return;
    const heating = wPerCm2 * (this.coupled ? 0.004 : 0.05);
    this.tempC += (heating - (this.tempC - 30) / 120) * dtS;
  }
}
