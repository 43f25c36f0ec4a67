/** The records: newest first, by patient, simulations only on request; a record's report. */
import { useEffect, useState } from 'preact/hooks';
import type { SessionRow } from '../../../records/store.js';
import { go } from '../nav.js';
import { api } from '../state.js';
import { M, duration, localDateTime } from '../format.js';

export function HistoryScreen({ open }: { open?: string | undefined }) {
  const [rows, setRows] = useState<SessionRow[] | null>(null);
  const [patient, setPatient] = useState('');
  const [all, setAll] = useState(false);
  useEffect(() => {
    const q = new URLSearchParams({ ...(patient.trim() ? { patient: patient.trim() } : {}), ...(all ? { all: 'true' } : {}) });
    void api<{ sessions: SessionRow[] }>(`/api/history?${q}`).then((r) => setRows(r.sessions));
  }, [patient, all]);
  if (open) {
    return (
      <div class="history report">
        <button type="button" class="secondary" onClick={() => go('history')}>
          {M.history.close}
        </button>
        <iframe title={`${M.history.open} ${open}`} src={`/api/history/${encodeURIComponent(open)}/report`} />
      </div>
    );
  }
  return (
    <div class="history">
      <div class="row">
        <h1>{M.history.heading}</h1>
        <input
          type="search"
          aria-label={M.history.filter}
          placeholder={M.history.filterPlaceholder}
          value={patient}
          onInput={(e) => setPatient((e.target as HTMLInputElement).value)}
        />
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} />
          {M.history.all}
        </label>
      </div>
      {rows && !rows.length ? <p>{M.history.none}</p> : null}
      {rows?.length ? (
        <table>
          <thead>
            <tr>
              {Object.values(M.history.columns).map((c) => (
                <th key={c}>{c}</th>
              ))}
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} class={r.simulated ? 'simulated' : ''}>
                <td>{localDateTime(r.startedAt)}</td>
                <td>{r.context?.patient ?? '—'}</td>
                <td>
                  {r.protocol.name}
                  {r.simulated ? <em> ({M.history.simulated})</em> : null}
                </td>
                <td>{r.context?.site ? `${r.context.site}${r.context.side ? ` (${M.start.sides[r.context.side]})` : ''}` : '—'}</td>
                <td>{M.session.outcomes[r.outcome] ?? r.outcome}</td>
                <td>{duration(r.elapsedMs ?? 0)}</td>
                <td>
                  <a class="button secondary" href={`#/history/${r.id}`} aria-label={`${M.history.open} ${r.id}`}>
                    {M.history.open}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
