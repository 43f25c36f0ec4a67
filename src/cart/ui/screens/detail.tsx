/** One protocol: indication, source, notes and placement, the plan step by step with dose and current density, a timeline. */
import { useEffect, useState } from 'preact/hooks';
import type { ProtocolDetail } from '../../library.js';
import { go } from '../nav.js';
import { api, ApiError } from '../state.js';
import { M, duration, fmt } from '../format.js';
import { stepLines } from '../plan-text.js';

export function Timeline({ detail }: { detail: ProtocolDetail }) {
  const total = Math.max(1, detail.plan.totalMs);
  const rows = [...new Set(detail.timeline.map((e) => e.programIndex ?? -1))];
  return (
    <div class="timeline" role="img" aria-label={M.detail.timeline}>
      {rows.map((r) => (
        <div class="lane-row" key={r}>
          <span class="lane-label">{M.modality[detail.timeline.find((e) => (e.programIndex ?? -1) === r)?.modality ?? ''] ?? ''}</span>
          <div class="lane">
            {detail.timeline
              .filter((e) => (e.programIndex ?? -1) === r)
              .map((e, i) => (
                <span
                  key={i}
                  class={`seg ${e.modality} ${e.phase}`}
                  style={{ left: `${(e.startMs / total) * 100}%`, width: `${Math.max(0.5, ((e.endMs - e.startMs) / total) * 100)}%` }}
                  title={e.label}
                />
              ))}
          </div>
        </div>
      ))}
      <div class="axis">
        <span>0:00</span>
        <span>{duration(total)}</span>
      </div>
    </div>
  );
}

export function DetailScreen({ protocolKey }: { protocolKey: string }) {
  const [d, setD] = useState<ProtocolDetail | null>(null);
  const [err, setErr] = useState<string[] | null>(null);
  useEffect(() => {
    void api<ProtocolDetail>(`/api/protocols/${encodeURIComponent(protocolKey)}`).then(setD, (e: unknown) =>
      setErr(e instanceof ApiError ? [e.message, ...e.detail] : [String(e)]),
    );
  }, [protocolKey]);
  if (err)
    return (
      <div class="detail">
        <a class="button secondary" href="#/library">
          {M.app.back}
        </a>
        {err.map((l) => (
          <p key={l}>{l}</p>
        ))}
      </div>
    );
  if (!d) return null;
  const p = d.plan.protocol;
  return (
    <div class="detail">
      <div class="row">
        <a class="button secondary" href="#/library">
          {M.app.back}
        </a>
        <h1>{p.name}</h1>
        <button type="button" class="primary" onClick={() => go('start', protocolKey)}>
          {M.detail.choose}
        </button>
      </div>
      <dl>
        <dt>{M.detail.indication}</dt>
        <dd>{p.indication}</dd>
        <dt>{M.detail.notes}</dt>
        <dd>{p.notes ?? M.detail.noNotes}</dd>
        {p.source ? (
          <>
            <dt>{M.detail.source}</dt>
            <dd class="source">{p.source}</dd>
          </>
        ) : null}
      </dl>
      <h2>
        {M.detail.plan} <small>{fmt(M.detail.total, { time: duration(d.plan.totalMs) })}</small>
      </h2>
      <Timeline detail={d} />
      <ol class="steps">
        {d.plan.steps.map((s) => (
          <li key={s.index}>
            <span class="when">{duration(s.startMs)}</span>
            <span>
              {stepLines(s).map((l) => (
                <span class="line" key={l}>
                  {l}
                </span>
              ))}
              {s.kind === 'parallel' ? <em> ({M.detail.parallel})</em> : null}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
