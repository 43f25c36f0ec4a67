/** The session: a big countdown, each program's phase and progress, the board's readings, and the clinician's controls. */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { OutputTelemetry } from '../../../drivers/board.js';
import type { RunEvent } from '../../../engine/events.js';
import { modalityOf } from '../../../modalities/index.js';
import type { LiveRow } from '../../../modalities/types.js';
import type { PlannedProgram } from '../../../protocol/index.js';
import { CART_TEXT } from '../plan-text.js';
import { api, ApiError, type CartState } from '../state.js';
import { M, duration, fmt, localTime } from '../format.js';

function act(body: object, onError: (m: string) => void): void {
  void api('/api/session/actions', body).catch((e: unknown) => onError(e instanceof ApiError ? e.message : String(e)));
}

/**
 * The live tiles: each program's descriptor (`cart.tile`) says what its tile
 * shows. Programs of the present step have one if their modality's tiles are
 * per step (TENS); otherwise every program of the session has one, one per
 * output (the ultrasound head, the pad).
 */
function liveTiles(all: readonly PlannedProgram[], inStep: readonly PlannedProgram[], outputs: OutputTelemetry | undefined) {
  const chosen: PlannedProgram[] = [];
  const outputsSeen = new Set<string>();
  for (const p of all) {
    const m = modalityOf(p);
    if (m.cart.tilesFor === 'step' ? !inStep.includes(p) : outputsSeen.has(m.output(p))) continue;
    outputsSeen.add(m.output(p));
    chosen.push(p);
  }
  return chosen.map((p) => {
    const many = chosen.filter((q) => q.modality === p.modality).length > 1;
    return { p, tile: modalityOf(p).cart.tile(p, outputs, CART_TEXT, many) };
  });
}

/** A reading the clinician adjusts (the TENS amplitude): − and + around it. */
function Adjust({ adjust, value, running, onErr }: { adjust: NonNullable<LiveRow['adjust']>; value: string; running: boolean; onErr: (m: string) => void }) {
  return (
    <>
      <button
        type="button"
        class="round"
        aria-label={adjust.decrease}
        disabled={!running}
        onClick={() => act({ action: 'adjust', deltaMa: -1, channel: adjust.channel }, onErr)}
      >
        −
      </button>
      <output class="amp" data-channel={adjust.channel}>
        {value}
      </output>
      <button
        type="button"
        class="round"
        aria-label={adjust.increase}
        disabled={!running}
        onClick={() => act({ action: 'adjust', deltaMa: 1, channel: adjust.channel }, onErr)}
      >
        +
      </button>
    </>
  );
}

function Bar({ done, planned, label }: { done: number; planned: number; label: string }) {
  const pct = planned > 0 ? Math.min(100, (done / planned) * 100) : 0;
  return (
    <div class="bar-outer" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
      <div class="bar-inner" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function SessionScreen({ state }: { state: CartState }) {
  const [error, setError] = useState<string | null>(null);
  const snap = state.snapshot;
  const s = snap?.session;
  if (!snap || !s) {
    return (
      <div class="session idle">
        <p>{M.session.none}</p>
        <a class="button primary big" href="#/library">
          {M.session.chooseProtocol}
        </a>
      </div>
    );
  }
  const plan = s.plan;
  const tm = s.telemetry;
  const prog = s.progress;
  const running = s.status === 'running';
  const programs = plan.steps.flatMap((st) => st.programs);
  const stepIndex = prog?.step ?? 0;
  const step = plan.steps[stepIndex];
  const lastPrompt = [...s.events].reverse().find((e): e is Extract<RunEvent, { type: 'phase' }> => e.type === 'phase' && e.modality === 'prompt');
  const prompt = running && step?.prompt && lastPrompt && lastPrompt['step'] === stepIndex ? step.prompt.text : null;
  const remaining = prog?.remainingMs ?? plan.totalMs;
  const speed = snap.speed ?? 1;
  const endsAt = Date.now() + remaining / speed;
  const ctx = s.context;
  const tiles = liveTiles(programs, step?.programs ?? [], tm?.outputs);
  const phaseOf = (i: number) => prog?.programs.find((p) => p.program === i);
  const onErr = (m: string) => setError(m);
  const summary = s.summary;
  return (
    <div class={`session${s.paused ? ' paused' : ''}`}>
      <div class="who">
        <strong>{plan.protocol.name}</strong>
        <span>{fmt(M.session.patient, { patient: ctx.patient ?? '—', site: `${ctx.site ?? ''}${ctx.side ? ` (${M.start.sides[ctx.side]})` : ''}` })}</span>
      </div>
      {error ? (
        <p class="error" role="status">
          {fmt(M.app.error, { message: error })}
        </p>
      ) : null}
      <div class="cols">
        <div class="clock">
          {running ? (
            <>
              <div class="countdown" role="timer" aria-label={M.session.remaining} data-ms={remaining}>
                {duration(remaining)}
              </div>
              <div class="sub">{s.paused ? <strong class="paused-tag">{M.session.paused}</strong> : M.session.remaining}</div>
              <div class="times">
                <span>{fmt(M.session.endsAt, { time: localTime(endsAt) })}</span>
                <span>{fmt(M.session.startedAt, { time: localTime(Date.parse(s.startedAt)) })}</span>
                <span>{fmt(M.session.step, { n: stepIndex + 1, of: plan.steps.length })}</span>
              </div>
              {prompt ? (
                <div class="prompt">
                  <span>
                    {M.session.prompt}: {prompt}
                  </span>
                  <button type="button" class="primary" onClick={() => act({ action: 'continue' }, onErr)}>
                    {M.session.continue}
                  </button>
                </div>
              ) : null}
              <div class="controls">
                {s.paused ? (
                  <button type="button" class="primary big" onClick={() => act({ action: 'resume' }, onErr)}>
                    {M.session.resume}
                  </button>
                ) : (
                  <button type="button" class="secondary big" onClick={() => act({ action: 'pause' }, onErr)}>
                    {M.session.pause}
                  </button>
                )}
                <button type="button" class="stop big" onClick={() => act({ action: 'stop' }, onErr)}>
                  {M.session.stop}
                </button>
              </div>
            </>
          ) : (
            <div class="ended" role="status">
              <div class="outcome">{fmt(M.session.ended, { outcome: M.session.outcomes[summary?.outcome ?? 'running'] ?? '' })}</div>
              {summary ? (
                <p>{fmt(M.session.endedDetail, { elapsed: duration(summary.elapsedMs), planned: duration(summary.plannedMs), id: s.recordId ?? '—' })}</p>
              ) : null}
              <div class="controls">
                {s.recordId !== null ? (
                  <a class="button secondary big" href={`#/history/${s.recordId}`}>
                    {M.session.openReport}
                  </a>
                ) : null}
                <a class="button primary big" href="#/library">
                  {M.session.newSession}
                </a>
              </div>
            </div>
          )}
        </div>
        <div class="status">
          <ul class="programs">
            {programs.map((p) => {
              const pp = phaseOf(p.programIndex);
              const label = modalityOf(p).cart.label(p, CART_TEXT);
              return (
                <li key={p.programIndex} class={pp && pp.phase !== 'waiting' && pp.phase !== 'done' ? 'active' : ''}>
                  <span class="pname">{label}</span>
                  <span class="phase">{M.session.phases[pp?.phase ?? 'waiting'] ?? pp?.phase}</span>
                  <span class="of">{fmt(M.session.of, { done: duration(pp?.doneMs ?? 0), planned: duration(pp?.plannedMs ?? 0) })}</span>
                  <Bar done={pp?.doneMs ?? 0} planned={pp?.plannedMs ?? 1} label={label} />
                </li>
              );
            })}
          </ul>
          <dl class="readings">
            {tiles.map(({ p, tile }) => (
              <div class={`reading ${tile.kind}`} key={p.programIndex}>
                {tile.rows.map((r) => (
                  <Fragment key={r.label}>
                    <dt>{r.label}</dt>
                    <dd class={r.state}>{r.adjust ? <Adjust adjust={r.adjust} value={r.value} running={running} onErr={onErr} /> : r.value}</dd>
                  </Fragment>
                ))}
              </div>
            ))}
          </dl>
        </div>
      </div>
    </div>
  );
}
