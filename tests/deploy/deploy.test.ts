/**
 * deploy/: the systemd unit passes `systemd-analyze verify` and has the hardening and
 * restart policy docs/deploy.md promises; the scripts pass shellcheck; the udev rule
 * names the board by vendor, product and serial. Skips locally without systemd-analyze or
 * shellcheck; under CI=true they are required (.ci/run installs Debian's systemd and shellcheck).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const ci = process.env.CI === 'true';
const unit = readFileSync(join(DEPLOY, 'modality-cart.service'), 'utf8');

function scripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? scripts(join(dir, e.name)) : e.name.endsWith('.sh') ? [join(dir, e.name)] : [],
  );
}

describe('deploy/ for the cart', () => {
  it('the tools are here (required in CI)', () => {
    if (ci) {
      expect(have('systemd-analyze'), 'systemd-analyze (Debian: systemd)').toBe(true);
      expect(have('shellcheck'), 'shellcheck').toBe(true);
    }
  });

  it.runIf(have('systemd-analyze') || ci)('the unit passes systemd-analyze verify', () => {
    // verify checks that ExecStart exists: point it at an executable that does
    const dir = mkdtempSync(join(tmpdir(), 'modality-unit-'));
    const file = join(dir, 'modality-cart.service');
    writeFileSync(file, unit.replace('/usr/local/bin/modality', process.execPath));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(
      r.stderr.split('\n').filter((l) => l.includes('modality-cart.service')),
      'warnings about the unit',
    ).toEqual([]);
  });

  it('the unit restarts the engine, watches it, and can write only the records', () => {
    const directives = new Map<string, string[]>();
    for (const line of unit.split('\n')) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
      if (m) directives.set(m[1]!, [...(directives.get(m[1]!) ?? []), m[2]!]);
    }
    const one = (k: string) => directives.get(k)?.[0];
    expect(one('Type')).toBe('notify');
    expect(Number(one('WatchdogSec'))).toBeGreaterThan(0);
    expect(one('Restart')).toBe('on-failure');
    expect(one('User')).toBe('modality');
    expect(one('SupplementaryGroups')).toBe('dialout');
    expect(one('ProtectSystem')).toBe('strict');
    expect(directives.get('ReadWritePaths')).toEqual(['/var/lib/modality']);
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('DevicePolicy')).toBe('closed');
    expect(one('ExecStart')).toMatch(/ cart --board serial:\/dev\/modality-board --data \/var\/lib\/modality/);
  });

  it('the udev rule names the board by vendor, product and serial number', () => {
    const rule = readFileSync(join(DEPLOY, '99-modality-board.rules'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(rule).toHaveLength(1);
    for (const part of [
      'SUBSYSTEM=="tty"',
      'ATTRS{idVendor}==',
      'ATTRS{idProduct}==',
      'ATTRS{serial}=="BOARD_SERIAL"',
      'SYMLINK+="modality-board"',
      'GROUP="dialout"',
    ]) {
      expect(rule[0]).toContain(part);
    }
  });

  it.runIf(have('shellcheck') || ci)('every script passes shellcheck', () => {
    const files = scripts(DEPLOY);
    expect(files.length).toBeGreaterThanOrEqual(2);
    const out = (() => {
      try {
        return execFileSync('shellcheck', ['--severity=style', ...files], { encoding: 'utf8' });
      } catch (e) {
        return String((e as { stdout?: string }).stdout ?? e);
      }
    })();
    expect(out).toBe('');
  });
});
