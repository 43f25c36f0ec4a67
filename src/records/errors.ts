/** How the records say that a database cannot be used: one line, naming the file. */

/** A database that cannot be opened, read or written. The message is one line and names the file. */
export class RecordsError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'RecordsError';
  }
}

/** The first line of an error's message. */
export function describe(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}

/** The one message for a database that cannot be read (and was not touched). */
export function unreadable(file: string, e: unknown): RecordsError {
  return new RecordsError(`the records database ${file} cannot be read: ${describe(e)}; it was left as it is`, file);
}
