/** The cart's front end: a bar with the screens and the Emergency stop on every screen, the fault banner, and the current screen. */
import { useEffect, useState } from 'preact/hooks';
import { api, cart, type CartState } from './state.js';
import { M, fmt } from './format.js';
import { FaultBanner } from './faults.js';
import { LibraryScreen } from './screens/library.js';
import { DetailScreen } from './screens/detail.js';
import { StartScreen } from './screens/start.js';
import { SessionScreen } from './screens/session.js';
import { HistoryScreen } from './screens/history.js';
import { go } from './nav.js';

export function useCart(): CartState {
  const [s, set] = useState(cart.state);
  useEffect(() => cart.subscribe(set), []);
  return s;
}

function useRoute(): string[] {
  const [hash, set] = useState(location.hash);
  useEffect(() => {
    const on = () => set(location.hash);
    addEventListener('hashchange', on);
    on(); // a change between the first render and this effect (Preact runs effects after paint) is not lost
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

export { go } from './nav.js';

export function App() {
  const s = useCart();
  const route = useRoute();
  const running = s.snapshot?.session?.status === 'running';
  // A running session always shows itself first (after a reload too); the clinician can still look at other screens.
  const [screen, ...args] = route.length ? route : [running ? 'session' : 'library'];
  useEffect(() => {
    if (running && route.length === 0) go('session');
  }, [running]);
  const estop = () => {
    void api('/api/session/actions', { action: 'emergency-stop' }).catch(() => undefined);
  };
  const sim = s.snapshot && s.snapshot.board.info.kind === 'simulated';
  return (
    <div class="shell">
      <header class="bar">
        <nav aria-label="Screens">
          <a href="#/library" class={screen === 'library' || screen === 'protocol' || screen === 'start' ? 'on' : ''}>
            {M.app.library}
          </a>
          <a href="#/session" class={screen === 'session' ? 'on' : ''}>
            {M.app.session}
            {running ? ' ●' : ''}
          </a>
          <a href="#/history" class={screen === 'history' ? 'on' : ''}>
            {M.app.history}
          </a>
        </nav>
        {sim ? (
          <span class="sim">
            {fmt(M.app.simulated, { speed: s.snapshot?.speed && s.snapshot.speed !== 1 ? fmt(M.app.speed, { speed: s.snapshot.speed }) : '' })}
          </span>
        ) : null}
        <button type="button" class="estop" onClick={estop}>
          {M.app.emergencyStop}
        </button>
      </header>
      {!s.connected ? (
        <div class="conn" role="status">
          {s.everConnected ? M.app.reconnecting : M.app.connecting}
        </div>
      ) : null}
      <FaultBanner state={s} />
      <main>
        {screen === 'protocol' && args[0] ? (
          <DetailScreen protocolKey={args[0]} />
        ) : screen === 'start' && args[0] ? (
          <StartScreen protocolKey={args[0]} state={s} />
        ) : screen === 'session' ? (
          <SessionScreen state={s} />
        ) : screen === 'history' ? (
          <HistoryScreen open={args[0]} />
        ) : (
          <LibraryScreen />
        )}
      </main>
    </div>
  );
}
