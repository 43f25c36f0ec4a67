/** The protocol library: grouped by body region, then by kind of treatment; search; a protocol file from a USB stick. */
import { useEffect, useState } from 'preact/hooks';
import type { LibraryEntry } from '../../library.js';
import { go } from '../nav.js';
import { api } from '../state.js';
import { M, duration, fmt } from '../format.js';

export const UPLOAD_KEY = 'upload';

function kindOf(e: LibraryEntry): string {
  return e.modalities.length > 1 ? 'combined' : (e.modalities[0] ?? 'other');
}
const KIND_NAMES: Record<string, string> = {
  combined: 'Combined treatments',
  tens: 'TENS',
  ultrasound: 'Ultrasound',
  thermal: 'Heat and cold',
  other: 'Other',
};

export function LibraryScreen() {
  const [list, setList] = useState<LibraryEntry[] | null>(null);
  const [dir, setDir] = useState('');
  const [q, setQ] = useState('');
  useEffect(() => {
    void api<{ protocols: LibraryEntry[]; clinicFolder: string }>('/api/protocols').then((r) => {
      setList(r.protocols);
      setDir(r.clinicFolder);
    });
  }, []);
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = (list ?? []).filter((e) =>
    words.every((w) => `${e.name} ${e.indication} ${e.region} ${e.id ?? ''} ${e.modalities.map((m) => M.modality[m]).join(' ')}`.toLowerCase().includes(w)),
  );
  const regions = [...new Set(shown.map((e) => e.region))].sort();
  const onFile = async (ev: Event) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (!f) return;
    sessionStorage.setItem('modality.upload', JSON.stringify({ name: f.name, text: await f.text() }));
    go('start', UPLOAD_KEY);
  };
  return (
    <div class="library">
      <div class="row">
        <h1>{M.library.heading}</h1>
        <input
          type="search"
          aria-label={M.library.search}
          placeholder={M.library.searchPlaceholder}
          value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        />
      </div>
      {list && !shown.length ? <p>{fmt(M.library.none, { query: q })}</p> : null}
      {regions.map((r) => (
        <section key={r} aria-label={r}>
          <h2>{r}</h2>
          {[...new Set(shown.filter((e) => e.region === r).map(kindOf))].sort().map((k) => (
            <div key={k}>
              <h3>{KIND_NAMES[k] ?? k}</h3>
              <ul class="cards">
                {shown
                  .filter((e) => e.region === r && kindOf(e) === k)
                  .map((e) => (
                    <li key={e.key}>
                      <a class={`card${e.errors ? ' invalid' : ''}`} href={`#/protocol/${encodeURIComponent(e.key)}`}>
                        <span class="name">{e.name}</span>
                        <span class="ind">{e.errors ? `${M.library.invalid} ${e.errors[0]}` : e.indication}</span>
                        <span class="meta">
                          {e.modalities.map((m) => (
                            <span class={`chip ${m}`} key={m}>
                              {M.modality[m]}
                            </span>
                          ))}
                          {e.plannedMs !== null ? <span>{duration(e.plannedMs)}</span> : null}
                          <span>{e.origin === 'clinic' ? M.library.clinic : M.library.builtIn}</span>
                        </span>
                      </a>
                    </li>
                  ))}
              </ul>
            </div>
          ))}
        </section>
      ))}
      <p class="upload">
        <label class="button secondary">
          {M.library.upload}
          <input type="file" accept=".yaml,.yml,.json" onChange={onFile} hidden />
        </label>
        <span>{M.library.uploadHint}</span>
      </p>
      {dir ? <p class="hint">{fmt(M.library.clinicFolder, { dir })}</p> : null}
    </div>
  );
}
