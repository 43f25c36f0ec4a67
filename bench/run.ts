/**
 * `npm run bench`: prints the figures the issues ask for, measured in this run.
 * Medians over repeated runs where it is cheap; these machines are noisy.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveProtocol } from '../src/protocol/index.js';
import { simulateSession } from '../sim/harness.js';
import { median } from './stats.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BIN = here('../bin/modality.js');
const PROTOCOL = here('./protocols/session-30min.yaml');
const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

function line(label: string, value: string): void {
  console.log(`  ${label.padEnd(52)} ${value}`);
}

async function engine(): Promise<void> {
  const r = resolveProtocol(PROTOCOL);
  if (!r.ok) throw new Error('bench protocol invalid');
  const plan = r.plan;
  console.log(`\n# Session engine: ${plan.protocol.name} (${plan.totalMs / 60000} min planned), --speed max`);
  await simulateSession({ plan }); // warm-up (JIT)
  const walls: number[] = [];
  const events: number[] = [];
  let bytesPerMin = 0;
  let sessionMs = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const res = await simulateSession({ plan, seed: i + 1 });
    walls.push(performance.now() - t0);
    events.push(res.clock.eventsRun);
    sessionMs = res.summary.elapsedMs;
    bytesPerMin = res.wireBytes / (res.summary.elapsedMs / 60000);
    if (res.summary.outcome !== 'completed') throw new Error(`bench session ${res.summary.outcome}`);
  }
  const wall = median(walls);
  line('in-process wall time (median of 5)', `${wall.toFixed(1)} ms`);
  line('in-process speed-up over real time (aim ≥ 5,000×)', `${Math.round(sessionMs / wall).toLocaleString('en')}×`);
  line('clock events per session', `${median(events).toLocaleString('en')}`);
  line('bytes on the wire per session minute (both ways)', `${Math.round(bytesPerMin).toLocaleString('en')} B`);
  line('peak RSS of this process so far', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

  const procWalls: number[] = [];
  let childRss = NaN;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const c = spawnSync(process.execPath, [here('./child-rss.mjs'), BIN, 'run', PROTOCOL, '--speed', 'max', '--json'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    procWalls.push(performance.now() - t0);
    if (c.status !== 0) throw new Error(`modality run exited ${c.status}: ${c.stderr}`);
    childRss = Number(/maxRSS=(\d+)/.exec(c.stderr)?.[1] ?? NaN) / 1024;
  }
  const pw = median(procWalls);
  line('whole `modality run` process, wall (median of 3)', `${pw.toFixed(0)} ms`);
  line('whole-process speed-up (aim ≥ 1,000×)', `${Math.round(sessionMs / pw).toLocaleString('en')}×`);
  line('peak RSS of the `modality run` process', `${childRss.toFixed(0)} MiB`);
}

async function timing(): Promise<void> {
  console.log('\n# Set-point timing error, board clock vs host clock (real time, pty, idle host)');
  const { benchSerialSetPoints } = await import('./serial.js');
  const s = await benchSerialSetPoints();
  line('serial driver + simulated board: due → applied, p50 / p99', `${s.p50Us.toFixed(0)} / ${s.p99Us.toFixed(0)} µs (${s.samples} set-points)`);
  const { benchFirmata } = await import('./firmata.js');
  const f = await benchFirmata();
  line('firmata driver (host-timed): due → PWM write, p50 / p99', `${f.p50Us.toFixed(0)} / ${f.p99Us.toFixed(0)} µs (${f.samples} set-points)`);
}

async function firmware(): Promise<void> {
  const fw = await import('../sim/firmware-runner.js');
  if (!fw.toolchainAvailable()) {
    console.log('\n# Firmware in simavr: skipped (no AVR toolchain; apt-get install gcc-avr avr-libc simavr libsimavr-dev libsimavrparts1 libelf-dev)');
    return;
  }
  const size = spawnSync('make', ['-s', '-C', here('../firmware-host'), 'size'], { encoding: 'utf8' });
  const stack = /worst-case stack (\d+) B of (\d+) B free RAM/.exec(size.stdout);
  console.log('\n# Firmware build (make size)');
  line('worst-case stack (-fstack-usage, nested interrupts)', stack ? `${stack[1]} B of ${stack[2]} B free RAM` : `unknown: ${size.stderr.trim()}`);
  const flash = /flash (\d+) \/ 32768 bytes; RAM (\d+) \/ 2048/.exec(size.stdout);
  if (flash) line('flash / static RAM', `${flash[1]} / 32768 B, ${flash[2]} / 2048 B`);
  console.log('\n# Firmware in simavr, paced to real time');
  const { benchFirmware } = await import('./firmware.js');
  const figures = await benchFirmware();
  for (const [k, v] of Object.entries(figures)) line(k, typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: 1 }) : String(v));
}

async function cart(): Promise<void> {
  const { haveChromium, CHROMIUM } = await import('../tests/cart/helpers.js');
  if (!haveChromium) {
    console.log(`\n# Cart front end: skipped (no ${CHROMIUM}; apt-get install chromium)`);
    return;
  }
  console.log('\n# Cart front end in Chromium: modality cart --board sim --speed 10, tens-conventional, 30 s');
  const { benchCart } = await import('./cart.js');
  const f = await benchCart();
  line('telemetry → on-screen update, p50 / p99 (aim p99 ≤ 100 ms)', `${f.latencyP50Ms.toFixed(0)} / ${f.latencyP99Ms.toFixed(0)} ms (${f.samples} updates)`);
  line('server RSS during the session, median / max', `${f.rssMedianMiB.toFixed(0)} / ${f.rssMaxMiB.toFixed(0)} MiB`);
  line('page load: navigation → library shown (median of 5)', `${f.loadMedianMs.toFixed(0)} ms`);
  line('reload mid-session → countdown shown (median of 5)', `${f.reconnectMedianMs.toFixed(0)} ms`);
}

async function startup(): Promise<void> {
  const { buildDist } = await import('../scripts/build.js');
  const built = await buildDist();
  console.log(`\n# Start-up: dist/ (npm run build: ${built.files} modules) against tsx from source, median of 11 after one warm-up`);
  const SHORT = here('../examples/tens-10s.yaml');
  const time = (args: string[], env: NodeJS.ProcessEnv = {}): number => {
    const walls: number[] = [];
    for (let i = 0; i < 12; i++) {
      const t0 = performance.now();
      const c = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });
      const wall = performance.now() - t0;
      if (c.status !== 0) throw new Error(`${args.join(' ')} exited ${c.status}: ${c.stderr}`);
      if (i > 0) walls.push(wall);
    }
    return median(walls);
  };
  const bare = time(['-e', '0']);
  const fromSource = { MODALITY_FROM_SOURCE: '1' };
  const helpDist = time([BIN, '--help']);
  const helpEntry = time([here('../dist/cli/main.js'), '--help']);
  const helpSrc = time([BIN, '--help'], fromSource);
  const runDist = time([BIN, 'run', SHORT, '--speed', 'max', '--json']);
  const runSrc = time([BIN, 'run', SHORT, '--speed', 'max', '--json'], fromSource);
  line('bare `node -e 0`', `${bare.toFixed(0)} ms`);
  line(
    '`modality --help`: dist / tsx, from a checkout (aim: dist under 200 ms)',
    `${helpDist.toFixed(0)} / ${helpSrc.toFixed(0)} ms (${(helpSrc / helpDist).toFixed(1)}×)`,
  );
  line('`modality --help` as installed (dist/cli/main.js, no sources to compare)', `${helpEntry.toFixed(0)} ms`);
  line('`modality run tens-10s --speed max`: dist / tsx', `${runDist.toFixed(0)} / ${runSrc.toFixed(0)} ms (${(runSrc / runDist).toFixed(1)}×)`);
}

async function lease(): Promise<void> {
  const { benchLease, LEASE_SETTINGS } = await import('./lease.js');
  console.log(`\n# The lease on a loaded host: 20 × tens-10s over a pty (modality sim --pty), two busy loops running; ${LEASE_SETTINGS}`);
  const f = await benchLease(20, 2, (i, s) =>
    process.stderr.write(
      `  session ${String(i).padStart(2)}: ${s.outcome}${s.faults.length ? ` (${s.faults.map((x) => x.code).join(', ')})` : ''}, host stall ${s.link.hostStallMaxMs ?? '?'} ms, ${s.link.keepaliveRepeats ?? 0} repeats\n`,
    ),
  );
  line('sessions completed', `${f.completed} of ${f.sessions}`);
  line('sessions cut by the board with HOST_TIMEOUT (aim: 0)', `${f.hostTimeouts}`);
  if (f.otherFaults.length) line('other faults', f.otherFaults.join(', '));
  line("host's worst event-loop stall: worst / median session", `${f.worstStallMs} / ${f.medianStallMs} ms`);
  line('frames the lease keeper repeated (sessions that needed it)', `${f.keepaliveRepeats} (${f.sessionsWithRepeats} of ${f.sessions})`);
}

if (want('startup')) await startup();
if (want('engine')) await engine();
if (want('timing')) await timing();
if (want('firmware')) await firmware();
if (want('cart')) await cart();
if (want('lease')) await lease();
console.log('\n(run one group with: npm run bench -- startup | engine | timing | firmware | cart | lease)');
