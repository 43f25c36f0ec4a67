/** Faults in plain words: what happened, what the board did, what to do; with Acknowledge. */
import { useState } from 'preact/hooks';
import type { RunEvent } from '../../engine/events.js';
import { api, ApiError, type CartState } from './state.js';
import { M, fmt } from './format.js';

type Fault = Extract<RunEvent, { type: 'fault' }>;
interface Item {
  code: string;
  output?: string | undefined;
  message?: string | undefined;
  gone: boolean;
}

export function faultWords(code: string, output?: string, message?: string) {
  const w = M.faults.codes[code] ?? { ...M.faults.unknown, what: fmt(M.faults.unknown.what, { code }) };
  const p = { output: M.faults.outputs[output ?? 'all'] ?? output ?? '', message: message ?? '', code };
  return { what: fmt(w.what, p), board: fmt(w.board, p), todo: fmt(w.todo, p) };
}

export function openFaults(s: CartState): Item[] {
  const snap = s.snapshot;
  if (!snap) return [];
  const items = new Map<string, Item>();
  const session = snap.session;
  if (session) {
    const faults = session.events.filter((e): e is Fault => e.type === 'fault').slice(session.ackedFaults);
    for (const f of faults) items.set(`${f.code}:${f.output ?? ''}`, { code: f.code, output: f.output, message: f.message, gone: false });
    // A fault whose cause went away (contact back, head recoupled) stays until acknowledged, marked as gone.
    const lastFault = session.events.lastIndexOf(faults.at(-1) as RunEvent);
    for (const e of session.events.slice(Math.max(0, lastFault))) {
      if (e.type !== 'faultCleared') continue;
      for (const it of items.values()) if (it.output === e.output || e.output === 'all') it.gone = true;
    }
  }
  if (session?.status !== 'running') {
    for (const code of snap.board.latched) if (![...items.values()].some((i) => i.code === code)) items.set(code, { code, gone: false });
  }
  return [...items.values()];
}

export function FaultBanner({ state }: { state: CartState }) {
  const items = openFaults(state);
  const [error, setError] = useState<string | null>(null);
  if (!items.length) return null;
  const ack = () =>
    api('/api/session/actions', { action: 'acknowledge' }).then(
      () => setError(null),
      (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)),
    );
  return (
    <section class="banner" role="alert" aria-label={M.faults.heading}>
      <div class="banner-items">
        {items.map((i) => {
          const w = faultWords(i.code, i.output, i.message);
          return (
            <div class="fault" key={`${i.code}:${i.output}`}>
              <strong>{w.what}</strong> <span>{w.board}</span> <span class="todo">{i.gone ? M.faults.causeGone : w.todo}</span>
            </div>
          );
        })}
        {error ? <div class="fault">{fmt(M.app.error, { message: error })}</div> : null}
      </div>
      <button type="button" class="ack" onClick={ack}>
        {M.faults.acknowledge}
      </button>
    </section>
  );
}
