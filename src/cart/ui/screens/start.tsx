/** Who, where, and the contraindication checklist; Start only when all is answered and nothing contraindicates. */
import { useEffect, useState } from 'preact/hooks';
import type { ProtocolDetail } from '../../library.js';
import { go } from '../nav.js';
import { api, ApiError, type CartState } from '../state.js';
import { M, fmt } from '../format.js';
import { UPLOAD_KEY } from './library.js';

const SIDES = ['left', 'right', 'both', 'midline'] as const;

function upload(): { name: string; text: string } | null {
  const raw = sessionStorage.getItem('modality.upload');
  return raw ? (JSON.parse(raw) as { name: string; text: string }) : null;
}

export function StartScreen({ protocolKey, state }: { protocolKey: string; state: CartState }) {
  const [d, setD] = useState<ProtocolDetail | null>(null);
  const [err, setErr] = useState<string[] | null>(null);
  const [f, setF] = useState({ patient: '', clinician: localStorage.getItem('modality.clinician') ?? '', site: '', side: '', notes: '' });
  const [answers, setAnswers] = useState<Record<string, boolean>>({});
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const fail = (e: unknown) => setErr(e instanceof ApiError ? [e.message, ...e.detail] : [String(e)]);
    if (protocolKey === UPLOAD_KEY) {
      const u = upload();
      if (u) void api<ProtocolDetail>('/api/protocols/check', { file: u }).then(setD, fail);
    } else void api<ProtocolDetail>(`/api/protocols/${encodeURIComponent(protocolKey)}`).then(setD, fail);
  }, [protocolKey]);
  if (err)
    return (
      <div class="start">
        <a class="button secondary" href="#/library">
          {M.app.back}
        </a>
        {err.map((l) => (
          <p class="error" key={l}>
            {l}
          </p>
        ))}
      </div>
    );
  if (!d) return null;
  const items = d.checklist;
  const unanswered = items.filter((i) => answers[i.id] === undefined).length;
  const blocked = items.some((i) => i.kind === 'contraindication' && answers[i.id] === true);
  const fieldsOk = f.patient.trim() && f.clinician.trim() && f.site.trim() && f.side;
  const running = state.snapshot?.session?.status === 'running';
  const missing = [!fieldsOk ? M.start.missingFields : '', unanswered ? fmt(M.start.missingAnswers, { n: unanswered }) : ''].filter(Boolean).join('; ');
  const input = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const start = async () => {
    setBusy(true);
    localStorage.setItem('modality.clinician', f.clinician.trim());
    const u = protocolKey === UPLOAD_KEY ? upload() : null;
    try {
      await api('/api/session', {
        protocol: u ? { file: u } : { key: protocolKey },
        context: {
          patient: f.patient.trim(),
          clinician: f.clinician.trim(),
          site: f.site.trim(),
          side: f.side,
          ...(f.notes.trim() ? { notes: f.notes.trim() } : {}),
          contraindications: items.map((i) => ({ id: i.id, text: M.checklist[i.id] ?? i.id, present: answers[i.id] === true })),
        },
      });
      go('session');
    } catch (e) {
      setErr(e instanceof ApiError ? [e.message, ...e.detail] : [String(e)]);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="start"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <div class="row">
        <a class="button secondary" href={protocolKey === UPLOAD_KEY ? '#/library' : `#/protocol/${encodeURIComponent(protocolKey)}`}>
          {M.app.back}
        </a>
        <h1>{fmt(M.start.heading, { name: d.plan.protocol.name })}</h1>
      </div>
      <div class="fields">
        <label>
          {M.start.patient}
          <input name="patient" autocomplete="off" value={f.patient} onInput={input('patient')} />
        </label>
        <label>
          {M.start.clinician}
          <input name="clinician" autocomplete="off" value={f.clinician} onInput={input('clinician')} />
        </label>
        <label>
          {M.start.site}
          <input name="site" autocomplete="off" placeholder={M.start.sitePlaceholder} value={f.site} onInput={input('site')} />
        </label>
        <fieldset class="side">
          <legend>{M.start.side}</legend>
          {SIDES.map((s) => (
            <label key={s} class={`toggle${f.side === s ? ' on' : ''}`}>
              <input type="radio" name="side" value={s} checked={f.side === s} onChange={() => setF({ ...f, side: s })} />
              {M.start.sides[s]}
            </label>
          ))}
        </fieldset>
        <label class="notes">
          {M.start.notes}
          <textarea name="notes" rows={2} value={f.notes} onInput={input('notes')} />
        </label>
      </div>
      <h2>{M.start.checklist}</h2>
      <ul class="checklist">
        {items.map((i) => (
          <li key={i.id} class={answers[i.id] ? (i.kind === 'contraindication' ? 'present contra' : 'present') : ''}>
            <fieldset>
              <legend>
                <span class="kind">{i.kind === 'contraindication' ? M.start.contraindication : M.start.precaution}</span> {M.checklist[i.id] ?? i.id}
                <small class="source">{fmt(M.start.source, { source: i.source })}</small>
              </legend>
              <label class={`toggle${answers[i.id] === true ? ' on yes' : ''}`}>
                <input type="radio" name={i.id} checked={answers[i.id] === true} onChange={() => setAnswers({ ...answers, [i.id]: true })} />
                {M.start.yes}
              </label>
              <label class={`toggle${answers[i.id] === false ? ' on' : ''}`}>
                <input type="radio" name={i.id} checked={answers[i.id] === false} onChange={() => setAnswers({ ...answers, [i.id]: false })} />
                {M.start.no}
              </label>
              {answers[i.id] ? <span class="warn">{i.kind === 'contraindication' ? M.start.present : M.start.precautionPresent}</span> : null}
            </fieldset>
          </li>
        ))}
      </ul>
      <div class="row end">
        <span class="why">{blocked ? M.start.blocked : missing ? fmt(M.start.missing, { what: missing }) : ''}</span>
        <button type="submit" class="primary big" disabled={busy || blocked || !!missing || running}>
          {M.start.start}
        </button>
      </div>
    </form>
  );
}
