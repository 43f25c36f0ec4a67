/**
 * `modality doctor`: what a technician needs to know about a cart, one finding per line
 * with OK / WARN / FAIL and what to do. Each check is a function returning findings; none
 * changes anything (the database is opened read-only, the board is only asked HELLO and
 * shown no command).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { clockFor, openBoard, type OpenedBoard } from '../drivers/registry.js';
import { listSerialPorts, SerialPortError } from '../drivers/serial-transport.js';
import { CORE_VERSION, PROTOCOL_VERSION } from '../drivers/wire/spec.js';
import { DB_FILE } from '../records/store.js';

export type Level = 'OK' | 'WARN' | 'FAIL';
export interface Finding {
  check: string;
  level: Level;
  detail: string;
  fix?: string;
}

const ok = (check: string, detail: string): Finding => ({ check, level: 'OK', detail });
const warn = (check: string, detail: string, fix: string): Finding => ({ check, level: 'WARN', detail, fix });
const fail = (check: string, detail: string, fix: string): Finding => ({ check, level: 'FAIL', detail, fix });

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

export function checkNode(version = process.versions.node): Finding {
  const major = Number(version.split('.')[0]);
  return major >= 20 ? ok('node', `Node.js ${version}`) : fail('node', `Node.js ${version} is too old`, 'install Node.js 20 or newer (docs/deploy.md, step 2)');
}

/** Processes other than this one holding the device open (Linux /proc). */
function holders(path: string): string[] {
  const out: string[] = [];
  let real: string;
  try {
    real = readlinkSync(path).startsWith('/') ? readlinkSync(path) : join(path, '..', readlinkSync(path));
  } catch {
    real = path;
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target === path || target === real) {
          const comm = run('cat', [`/proc/${pid}/comm`]) ?? '?';
          out.push(`${comm} (pid ${pid})`);
          break;
        }
      }
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

export async function checkPort(path: string): Promise<Finding[]> {
  if (!existsSync(path)) {
    const ports = await listSerialPorts();
    return [
      fail(
        'port',
        `${path} does not exist; ${ports.length ? `serial ports present: ${ports.join(', ')}` : 'no serial ports were found'}`,
        'plug the board in, check the cable, and check the udev rule (docs/deploy.md, step 5)',
      ),
    ];
  }
  const found: Finding[] = [];
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    found.push(ok('port', `${path} exists and this user may open it`));
  } catch {
    const group = run('stat', ['-c', '%G', path]) ?? 'its group';
    found.push(
      fail(
        'port',
        `${path} exists but this user may not open it (owned by group ${group})`,
        `add the user to ${group}: sudo usermod -a -G ${group} $USER, then log in again`,
      ),
    );
  }
  if (process.platform === 'linux' && path.startsWith('/dev/pts/')) {
    found.push(ok('port in use', 'a pseudo-terminal (a simulated board): its server holds it by design'));
  } else if (process.platform === 'linux') {
    const by = holders(path);
    found.push(
      by.length
        ? fail('port in use', `${path} is held by ${by.join(', ')}`, 'stop that program (another modality, a serial monitor) before using the board')
        : ok('port in use', 'no other process holds the port'),
    );
  }
  return found;
}

export async function checkBoard(path: string, connectTimeoutMs: number): Promise<Finding[]> {
  const spec = { kind: 'serial', path } as const;
  let opened: OpenedBoard;
  try {
    opened = await openBoard(spec, clockFor(spec), { label: path, connectTimeoutMs });
  } catch (e) {
    if (e instanceof SerialPortError) return [fail('board', `cannot open ${path}: ${e.message}`, 'see the port findings above')];
    return [
      fail(
        'board',
        e instanceof Error ? e.message : String(e),
        'check that the board runs the modality firmware (docs/firmware.md) and that nothing else uses the port',
      ),
    ];
  }
  const { board } = opened;
  const i = board.info;
  const found: Finding[] = [];
  try {
    found.push(
      ok(
        'board',
        `${i.kind} board, firmware ${i.firmware}, protocol ${i.protocolVersion}, ${i.tensChannels} TENS channel(s)${i.hasUltrasound ? ', ultrasound' : ''}${i.hasPad ? ', pad' : ''}`,
      ),
    );
    const want = CORE_VERSION.join('.');
    if (i.protocolVersion !== PROTOCOL_VERSION)
      found.push(
        fail(
          'firmware',
          `the board speaks protocol ${i.protocolVersion}, this modality ${PROTOCOL_VERSION}`,
          'flash the firmware of this release (npm run build:firmware, docs/firmware.md)',
        ),
      );
    else if (i.firmware !== want)
      found.push(
        warn(
          'firmware',
          `board firmware ${i.firmware}, this modality was built with ${want}`,
          'flash the firmware of this release (docs/firmware.md) so the board and the engine agree',
        ),
      );
    else found.push(ok('firmware', `firmware ${i.firmware} matches this build`));
    // one telemetry report says what is latched
    await new Promise((r) => setTimeout(r, 400));
    const latched = board.latchedFaults();
    found.push(
      latched.length
        ? warn(
            'faults',
            `latched on the board: ${latched.join(', ')}`,
            'remove the cause, then clear them with the next run (modality run ... --clear-faults) or Acknowledge at the cart',
          )
        : ok('faults', 'no fault latched on the board'),
    );
  } finally {
    await opened.close();
  }
  return found;
}

export function checkData(dir: string): Finding[] {
  const found: Finding[] = [];
  if (!existsSync(dir)) return [warn('data', `${dir} does not exist yet`, 'it is created by the first run; or give --data <dir>')];
  try {
    const probe = mkdtempSync(join(dir, '.doctor-'));
    rmSync(probe, { recursive: true, force: true });
    found.push(ok('data', `${dir} is writable`));
  } catch {
    found.push(
      fail(
        'data',
        `${dir} is not writable by this user`,
        `sessions cannot be recorded: fix its owner or mode (sudo chown -R modality: ${dir}), or use a writable --data`,
      ),
    );
  }
  try {
    const s = statfsSync(dir);
    const freeMb = Math.floor((s.bavail * s.bsize) / (1 << 20));
    if (freeMb < 50)
      found.push(fail('disk', `${freeMb} MB free on the records' file system`, 'free space or move the records (a 30-minute session takes about 1 MB)'));
    else if (freeMb < 500) found.push(warn('disk', `${freeMb} MB free on the records' file system`, 'free space soon (a 30-minute session takes about 1 MB)'));
    else found.push(ok('disk', `${freeMb} MB free on the records' file system`));
  } catch {
    /* statfs unsupported: nothing to say */
  }
  const db = join(dir, DB_FILE);
  if (!existsSync(db)) {
    found.push(ok('database', `no ${DB_FILE} yet (the first run creates it)`));
    return found;
  }
  try {
    if (!statSync(db).isFile()) throw new Error('not a file');
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const rows = conn.pragma('quick_check') as { quick_check: string }[];
      const problems = rows.map((r) => r.quick_check).filter((v) => v !== 'ok');
      found.push(
        problems.length
          ? fail(
              'database',
              `${db} is damaged: ${problems.slice(0, 3).join('; ')}`,
              'stop the service, restore the last backup (docs/deploy.md, step 8), keep the damaged file for the clinic',
            )
          : ok('database', `${db} passes SQLite's quick_check`),
      );
    } finally {
      conn.close();
    }
  } catch (e) {
    found.push(
      fail(
        'database',
        `${db} cannot be read as a records database (${e instanceof Error ? e.message : String(e)})`,
        'restore the last backup (docs/deploy.md, step 8); keep the damaged file for the clinic',
      ),
    );
  }
  return found;
}

export function checkClock(): Finding {
  const synced = run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  if (synced === 'yes') return ok('clock', 'the system clock is synchronised (NTP)');
  if (synced === 'no')
    return warn(
      'clock',
      'the system clock is not synchronised',
      'records carry the wall-clock time: connect the cart to the network, or set the time (timedatectl)',
    );
  return warn('clock', 'cannot tell whether the system clock is synchronised (no timedatectl answer)', 'check the date; records carry the wall-clock time');
}

export function checkService(): Finding[] {
  const active = run('systemctl', ['is-active', 'modality-cart.service']);
  if (active === null && !existsSync('/run/systemd/system')) return [];
  const found: Finding[] = [];
  const state = active ?? run('systemctl', ['show', '-p', 'ActiveState', '--value', 'modality-cart.service']) ?? 'unknown';
  found.push(
    state === 'active'
      ? ok('service', 'modality-cart.service is active')
      : warn('service', `modality-cart.service is ${state}`, 'sudo systemctl enable --now modality-cart; journalctl -u modality-cart says why it stopped'),
  );
  const kiosk = run('pgrep', ['-f', 'modality-kiosk']);
  found.push(
    kiosk
      ? ok('kiosk', 'the kiosk browser loop runs')
      : warn('kiosk', 'the kiosk browser loop is not running', 'log in on the display (auto login), check ~/.config/labwc/autostart (docs/deploy.md, step 7)'),
  );
  return found;
}

export function worst(findings: readonly Finding[]): Level {
  return findings.some((f) => f.level === 'FAIL') ? 'FAIL' : findings.some((f) => f.level === 'WARN') ? 'WARN' : 'OK';
}
