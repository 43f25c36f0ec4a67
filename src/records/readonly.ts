/**
 * Opening the records database READ ONLY (history, report, export): SQLite's
 * read-only flag, nothing written, not even a pragma. Kept apart from store.ts
 * so the writer's code (schema, migrations) stays where it is.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Why the database cannot be read; the message is one line. */
export class ReadonlyOpenError extends Error {}

/**
 * The database at `file` in `dataDir`, opened read only; null when there is no
 * database (it is not created). Throws ReadonlyOpenError.
 *
 * A WAL database in a directory SQLite cannot write its WAL index (-shm) into
 * (a backup on a read-only mount) is read from a snapshot of the file in
 * memory, unless a non-empty -wal beside it holds changes the file does not
 * have yet.
 */
export function openReadonlyDatabase(dataDir: string, file: string): Database.Database | null {
  try {
    if (!statSync(dataDir).isDirectory()) throw new ReadonlyOpenError(`the records directory ${dataDir} is not a directory`);
  } catch (e) {
    if (e instanceof ReadonlyOpenError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ReadonlyOpenError(`cannot use the records directory ${dataDir}: ${oneLine(e)}`);
  }
  if (!existsSync(file)) return null;
  if (!statSync(file).isFile()) throw new ReadonlyOpenError(`the records database ${file} is not a file`);
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('application_id', { simple: true }); // a WAL database in a read-only directory fails here
      return db;
    } catch (e) {
      db.close();
      if (!/^SQLITE_(READONLY_DIRECTORY|READONLY_CANTINIT|CANTOPEN)$/.test(String((e as { code?: unknown }).code))) throw e;
    }
    const wal = `${file}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) {
      throw new ReadonlyOpenError(
        `the records database ${file} has changes in ${wal} that cannot be read from a read-only directory: copy the directory somewhere writable and read it there`,
      );
    }
    return inMemoryCopy(readFileSync(file), { readonly: true });
  } catch (e) {
    if (e instanceof ReadonlyOpenError) throw e;
    throw new ReadonlyOpenError(`cannot open the records database ${file}: ${oneLine(e)}`);
  }
}

/** A database image opened in memory; a WAL image is marked rollback-journal first (in the copy only), or SQLite cannot open it. */
export function inMemoryCopy(bytes: Buffer, opts: Database.Options = {}): Database.Database {
  if (bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1;
  return new Database(bytes, opts);
}

function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}
