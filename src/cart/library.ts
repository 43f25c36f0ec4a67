/**
 * The cart's protocol library: the built-ins and the clinic's own files in
 * `<data>/protocols/`, grouped by body region, searchable; and a protocol's
 * detail (plan, timeline, dose, current density, notes, checklist).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatIssue,
  listBuiltins,
  loadProtocolFile,
  parseProtocolText,
  planTimeline,
  resolveProtocol,
  validateProtocolData,
  type DeviceProfile,
  type Plan,
  type ProtocolResult,
  type TimelineEntry,
} from '../protocol/index.js';
import { checklistFor, type ChecklistItem } from './checklist.js';

export interface LibraryEntry {
  /** Built-in: its id; a clinic file: "clinic:<file name without extension>". */
  key: string;
  origin: 'built-in' | 'clinic';
  id: string | null;
  name: string;
  indication: string;
  region: string;
  modalities: string[];
  plannedMs: number | null;
  /** A clinic file that does not validate: every problem, one line each. It cannot be started. */
  errors?: string[];
}

export interface ProtocolDetail extends LibraryEntry {
  plan: Plan;
  timeline: TimelineEntry[];
  checklist: ChecklistItem[];
}

/** Body regions, by the words a protocol's name and indication use. First match wins. */
const REGIONS: [string, RegExp][] = [
  ['Neck', /\b(neck|cervical)\b/i],
  ['Upper back', /\b(upper back|thoracic|trapezius|rhomboid|scapula)/i],
  ['Low back', /\b(low(er)? back|lumbar|sacr)/i],
  ['Shoulder', /\bshoulder/i],
  ['Elbow, wrist and hand', /\b(elbow|wrist|hand|epicondyl)/i],
  ['Hip and knee', /\b(hip|knee|patell)/i],
  ['Ankle and foot', /\b(ankle|foot|plantar|achilles)/i],
];

export function regionOf(text: string): string {
  return REGIONS.find(([, re]) => re.test(text))?.[0] ?? 'Other';
}

function modalitiesOf(plan: Plan): string[] {
  const set = new Set<string>();
  for (const s of plan.steps) for (const p of s.programs) set.add(p.modality);
  return [...set];
}

function entryOf(key: string, origin: LibraryEntry['origin'], plan: Plan): LibraryEntry {
  const p = plan.protocol;
  return {
    key,
    origin,
    id: p.id,
    name: p.name,
    indication: p.indication,
    region: regionOf(`${p.name} ${p.indication}`),
    modalities: modalitiesOf(plan),
    plannedMs: plan.totalMs,
  };
}

export class Library {
  /** Validated plans by file and modification time: a file is read again only when it changed. */
  private readonly cache = new Map<string, { mtimeMs: number; result: ProtocolResult }>();

  constructor(
    private readonly dataDir: string,
    private readonly profile: DeviceProfile,
  ) {}

  private cached(file: string, load: () => ProtocolResult): ProtocolResult {
    const mtimeMs = statSync(file).mtimeMs;
    const hit = this.cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit.result;
    const result = load();
    this.cache.set(file, { mtimeMs, result });
    return result;
  }

  get clinicDir(): string {
    return join(this.dataDir, 'protocols');
  }

  private clinicFiles(): { key: string; file: string }[] {
    if (!existsSync(this.clinicDir)) return [];
    return readdirSync(this.clinicDir)
      .filter((f) => /\.(ya?ml|json)$/i.test(f))
      .sort()
      .map((f) => ({ key: `clinic:${f.replace(/\.(ya?ml|json)$/i, '')}`, file: join(this.clinicDir, f) }));
  }

  list(): LibraryEntry[] {
    const out: LibraryEntry[] = [];
    for (const b of listBuiltins()) {
      const r = this.cached(b.file, () => resolveProtocol(b.id, this.profile));
      if (r.ok) out.push(entryOf(b.id, 'built-in', r.plan));
    }
    for (const c of this.clinicFiles()) {
      const r = this.cached(c.file, () => loadProtocolFile(c.file, this.profile, { displayPath: c.file.slice(this.dataDir.length + 1) }));
      if (r.ok) out.push(entryOf(c.key, 'clinic', r.plan));
      else
        out.push({
          key: c.key,
          origin: 'clinic',
          id: null,
          name: c.key.slice(7),
          indication: '',
          region: 'Other',
          modalities: [],
          plannedMs: null,
          errors: r.errors.map(formatIssue),
        });
    }
    return out;
  }

  /** The plan of a library entry by key; null when there is no such entry. */
  resolve(key: string): ProtocolResult | null {
    if (key.startsWith('clinic:')) {
      const c = this.clinicFiles().find((x) => x.key === key);
      return c ? this.cached(c.file, () => loadProtocolFile(c.file, this.profile, { displayPath: c.file.slice(this.dataDir.length + 1) })) : null;
    }
    const b = listBuiltins().find((x) => x.id === key);
    return b ? this.cached(b.file, () => resolveProtocol(key, this.profile)) : null;
  }

  /** A protocol file the clinician uploads at the cart (YAML or JSON text): validated against the same limits. */
  parseUpload(name: string, text: string): ProtocolResult {
    const parsed = parseProtocolText(text, name);
    if (!parsed.ok) return { ok: false, errors: parsed.errors };
    return validateProtocolData(parsed.data, { file: name, source: `upload:${name}`, locate: parsed.locate, profile: this.profile });
  }

  detail(key: string): ProtocolDetail | { errors: string[] } | null {
    const r = this.resolve(key);
    if (!r) return null;
    if (!r.ok) return { errors: r.errors.map(formatIssue) };
    return this.describe(key, r.plan);
  }

  describe(key: string, plan: Plan): ProtocolDetail {
    return {
      ...entryOf(key, key.startsWith('clinic:') || key === 'upload' ? 'clinic' : 'built-in', plan),
      plan,
      timeline: planTimeline(plan),
      checklist: checklistFor(plan),
    };
  }
}
