/**
 * How a clinician at the terminal acts on a running session (`modality run`):
 * the live panel's keys, and the signals that stop it.
 */
import type { SessionEvent } from '../machines/session.machine.js';
import { io } from './io.js';

type Send = (e: SessionEvent) => void;

/**
 * SIGINT, SIGTERM and SIGHUP (a dropped SSH session) stop the session the way
 * the clinician's Stop does: ramp down, outputs off, the record finished as
 * stopped with the signal as the reason. A second one (or a second Ctrl-C in
 * the live panel) is an emergency stop. A signal before the session has
 * started stops it as soon as it starts. Returns the interrupt function (the
 * panel's Ctrl-C uses it too) and a function that removes the handlers.
 */
export function interrupts(): { interrupt: (why: string) => void; attach: (send: Send) => void; detach: () => void } {
  let count = 0;
  let send: Send | null = null;
  let pending: SessionEvent | null = null;
  const deliver = (e: SessionEvent) => {
    if (send) send(e);
    else pending = e;
  };
  const interrupt = (why: string) => {
    count++;
    if (count === 1) {
      io().err(
        `modality: ${why}: stopping the session (ramping down, outputs off); a second ${why.startsWith('SIG') ? 'signal' : 'Ctrl-C'} is an emergency stop`,
      );
      deliver({ type: 'STOP', reason: why });
    } else {
      io().err(`modality: ${why} again: EMERGENCY STOP`);
      deliver({ type: 'EMERGENCY_STOP' });
    }
  };
  const onSignal = (sig: NodeJS.Signals) => interrupt(sig);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  return {
    interrupt,
    attach: (fn) => {
      send = fn;
      if (pending) {
        const e = pending;
        pending = null;
        fn(e);
      }
    },
    detach: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/** Keys for the live panel; returns a function that restores the terminal. */
export function attachKeys(send: (e: SessionEvent) => void, interrupt: (why: string) => void): () => void {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  let paused = false;
  const onData = (buf: Buffer) => {
    for (const ch of buf.toString('utf8')) {
      if (ch === 'p') {
        send({ type: paused ? 'RESUME' : 'PAUSE' });
        paused = !paused;
      } else if (ch === '+' || ch === '=') send({ type: 'ADJUST_INTENSITY', deltaMa: 1 });
      else if (ch === '-') send({ type: 'ADJUST_INTENSITY', deltaMa: -1 });
      else if (ch === 's' || ch === 'q') send({ type: 'STOP' });
      else if (ch === 'e' || ch === ' ') send({ type: 'EMERGENCY_STOP' });
      else if (ch === 'a') send({ type: 'ACK_FAULT' });
      else if (ch === '\r' || ch === '\n') send({ type: 'CONTINUE' });
      else if (ch === '\u0003') interrupt('Ctrl-C'); // stop, twice: emergency stop (as SIGINT/SIGTERM/SIGHUP)
    }
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    try {
      stdin.setRawMode(false);
    } catch {
      /* the terminal is gone (SIGHUP) */
    }
    stdin.pause();
  };
}
