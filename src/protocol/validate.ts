/**
 * The two limit layers and the semantic rules zod cannot see: checks a
 * structurally valid Protocol against ABSOLUTE_LIMITS and a DeviceProfile and
 * lists every violation (errors) and every warning.
 */
import type { DeviceProfile } from './profile.js';
import type { Issue, PathSegment } from './issues.js';
import { pathToString } from './issues.js';
import type { PlannedProgram } from './plan.js';
import { PROGRAMS, programOf } from './programs/index.js';
import type { CheckKit, ProgramKind } from './programs/kit.js';
import type { ParallelItem, ProgramModality, Protocol } from './schema.js';
import { WIRE_QUANTITIES as WQ, wireProblem, type WireQuantity } from '../drivers/wire/units.js';

type Locate = (path: readonly PathSegment[]) => { line: number; column: number } | undefined;

/** A program kind, typed loosely for the loop that handles every kind alike. */
type AnyKind = ProgramKind<ProgramModality, unknown, PlannedProgram, unknown>;

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

  const kit: CheckKit = { add, absolute, byProfile, max, min, positive, nonNegative, wire, wireDurations };
  /** Check one program step (`{ <key>: program }`) with its kind's checks, against the profile's section for it. */
  const checkProgram = (item: ParallelItem, at: PathSegment[]) => {
    const [key, program] = programOf(item);
    (PROGRAMS[key] as AnyKind).check(program, [...at, key], kit, profile[key]);
  };

  protocol.steps.forEach((step, i) => {
    const at: PathSegment[] = ['steps', i];
    if ('prompt' in step) positive([...at, 'prompt', 'durationS'], step.prompt.durationS, 's');
    else if (!('parallel' in step)) checkProgram(step, at);
    else {
      // each thing a group may use once (a TENS channel, the head, the pad): the item that took it first
      const taken = new Map<string, number>();
      step.parallel.forEach((item, j) => {
        const ip: PathSegment[] = [...at, 'parallel', j];
        const [key, program] = programOf(item);
        const what = (PROGRAMS[key] as AnyKind).resource(program);
        const first = taken.get(what);
        if (first !== undefined)
          add(ip, { layer: 'schema', message: `parallel clash: ${what} is already used by ${pathToString([...at, 'parallel', first])} in this group` });
        else taken.set(what, j);
        checkProgram(item, ip);
      });
    }
  });
  return out;
}
