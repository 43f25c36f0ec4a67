/**
 * Absolute limits: the outer layer. These come from the standards (as cited in
 * docs / DESIGN-NOTES) and no device profile may widen them. A device profile
 * (see profile.ts) may only narrow them.
 *
 * Every name carries its unit.
 */
import { US_DUTY_CYCLES_PCT, US_FREQUENCIES_MHZ } from '../drivers/wire/spec.js';

export const STANDARDS = {
  tens: 'IEC 60601-2-10',
  ultrasound: 'IEC 60601-2-5',
  thermal: 'IEC 60601-1',
} as const;

export const ABSOLUTE_LIMITS = {
  tens: {
    minRateHz: 1,
    maxRateHz: 150,
    minPulseWidthUs: 20,
    maxPulseWidthUs: 500,
    /** amplitude must be > 0 and ≤ this */
    maxAmplitudeMa: 80,
    /** RMS current density above which the operator must acknowledge (IEC 60601-2-10 "special attention") */
    maxCurrentDensityMaPerCm2: 2,
    /** RMS current density ceiling even with the acknowledgement (the board refuses above it too) */
    maxAcknowledgedDensityMaPerCm2: 4,
    /** amplitude may rise no faster than this: ramps, adjustments and set-points alike (mA/s) */
    maxSlewMaPerS: 10,
  },
  ultrasound: {
    /** effective intensity (the set intensity); must also be > 0 */
    maxIntensityWPerCm2: 3,
    /** the head settings the board accepts (one list: the wire spec's) */
    frequenciesMHz: US_FREQUENCIES_MHZ as readonly number[],
    dutyCyclesPct: US_DUTY_CYCLES_PCT as readonly number[],
    /** treatment area above this multiple of the ERA is rejected */
    maxAreaToEraRatio: 4,
    /** treatment area above this multiple of the ERA draws a warning */
    warnAreaToEraRatio: 2,
  },
  thermal: {
    /** highest target a protocol may set for a hot phase */
    maxHotTargetC: 40,
    /** pad surface maximum for applied parts; the board cuts the pad above it */
    padSurfaceMaxC: 41,
    /** lowest target a protocol may set for a cold phase */
    minColdTargetC: 10,
  },
} as const;

/** The id of the acknowledgement that allows a TENS step above maxCurrentDensityMaPerCm2. */
export const HIGH_CURRENT_DENSITY_ACK = 'high-current-density';
export const ACKNOWLEDGEMENTS = [HIGH_CURRENT_DENSITY_ACK] as const;
