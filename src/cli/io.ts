/**
 * Output for CLI commands. Commands write through `io()` rather than
 * console/process directly, so main() can run in-process in tests and capture
 * everything.
 */
export type CliIo = { out: (text: string) => void; err: (text: string) => void };

/**
 * stdout or stderr may close under us: `modality run … | head -2`, a dropped
 * SSH session. A write to a closed pipe is not an error of the command: from
 * the first error on a stream, nothing more is written to it, and the command
 * goes on (a session runs to its planned end and is recorded; a print-only
 * command ends with exit 0, as if everything had been read).
 */
const closed = { stdout: false, stderr: false };
let guarded = false;
export function guardStdStreams(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', () => {
    closed.stdout = true;
  });
  process.stderr.on('error', () => {
    closed.stderr = true;
  });
}
/** Has stdout gone away (EPIPE, EIO)? Writers that bypass io() (the live panel) check it. */
export const stdoutClosed = (): boolean => closed.stdout || process.stdout.destroyed;

function write(stream: 'stdout' | 'stderr', t: string): void {
  guardStdStreams();
  const s = process[stream];
  if (closed[stream] || s.destroyed) return;
  try {
    s.write(t.endsWith('\n') ? t : `${t}\n`);
  } catch {
    closed[stream] = true;
  }
}

export const processIo: CliIo = {
  out: (t) => write('stdout', t),
  err: (t) => write('stderr', t),
};

let current: CliIo = processIo;
export const io = (): CliIo => current;
export function setIo(next: CliIo): CliIo {
  const prev = current;
  current = next;
  return prev;
}

/** Thrown by a command to end with an exit code (after printing its own message). */
export class CliExit extends Error {
  constructor(public readonly code: number) {
    super(`exit ${code}`);
    this.name = 'CliExit';
  }
}

/** Exit codes: 0 ok, 1 internal error, 2 bad input (file, profile, arguments). */
export const EXIT = { ok: 0, internal: 1, badInput: 2 } as const;
