/**
 * One board, one record: a patient's stop press mid-plateau on the AVR firmware (simavr,
 * real time, the CLI over a pty) is on record with the same time at amplitude as the same
 * press on the simulated board (the same core in WebAssembly), within 2 ms. The record
 * comes from the board's events: the cut (APPLIED_OFF with STOP_INPUT, one per driven
 * output) must reach the delivered-value accounting on both.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveProtocol } from '../../src/protocol/index.js';
import type { RunEvent, Summary } from '../../src/engine/events.js';
import { simulateSession } from '../../sim/harness.js';
import { buildFirmware, startFirmwareBoard, toolchainAvailable } from '../../sim/firmware-runner.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const available = toolchainAvailable();
const ci = process.env.CI === 'true';
const PRESS_AFTER_MS = 2750; // into the 6 s plateau of examples/tens-10s.yaml

type Tens = Extract<Summary['delivered'][number], { modality: 'tens' }>;

describe.runIf(available || ci)('stop button mid-plateau: the firmware and the simulated board record the same', () => {
  beforeAll(async () => {
    await buildFirmware();
  }, 180_000);

  // No retry: simavr runs slower than real time on a loaded machine, and the host's machines run
  // on the board's own time (BoardTimeClock), so that is no failure; the press waits on that clock too.
  it("time at amplitude on the firmware equals the simulated board's within 2 ms", { timeout: 120_000 }, async () => {
    // --- the firmware, in real time
    const board = await startFirmwareBoard();
    const events: RunEvent[] = [];
    let code: number | null = null;
    try {
      const child = spawn(process.execPath, [join(ROOT, 'bin/modality.js'), 'run', 'examples/tens-10s.yaml', '--board', `serial:${board.path}`, '--json'], {
        cwd: ROOT,
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
      let pressed: Promise<void> | null = null;
      for await (const line of createInterface({ input: child.stdout })) {
        const e = JSON.parse(line) as RunEvent;
        events.push(e);
        // the plateau starts when the board reports the ramp's end (APPLIED_SET 10 mA on ch1)
        if (!pressed && e.type === 'applied' && e.output === 'tens1' && e.action === 'set' && e.value === 10) {
          const due = e.boardMs + PRESS_AFTER_MS;
          pressed = (async () => {
            // wait on the board's own clock, then press (and let go: the fault stays latched)
            for (;;) {
              const now = Number(/^ms (\d+)/.exec(await board.control('ms?'))?.[1]);
              // the runner's clock counts from reset; the firmware's boardMs is the same counter
              if (now >= due - 3) break;
              await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, due - now - 3))));
            }
            await board.control('stop 1');
            await new Promise((r) => setTimeout(r, 200));
            await board.control('stop 0');
          })();
        }
      }
      code = await closed;
      await pressed;
      const faults = JSON.stringify((events.at(-1) as Summary | undefined)?.faults);
      expect(code, `exit code (3 = stopped); faults ${faults}; stderr:\n${stderr}`).toBe(3);
    } finally {
      await board.stop();
    }
    const summary = events.at(-1) as Summary;
    const plateauStart = events.find(
      (e): e is Extract<RunEvent, { type: 'applied' }> => e.type === 'applied' && e.output === 'tens1' && e.action === 'set' && e.value === 10,
    )!;
    const cut = events.find(
      (e): e is Extract<RunEvent, { type: 'applied' }> => e.type === 'applied' && e.output === 'tens1' && e.action === 'off' && e.cause === 'STOP_INPUT',
    );
    expect(cut, 'the cut (APPLIED_OFF STOP_INPUT on tens1) is in the event stream').toBeDefined();
    const pressAfterMs = cut!.boardMs - plateauStart.boardMs;
    const fw = summary.delivered.find((d): d is Tens => d.modality === 'tens')!;
    expect(Math.abs(fw.plateauMs - pressAfterMs), `firmware plateauMs ${fw.plateauMs} vs the cut ${pressAfterMs} ms into the plateau`).toBeLessThanOrEqual(1);

    // --- the simulated board, the same press at the same board time into the plateau
    const r = resolveProtocol(join(ROOT, 'examples/tens-10s.yaml'));
    if (!r.ok) throw new Error('examples/tens-10s.yaml');
    const { summary: simSummary } = await simulateSession({
      plan: r.plan,
      onStart: ({ run, clock, sim }) => {
        run.recorder.onEvent((e) => {
          if (e.type === 'applied' && e.output === 'tens1' && e.action === 'set' && e.value === 10) {
            clock.setTimeout(() => sim.setStopInput(true), pressAfterMs);
          }
        });
      },
    });
    expect(simSummary.outcome).toBe('stopped');
    const sim = simSummary.delivered.find((d): d is Tens => d.modality === 'tens')!;
    expect(Math.abs(sim.plateauMs - fw.plateauMs), `simulated ${sim.plateauMs} ms vs firmware ${fw.plateauMs} ms at amplitude`).toBeLessThanOrEqual(2);
    expect(Math.abs(sim.stimulationMs - fw.stimulationMs)).toBeLessThanOrEqual(2);
  });
});
