/**
 * The page's picture of the cart: the snapshot the server sends on connect,
 * then every event. Reconnects on its own; a reconnecting page gets a fresh
 * snapshot, so it shows the true state at once. One store, read by every screen.
 */
import type { RunEvent } from '../../engine/events.js';
import type { Progress } from '../progress.js';
import type { CartMessage, CartSnapshot } from '../sessions.js';

export interface CartState {
  connected: boolean;
  everConnected: boolean;
  snapshot: CartSnapshot | null;
  /** Page clock minus server clock (ms), to turn the server's wall times into this page's. */
  skewMs: number;
  /** performance.now() when the latest event arrived (benchmarks, tests). */
  lastEventAt: number;
}

type Listener = (s: CartState) => void;

export class CartStore {
  state: CartState = { connected: false, everConnected: false, snapshot: null, skewMs: 0, lastEventAt: 0 };
  private listeners = new Set<Listener>();
  private retryMs = 100;

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private set(patch: Partial<CartState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }

  connect(): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`);
    ws.onopen = () => {
      this.retryMs = 100;
    };
    ws.onmessage = (m) => this.apply(JSON.parse(String(m.data)) as CartMessage);
    ws.onclose = () => {
      this.set({ connected: false });
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(1000, this.retryMs * 2);
    };
  }

  private apply(m: CartMessage): void {
    const snap = this.state.snapshot;
    const now = performance.now();
    if (m.type === 'snapshot') {
      this.set({ snapshot: m, connected: true, everConnected: true, skewMs: Date.now() - m.serverNow, lastEventAt: now });
      return;
    }
    if (!snap) return;
    if (m.type === 'board') {
      this.set({ snapshot: { ...snap, board: { ...snap.board, telemetry: m.telemetry, latched: m.latched } }, lastEventAt: now });
      return;
    }
    const s = snap.session;
    if (!s) return;
    let session = s;
    if (m.type === 'progress') session = { ...s, progress: m as Progress };
    else if (m.type === 'telemetry') session = { ...s, telemetry: m };
    else if (m.type === 'summary') session = { ...s, summary: m };
    else {
      const e = m as RunEvent;
      session = { ...s, events: [...s.events, e] };
      if (e.type === 'action' && (e.kind === 'pause' || e.kind === 'resume')) session.paused = e.kind === 'pause';
    }
    const board = m.type === 'telemetry' ? { ...snap.board, latched: m.faults } : snap.board;
    this.set({ snapshot: { ...snap, board, session }, lastEventAt: now });
  }
}

export const cart = new CartStore();

export async function api<T>(path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  const data = text ? JSON.parse(text) : {};
  if (!r.ok) throw new ApiError((data as { error?: string }).error ?? `HTTP ${r.status}`, (data as { detail?: string[] }).detail ?? []);
  return data as T;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly detail: string[],
  ) {
    super(message);
  }
}
