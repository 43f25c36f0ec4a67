/**
 * The lease on a loaded host (issue 12): 20 sessions of a 10-second protocol,
 * one after another, each a real `modality run --board serial:<pty>` process
 * against one `modality sim --pty`, while two busy-loop processes load this
 * 2-core machine. Prints how many sessions the board cut with HOST_TIMEOUT
 * (aim: 0), the host's worst event-loop stall, and what the lease keeper did.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_TIMING } from '../src/drivers/wire/spec.js';
import { startSimPty } from '../tests/records/helpers.js';
import { median } from './stats.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BIN = here('../bin/modality.js');
const PROTOCOL = here('../examples/tens-10s.yaml');

export interface LeaseBench {
  sessions: number;
  completed: number;
  hostTimeouts: number;
  otherFaults: string[];
  worstStallMs: number;
  medianStallMs: number;
  keepaliveRepeats: number;
  sessionsWithRepeats: number;
}

interface SummaryLine {
  outcome: string;
  faults: { code: string }[];
  link: { hostStallMaxMs?: number; keepaliveRepeats?: number };
}

export async function benchLease(sessions = 20, busyLoops = 2, onProgress?: (i: number, s: SummaryLine) => void): Promise<LeaseBench> {
  const data = mkdtempSync(join(tmpdir(), 'modality-bench-lease-'));
  const children: ChildProcess[] = [];
  try {
    const sim = await startSimPty();
    children.push(sim.proc);
    const path = sim.path;
    for (let i = 0; i < busyLoops; i++) children.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    const results: SummaryLine[] = [];
    for (let i = 0; i < sessions; i++) {
      // --clear-faults: a session the board cut (HOST_TIMEOUT) must not fail the next one's pre-check too.
      const r = spawnSync(process.execPath, [BIN, 'run', PROTOCOL, '--board', `serial:${path}`, '--json', '--clear-faults', '--data', data], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      const last = r.stdout.trim().split('\n').at(-1) ?? '';
      let s: SummaryLine;
      try {
        s = JSON.parse(last) as SummaryLine;
      } catch {
        throw new Error(`session ${i + 1}: no summary (exit ${r.status}): ${r.stderr.trim()}`);
      }
      results.push(s);
      onProgress?.(i + 1, s);
    }
    const stalls = results.map((s) => s.link.hostStallMaxMs ?? NaN).filter((n) => Number.isFinite(n));
    const codes = results.flatMap((s) => s.faults.map((f) => f.code));
    return {
      sessions,
      completed: results.filter((s) => s.outcome === 'completed').length,
      hostTimeouts: results.filter((s) => s.faults.some((f) => f.code === 'HOST_TIMEOUT')).length,
      otherFaults: [...new Set(codes.filter((c) => c !== 'HOST_TIMEOUT'))],
      worstStallMs: Math.max(...stalls),
      medianStallMs: median(stalls),
      keepaliveRepeats: results.reduce((n, s) => n + (s.link.keepaliveRepeats ?? 0), 0),
      sessionsWithRepeats: results.filter((s) => (s.link.keepaliveRepeats ?? 0) > 0).length,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

export const LEASE_SETTINGS = `lease ${HOST_TIMING.leaseMs} ms, heartbeat ${HOST_TIMING.heartbeatMs} ms, keeper after ${HOST_TIMING.keepaliveQuietMs} ms of host silence, covering up to ${HOST_TIMING.keepaliveCoverMs} ms`;
