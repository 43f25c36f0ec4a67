/**
 * How long the pad takes to get from one target to the next: the thermal
 * transitions a plan must include to tell the truth about its length.
 *
 * The estimate integrates the reference pad model (the same first-order pad,
 * bounded heating/cooling rates, proportional controller and lagging skin
 * sensor that the simulated board runs, sim/plants.ts takes its defaults from
 * here) in 100 ms steps, as the board does, until the sensor is within the
 * at-target band. A real pad differs; the figure is an estimate and is shown as
 * one. Pure: no I/O, no clocks.
 */

/** What `show` says of thermal times (the plan counts estimated transitions; a real pad differs). */
export const THERMAL_PLAN_NOTE =
  'Thermal times are time at target; the planned length adds an estimate of each transition (pad heating/cooling to the target) from the reference pad model. A real pad can be faster or slower.';

export interface PadModel {
  ambientC: number;
  /** Pad (skin side) temperature when the session starts. */
  startC: number;
  /** Passive time constant towards ambient, seconds. */
  tauS: number;
  /** Maximum heating rate at full drive, °C/s. */
  maxHeatCPerS: number;
  /** Maximum cooling rate at full drive, °C/s. */
  maxCoolCPerS: number;
  /** Controller gain: drive per °C of error. */
  gainPerC: number;
  /** Skin sensor lag, seconds (first order). */
  sensorLagS: number;
}

/** The reference cart's pad: what the simulated board models. */
export const REFERENCE_PAD: PadModel = {
  ambientC: 24,
  startC: 31,
  tauS: 600,
  maxHeatCPerS: 0.5,
  maxCoolCPerS: 0.4,
  gainPerC: 0.8,
  sensorLagS: 2,
};

/** The board reports the pad at target when its sensor is this close (BOARD_LIMITS.atTargetBandC). */
export const AT_TARGET_BAND_C = 1;

const STEP_S = 0.1;
/** A transition that would take longer is not going to end (a target the pad cannot hold): stop estimating there. */
const MAX_TRANSITION_S = 4 * 3600;

/**
 * Estimated transition before each phase (ms, one per phase): the pad starts
 * at `pad.startC`, each phase holds its target for its time at target, and the
 * next transition starts from where the pad is then.
 */
/** One phase of a thermal program in the plan. */
export type ThermalPhase = {
  kind: 'hot' | 'cold';
  targetC: number;
  /** time at target */
  durationMs: number;
  /** estimated transition to the target before it (0 when not estimated) */
  transitionMs?: number;
};

export function estimateTransitionsMs(phases: readonly ThermalPhase[], pad: PadModel = REFERENCE_PAD): number[] {
  let surface = pad.startC;
  let sensor = pad.startC;
  const step = (target: number) => {
    const drive = Math.max(-1, Math.min(1, (target - surface) * pad.gainPerC));
    const rate = drive > 0 ? drive * pad.maxHeatCPerS : drive * pad.maxCoolCPerS;
    surface += (rate + (pad.ambientC - surface) / pad.tauS) * STEP_S;
    sensor += (surface - sensor) * Math.min(1, STEP_S / pad.sensorLagS);
  };
  return phases.map((ph) => {
    let s = 0;
    while (Math.abs(ph.targetC - sensor) > AT_TARGET_BAND_C && s < MAX_TRANSITION_S) {
      step(ph.targetC);
      s += STEP_S;
    }
    const holdSteps = Math.round(ph.durationMs / 1000 / STEP_S);
    for (let i = 0; i < holdSteps; i++) step(ph.targetC);
    return Math.round(s * 1000);
  });
}
