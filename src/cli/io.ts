/**
 * Output for CLI commands. Commands write through `io()` rather than
 * console/process directly, so main() can run in-process in tests and capture
 * everything.
 */
export type CliIo = { out: (text: string) => void; err: (text: string) => void };

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
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
