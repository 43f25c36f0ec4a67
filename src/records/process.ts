/** Is the process that wrote a running session still alive? (pid, and its start time to tell a reused pid) */
import { readFileSync } from 'node:fs';

/** Start time of a process (clock ticks after boot, /proc/<pid>/stat field 22), to tell a reused pid; null where /proc is missing. */
export function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return 'dead';
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export function processAlive(pid: number, start: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a process of another user has that pid; fall through to the start-time check
  }
  const now = procStart(pid);
  if (now === 'dead') return false;
  if (start !== null && now !== null && now !== start) return false; // the pid was reused
  return true;
}
