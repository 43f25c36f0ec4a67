/** The session: a big countdown, each program's phase and progress, the board's readings, and the clinician's controls. */
import { useState } from 'preact/hooks';
import type { RunEvent } from '../../../engine/events.js';
import type { PlannedProgram } from '../../../protocol/index.js';
import { api, ApiError, type CartState } from '../state.js';
import { M, duration, fmt, localTime, num } from '../format.js';

const tensOutput = (channel: number) => (channel === 2 ? 'tens2' : 'tens1');

function act(body: object, onError: (m: string) => void): void {
  void api('/api/session/actions', body).catch((e: unknown) => onError(e instanceof ApiError ? e.message : String(e)));
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
  const us = tm?.outputs.ultrasound;
  const pad = tm?.outputs.pad;
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
  const activeTens = (step?.programs ?? []).filter((p): p is Extract<PlannedProgram, { modality: 'tens' }> => p.modality === 'tens');
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
              const label = `${M.modality[p.modality]}${p.modality === 'tens' ? ` ${p.channel}` : ''}`;
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
            {activeTens.map((p) => (
              <div class="reading tens" key={p.programIndex}>
                <dt>
                  {M.session.amplitude}
                  {activeTens.length > 1 ? ` ${p.channel}` : ''}
                </dt>
                <dd>
                  <button
                    type="button"
                    class="round"
                    aria-label={`${M.session.decrease}${activeTens.length > 1 ? ` ${p.channel}` : ''}`}
                    disabled={!running}
                    onClick={() => act({ action: 'adjust', deltaMa: -1, channel: p.channel }, onErr)}
                  >
                    −
                  </button>
                  <output class="amp" data-channel={p.channel}>
                    {num(tm?.outputs[tensOutput(p.channel)]?.value ?? 0)} mA
                  </output>
                  <button
                    type="button"
                    class="round"
                    aria-label={`${M.session.increase}${activeTens.length > 1 ? ` ${p.channel}` : ''}`}
                    disabled={!running}
                    onClick={() => act({ action: 'adjust', deltaMa: 1, channel: p.channel }, onErr)}
                  >
                    +
                  </button>
                </dd>
                <dt>{M.session.contact}</dt>
                <dd class={tm?.outputs[tensOutput(p.channel)]?.electrodeOhm === null ? 'bad' : 'good'}>
                  {tm?.outputs[tensOutput(p.channel)] ? (tm.outputs[tensOutput(p.channel)]?.electrodeOhm === null ? M.session.open : M.session.good) : '—'}
                </dd>
              </div>
            ))}
            {programs.some((p) => p.modality === 'ultrasound') ? (
              <div class="reading">
                <dt>{M.session.intensity}</dt>
                <dd>{us ? `${num(us.value, 2)} W/cm²` : '—'}</dd>
                <dt>{M.session.coupling}</dt>
                <dd class={us && !us.coupled ? 'bad' : 'good'}>{us ? (us.coupled ? M.session.coupled : M.session.uncoupled) : '—'}</dd>
              </div>
            ) : null}
            {programs.some((p) => p.modality === 'thermal') ? (
              <div class="reading">
                <dt>{M.session.pad}</dt>
                <dd>{pad ? `${num(pad.tempC)} °C · ${pad.value !== null ? fmt(M.session.target, { target: pad.value }) : M.session.noTarget}` : '—'}</dd>
              </div>
            ) : null}
          </dl>
        </div>
      </div>
    </div>
  );
}
