/**
 * The two limit layers and the semantic rules zod cannot see: checks a
 * structurally valid Protocol against ABSOLUTE_LIMITS and a DeviceProfile and
 * lists every violation (errors) and every warning.
 */
import { ABSOLUTE_LIMITS as L, HIGH_CURRENT_DENSITY_ACK, STANDARDS } from './limits.js';
import type { DeviceProfile } from './profile.js';
import type { Issue, PathSegment } from './issues.js';
import { pathToString } from './issues.js';
import type { Protocol, TensProgram, ThermalProgram, UltrasoundProgram } from './schema.js';
import { areaToEraRatio, tensCurrentDensityMaPerCm2 } from './dose.js';
import { WIRE_QUANTITIES as WQ, wireProblem, type WireQuantity } from '../drivers/wire/units.js';
import { roundTo } from '../util/number.js';

type Locate = (path: readonly PathSegment[]) => { line: number; column: number } | undefined;

const round = (x: number, digits = 3) => roundTo(x, digits);

export function checkProtocol(protocol: Protocol, profile: DeviceProfile, file: string, locate: Locate = () => undefined): Issue[] {
  const out: Issue[] = [];
  const profileSetBy = `device profile ${profile.name}`;

  const add = (segs: readonly PathSegment[], fields: Omit<Issue, 'file' | 'path' | 'severity'> & { severity?: Issue['severity'] }) => {
    const pos = locate(segs);
    const issue: Issue = { file, path: pathToString(segs), severity: 'error', ...fields };
    if (pos) {
      issue.line = pos.line;
      issue.column = pos.column;
    }
    out.push(issue);
  };
  const absolute = (standard?: string) => ({ layer: 'absolute' as const, setBy: standard ? `absolute limit, ${standard}` : 'absolute limit' });
  const byProfile = { layer: 'profile' as const, setBy: profileSetBy };

  /** value ≤ absMax (and ≤ profMax when the profile narrows it) */
  const max = (segs: PathSegment[], value: number, unit: string, absMax: number, standard: string, profMax?: number) => {
    if (value > absMax) add(segs, { value, limit: `≤ ${absMax} ${unit}`, message: `exceeds ${absMax} ${unit}`, ...absolute(standard) });
    else if (profMax !== undefined && value > profMax) add(segs, { value, limit: `≤ ${profMax} ${unit}`, message: `exceeds ${profMax} ${unit}`, ...byProfile });
  };
  const min = (segs: PathSegment[], value: number, unit: string, absMin: number, standard: string, profMin?: number) => {
    if (value < absMin) add(segs, { value, limit: `≥ ${absMin} ${unit}`, message: `below ${absMin} ${unit}`, ...absolute(standard) });
    else if (profMin !== undefined && value < profMin) add(segs, { value, limit: `≥ ${profMin} ${unit}`, message: `below ${profMin} ${unit}`, ...byProfile });
  };
  const positive = (segs: PathSegment[], value: number, unit: string, standard?: string) => {
    if (!(value > 0)) add(segs, { value, limit: `> 0 ${unit}`, message: `must be greater than 0 ${unit}`, ...absolute(standard) });
  };
  const nonNegative = (segs: PathSegment[], value: number, unit: string) => {
    if (!(value >= 0)) add(segs, { value, limit: `≥ 0 ${unit}`, message: `must not be negative`, ...absolute() });
  };

  /**
   * The value must be one the wire carries exactly (its resolution and field range, from the table the
   * driver scales with). Checked after the limits: a field already reported is not reported twice.
   */
  const wire = (segs: PathSegment[], value: unknown, q: WireQuantity) => {
    if (typeof value !== 'number') return;
    const path = pathToString(segs);
    if (out.some((i) => i.path === path && i.severity === 'error')) return;
    const p = wireProblem(q, value);
    if (p) add(segs, { value, limit: p.limit, message: p.message, layer: 'wire', setBy: 'wire protocol' });
  };
  const wireDurations = (at: PathSegment[], o: Record<string, unknown>, keys: string[]) => {
    for (const k of keys) if (k in o) wire([...at, k], o[k], WQ.durationS);
  };

  const checkTens = (t: TensProgram, at: PathSegment[]) => {
    const S = STANDARDS.tens;
    const pt = profile.tens;
    if (!pt) {
      add(at, { message: 'this device has no TENS outputs', ...byProfile });
      return;
    }
    if (!pt.channels.includes(t.channel))
      add([...at, 'channel'], {
        value: t.channel,
        limit: `one of ${pt.channels.join(', ')}`,
        message: `no such TENS channel on this device (channels: ${pt.channels.join(', ')})`,
        ...byProfile,
      });
    min([...at, 'rateHz'], t.rateHz, 'Hz', L.tens.minRateHz, S, pt.minRateHz);
    max([...at, 'rateHz'], t.rateHz, 'Hz', L.tens.maxRateHz, S, pt.maxRateHz);
    min([...at, 'pulseWidthUs'], t.pulseWidthUs, 'µs', L.tens.minPulseWidthUs, S, pt.minPulseWidthUs);
    max([...at, 'pulseWidthUs'], t.pulseWidthUs, 'µs', L.tens.maxPulseWidthUs, S, pt.maxPulseWidthUs);
    positive([...at, 'amplitudeMa'], t.amplitudeMa, 'mA', S);
    max([...at, 'amplitudeMa'], t.amplitudeMa, 'mA', L.tens.maxAmplitudeMa, S, pt.maxAmplitudeMa);
    positive([...at, 'electrodeAreaCm2'], t.electrodeAreaCm2, 'cm²');
    nonNegative([...at, 'rampUpS'], t.rampUpS, 's');
    positive([...at, 'durationS'], t.durationS, 's');
    nonNegative([...at, 'rampDownS'], t.rampDownS, 's');
    if (t.burst) {
      const b = t.burst;
      positive([...at, 'burst', 'burstsPerS'], b.burstsPerS, 'Hz');
      if (b.pulsesPerBurst < 1)
        add([...at, 'burst', 'pulsesPerBurst'], { value: b.pulsesPerBurst, limit: '≥ 1', message: 'must be at least 1', ...absolute() });
      if (b.burstsPerS > 0 && t.rateHz > 0 && b.pulsesPerBurst / t.rateHz > 1 / b.burstsPerS)
        add([...at, 'burst'], {
          value: b,
          layer: 'schema',
          message: `a burst of ${b.pulsesPerBurst} pulses at ${t.rateHz} Hz lasts ${round((1000 * b.pulsesPerBurst) / t.rateHz, 1)} ms, longer than the ${round(1000 / b.burstsPerS, 1)} ms between bursts`,
        });
    }
    if (t.modulation) {
      const m = t.modulation;
      if (!(m.minPct > 0 && m.minPct < 100))
        add([...at, 'modulation', 'minPct'], { value: m.minPct, limit: '0 < minPct < 100 %', message: 'must be between 0 and 100 %', layer: 'schema' });
      positive([...at, 'modulation', 'periodS'], m.periodS, 's');
      const lowest = (v: number) => (v * m.minPct) / 100;
      if (m.kind === 'rate') {
        const lo = lowest(t.rateHz);
        const limit = Math.max(L.tens.minRateHz, pt.minRateHz ?? 0);
        if (lo < limit)
          add([...at, 'modulation', 'minPct'], {
            value: m.minPct,
            limit: `≥ ${limit} Hz`,
            message: `the sweep reaches ${round(lo)} Hz, below ${limit} Hz`,
            ...(lo < L.tens.minRateHz ? absolute(S) : byProfile),
          });
      } else if (m.kind === 'width') {
        const lo = lowest(t.pulseWidthUs);
        const limit = Math.max(L.tens.minPulseWidthUs, pt.minPulseWidthUs ?? 0);
        if (lo < limit)
          add([...at, 'modulation', 'minPct'], {
            value: m.minPct,
            limit: `≥ ${limit} µs`,
            message: `the sweep reaches ${round(lo)} µs, below ${limit} µs`,
            ...(lo < L.tens.minPulseWidthUs ? absolute(S) : byProfile),
          });
      }
    }
    if (t.amplitudeMa > 0 && t.amplitudeMa <= L.tens.maxAmplitudeMa && t.rampUpS >= 0) {
      const slew = L.tens.maxSlewMaPerS;
      const minRampS = t.amplitudeMa / slew;
      if (t.rampUpS < minRampS)
        add([...at, 'rampUpS'], {
          value: t.rampUpS,
          limit: `≥ ${round(minRampS, 2)} s (${slew} mA/s slew limit)`,
          message: `a ${t.rampUpS} s ramp to ${t.amplitudeMa} mA rises faster than the ${slew} mA/s slew limit; ramp for at least ${round(minRampS, 2)} s`,
          ...absolute(S),
        });
    }
    if (t.electrodeAreaCm2 > 0 && t.amplitudeMa > 0 && t.pulseWidthUs > 0 && t.rateHz > 0) {
      const density = tensCurrentDensityMaPerCm2(t);
      const lim = L.tens.maxCurrentDensityMaPerCm2;
      const ackLim = L.tens.maxAcknowledgedDensityMaPerCm2;
      if (density > ackLim) {
        add(at, {
          value: round(density),
          limit: `≤ ${ackLim} mA/cm² RMS even when acknowledged`,
          message: `RMS current density ${round(density)} mA/cm² exceeds ${ackLim} mA/cm², the ceiling even with acknowledge: [${HIGH_CURRENT_DENSITY_ACK}]; use a larger electrode or a lower amplitude`,
          ...absolute(S),
        });
      } else if (density > lim) {
        const acked = t.acknowledge?.includes(HIGH_CURRENT_DENSITY_ACK) ?? false;
        add(at, {
          value: round(density),
          limit: `≤ ${lim} mA/cm² RMS unless acknowledged`,
          severity: acked ? 'warning' : 'error',
          message: acked
            ? `RMS current density ${round(density)} mA/cm² is above ${lim} mA/cm² (acknowledged: ${HIGH_CURRENT_DENSITY_ACK})`
            : `RMS current density ${round(density)} mA/cm² exceeds ${lim} mA/cm²; use a larger electrode, or add acknowledge: [${HIGH_CURRENT_DENSITY_ACK}]`,
          ...absolute(S),
        });
      }
    }
    wire([...at, 'rateHz'], t.rateHz, WQ.tensRateHz);
    wire([...at, 'pulseWidthUs'], t.pulseWidthUs, WQ.tensPulseWidthUs);
    wire([...at, 'amplitudeMa'], t.amplitudeMa, WQ.tensAmplitudeMa);
    wire([...at, 'electrodeAreaCm2'], t.electrodeAreaCm2, WQ.electrodeAreaCm2);
    wireDurations(at, t, ['rampUpS', 'durationS', 'rampDownS']);
    if (t.burst) {
      wire([...at, 'burst', 'burstsPerS'], t.burst.burstsPerS, WQ.burstsPerS);
      wire([...at, 'burst', 'pulsesPerBurst'], t.burst.pulsesPerBurst, WQ.pulsesPerBurst);
    }
    if (t.modulation) {
      wire([...at, 'modulation', 'minPct'], t.modulation.minPct, WQ.modMinPct);
      wire([...at, 'modulation', 'periodS'], t.modulation.periodS, WQ.modPeriodS);
    }
  };

  const checkUltrasound = (u: UltrasoundProgram, at: PathSegment[]) => {
    const S = STANDARDS.ultrasound;
    const pu = profile.ultrasound;
    if (!pu) {
      add(at, { message: 'this device has no ultrasound head', ...byProfile });
      return;
    }
    positive([...at, 'intensityWPerCm2'], u.intensityWPerCm2, 'W/cm²', S);
    max([...at, 'intensityWPerCm2'], u.intensityWPerCm2, 'W/cm²', L.ultrasound.maxIntensityWPerCm2, S, pu.maxIntensityWPerCm2);
    if (!(pu.frequenciesMHz as number[]).includes(u.frequencyMHz))
      add([...at, 'frequencyMHz'], {
        value: u.frequencyMHz,
        limit: `one of ${pu.frequenciesMHz.join(', ')} MHz`,
        message: `the head does not support ${u.frequencyMHz} MHz (supports ${pu.frequenciesMHz.join(', ')} MHz)`,
        ...byProfile,
      });
    positive([...at, 'eraCm2'], u.eraCm2, 'cm²');
    if (u.eraCm2 > pu.headEraCm2)
      add([...at, 'eraCm2'], {
        value: u.eraCm2,
        limit: `= ${pu.headEraCm2} cm²`,
        message: `exceeds the fitted head's ERA of ${pu.headEraCm2} cm²`,
        ...byProfile,
      });
    else if (u.eraCm2 > 0 && u.eraCm2 < pu.headEraCm2)
      add([...at, 'eraCm2'], {
        value: u.eraCm2,
        limit: `= ${pu.headEraCm2} cm²`,
        message: `does not match the fitted head's ERA of ${pu.headEraCm2} cm² (the dose is computed from the ERA, so it must be the head's)`,
        ...byProfile,
      });
    positive([...at, 'areaCm2'], u.areaCm2, 'cm²');
    if (u.doseJPerCm2 !== undefined) positive([...at, 'doseJPerCm2'], u.doseJPerCm2, 'J/cm²');
    if (u.durationS !== undefined) positive([...at, 'durationS'], u.durationS, 's');
    if (u.areaCm2 > 0 && u.eraCm2 > 0) {
      const ratio = areaToEraRatio(u);
      if (ratio > L.ultrasound.maxAreaToEraRatio)
        add([...at, 'areaCm2'], {
          value: u.areaCm2,
          limit: `≤ ${L.ultrasound.maxAreaToEraRatio} × ERA = ${round(L.ultrasound.maxAreaToEraRatio * u.eraCm2)} cm²`,
          message: `treatment area is ${round(ratio, 2)} × the ERA, above ${L.ultrasound.maxAreaToEraRatio} × ERA (${round(L.ultrasound.maxAreaToEraRatio * u.eraCm2)} cm²): too large to treat with this head`,
          layer: 'absolute',
          setBy: 'absolute limit, dose rule',
        });
      else if (ratio > L.ultrasound.warnAreaToEraRatio)
        add([...at, 'areaCm2'], {
          value: u.areaCm2,
          limit: `≤ ${L.ultrasound.warnAreaToEraRatio} × ERA = ${round(L.ultrasound.warnAreaToEraRatio * u.eraCm2)} cm²`,
          severity: 'warning',
          message: `treatment area is ${round(ratio, 2)} × the ERA, above ${L.ultrasound.warnAreaToEraRatio} × ERA: the dose is spread thin`,
          layer: 'absolute',
          setBy: 'dose rule',
        });
    }
    wire([...at, 'intensityWPerCm2'], u.intensityWPerCm2, WQ.usIntensityWPerCm2);
    wire([...at, 'eraCm2'], u.eraCm2, WQ.eraCm2);
    wire([...at, 'frequencyMHz'], u.frequencyMHz, WQ.usFrequencyMHz);
    wire([...at, 'dutyCyclePct'], u.dutyCyclePct, WQ.usDutyCyclePct);
    wireDurations(at, u, ['durationS']);
  };

  const checkThermal = (th: ThermalProgram, at: PathSegment[]) => {
    const S = STANDARDS.thermal;
    const pth = profile.thermal;
    if (!pth) {
      add(at, { message: 'this device has no thermal pad', ...byProfile });
      return;
    }
    if (th.mode === 'heat' || th.mode === 'contrast') {
      max([...at, 'hot', 'targetC'], th.hot.targetC, '°C', L.thermal.maxHotTargetC, `${S}, pad surface max ${L.thermal.padSurfaceMaxC} °C`, pth.maxHotC);
      positive([...at, 'hot', 'durationS'], th.hot.durationS, 's');
    }
    if (th.mode === 'cold' || th.mode === 'contrast') {
      min([...at, 'cold', 'targetC'], th.cold.targetC, '°C', L.thermal.minColdTargetC, 'cold floor', pth.minColdC);
      positive([...at, 'cold', 'durationS'], th.cold.durationS, 's');
    }
    if (th.mode === 'contrast') {
      if (th.cycles < 1) add([...at, 'cycles'], { value: th.cycles, limit: '≥ 1', message: 'must be at least 1', ...absolute() });
      if (th.hot.targetC <= th.cold.targetC)
        add([...at, 'hot', 'targetC'], {
          value: th.hot.targetC,
          layer: 'schema',
          message: `the hot target must be above the cold target (${th.cold.targetC} °C)`,
        });
    }
    for (const kind of ['hot', 'cold'] as const) {
      const ph = (th as Partial<Record<'hot' | 'cold', { targetC: number; durationS: number }>>)[kind];
      if (!ph) continue;
      wire([...at, kind, 'targetC'], ph.targetC, WQ.padTargetC);
      wireDurations([...at, kind], ph, ['durationS']);
    }
  };

  protocol.steps.forEach((step, i) => {
    const at: PathSegment[] = ['steps', i];
    if ('tens' in step) checkTens(step.tens, [...at, 'tens']);
    else if ('ultrasound' in step) checkUltrasound(step.ultrasound, [...at, 'ultrasound']);
    else if ('thermal' in step) checkThermal(step.thermal, [...at, 'thermal']);
    else if ('prompt' in step) positive([...at, 'prompt', 'durationS'], step.prompt.durationS, 's');
    else {
      const channels = new Map<number, number>();
      let us: number | undefined;
      let th: number | undefined;
      step.parallel.forEach((item, j) => {
        const ip: PathSegment[] = [...at, 'parallel', j];
        const clash = (first: number, what: string) =>
          add(ip, { layer: 'schema', message: `parallel clash: ${what} is already used by ${pathToString([...at, 'parallel', first])} in this group` });
        if ('tens' in item) {
          const prev = channels.get(item.tens.channel);
          if (prev !== undefined) clash(prev, `TENS channel ${item.tens.channel}`);
          else channels.set(item.tens.channel, j);
          checkTens(item.tens, [...ip, 'tens']);
        } else if ('ultrasound' in item) {
          if (us !== undefined) clash(us, 'the ultrasound head');
          else us = j;
          checkUltrasound(item.ultrasound, [...ip, 'ultrasound']);
        } else {
          if (th !== undefined) clash(th, 'the thermal pad');
          else th = j;
          checkThermal(item.thermal, [...ip, 'thermal']);
        }
      });
    }
  });
  return out;
}
