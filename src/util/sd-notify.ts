/**
 * systemd's service notification, for `modality cart` under deploy/modality-cart.service
 * (Type=notify, WatchdogSec): READY=1 once it serves, WATCHDOG=1 at half the watchdog
 * interval while the event loop runs. Node has no unix datagram sockets, so it goes
 * through systemd's own `systemd-notify` (the unit sets NotifyAccess=all for it). Outside
 * systemd (no NOTIFY_SOCKET) it does nothing.
 */
import { execFile } from 'node:child_process';

export interface SystemdNotifier {
  ready(status?: string): void;
  status(text: string): void;
  stop(): void;
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env): SystemdNotifier {
  if (!env['NOTIFY_SOCKET']) return { ready: () => undefined, status: () => undefined, stop: () => undefined };
  const send = (...args: string[]) => {
    execFile('systemd-notify', args, { env }, () => undefined); // a failed notification is systemd's to report
  };
  const watchdogUs = Number(env['WATCHDOG_USEC'] ?? 0);
  let timer: NodeJS.Timeout | null = null;
  if (watchdogUs > 0) {
    timer = setInterval(() => send('WATCHDOG=1'), Math.max(1000, watchdogUs / 2000));
    timer.unref();
  }
  return {
    ready: (status) => send('--ready', ...(status ? [`--status=${status}`] : [])),
    status: (text) => send(`--status=${text}`),
    stop: () => {
      if (timer) clearInterval(timer);
      timer = null;
      send('STOPPING=1');
    },
  };
}
