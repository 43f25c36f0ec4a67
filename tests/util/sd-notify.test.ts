/** The systemd notifier: READY=1 and WATCHDOG=1 through systemd-notify under a unit, nothing outside one. */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemdNotifier } from '../../src/util/sd-notify.js';

function fakeSystemdNotify() {
  const dir = mkdtempSync(join(tmpdir(), 'sd-notify-'));
  const log = join(dir, 'log');
  writeFileSync(join(dir, 'systemd-notify'), `#!/bin/sh\necho "$@" >> "${log}"\n`);
  chmodSync(join(dir, 'systemd-notify'), 0o755);
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  return { dir, lines };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20)); // the test's own timeout is the only bound
}

describe('systemd notification', () => {
  it('under a unit: READY=1 with a status, WATCHDOG=1 at half the watchdog interval, STOPPING=1', async () => {
    const fake = fakeSystemdNotify();
    const n = systemdNotifier({ ...process.env, PATH: `${fake.dir}:${process.env['PATH']}`, NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '2000000' });
    n.ready('serving on 127.0.0.1:8080');
    await until(() => fake.lines().includes('--ready --status=serving on 127.0.0.1:8080'));
    await until(() => fake.lines().includes('WATCHDOG=1'));
    n.stop();
    await until(() => fake.lines().includes('STOPPING=1'));
  });

  it('outside systemd it runs nothing', async () => {
    const fake = fakeSystemdNotify();
    const n = systemdNotifier({ PATH: `${fake.dir}:${process.env['PATH']}`, WATCHDOG_USEC: '2000000' });
    n.ready();
    n.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.lines()).toEqual([]);
  });
});
