/** The host's absolute limits and the board's own (wire spec, firmware header) are the same numbers. */
import { describe, expect, it } from 'vitest';
import { ABSOLUTE_LIMITS as L } from '../../src/protocol/limits.js';
import { BOARD_LIMITS as B, US_DUTY_CYCLES_PCT, US_FREQUENCIES_MHZ } from '../../src/drivers/wire/spec.js';

describe('host and board limits agree', () => {
  it('TENS', () => {
    expect(B.maxTensMa).toBe(L.tens.maxAmplitudeMa);
    expect([B.minTensRateHz, B.maxTensRateHz]).toEqual([L.tens.minRateHz, L.tens.maxRateHz]);
    expect([B.minTensPulseWidthUs, B.maxTensPulseWidthUs]).toEqual([L.tens.minPulseWidthUs, L.tens.maxPulseWidthUs]);
    expect(B.maxTensDensityMaPerCm2).toBe(L.tens.maxCurrentDensityMaPerCm2);
    expect(B.maxTensDensityAckMaPerCm2).toBe(L.tens.maxAcknowledgedDensityMaPerCm2);
    expect(B.maxTensSlewMaPerS).toBe(L.tens.maxSlewMaPerS);
  });
  it('ultrasound and thermal', () => {
    expect(B.maxUsWPerCm2).toBe(L.ultrasound.maxIntensityWPerCm2);
    expect(B.maxPadTargetC).toBe(L.thermal.maxHotTargetC);
    expect(B.minPadTargetC).toBe(L.thermal.minColdTargetC);
    expect(B.padOverTempC).toBe(L.thermal.padSurfaceMaxC);
  });
  it('the ultrasound settings the board accepts (CONFIG_US) are the ones a protocol may ask for', () => {
    expect([...US_FREQUENCIES_MHZ]).toEqual([...L.ultrasound.frequenciesMHz]);
    expect([...US_DUTY_CYCLES_PCT]).toEqual([...L.ultrasound.dutyCyclesPct]);
  });
});

import { validateProtocolData } from '../../src/protocol/index.js';

const tens = {
  channel: 1,
  waveform: 'symmetric-biphasic',
  rateHz: 100,
  pulseWidthUs: 100,
  amplitudeMa: 25,
  electrodeAreaCm2: 25,
  rampUpS: 10,
  durationS: 10,
  rampDownS: 1,
};
const proto = (t: object) => ({ id: 'x', name: 'x', indication: 'x', steps: [{ tens: t }] });

describe('limits the board enforces too', () => {
  it('a ramp steeper than the slew limit is rejected, naming the field and the limit', () => {
    const r = validateProtocolData(proto({ ...tens, rampUpS: 2 }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors[0]!.path).toBe('steps[0].tens.rampUpS');
      expect(r.errors[0]!.limit).toContain('10 mA/s');
      expect(r.errors[0]!.layer).toBe('absolute');
    }
    expect(validateProtocolData(proto({ ...tens, rampUpS: 2.5 })).ok).toBe(true);
  });
  it('acknowledged current density still has a ceiling', () => {
    // 60 mA, 500 µs symmetric, 150 Hz over 4 cm²: 5.5 mA/cm² RMS
    const r = validateProtocolData(
      proto({ ...tens, amplitudeMa: 60, rampUpS: 6, pulseWidthUs: 500, rateHz: 150, electrodeAreaCm2: 4, acknowledge: ['high-current-density'] }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.limit).toContain('even when acknowledged');
  });
});
