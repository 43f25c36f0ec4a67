/** The CLI's glue to the records, shared by the commands that touch them (run, history, report, export, cart, doctor): --data and one-line errors. */
import { writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { DATA_HELP, dataDir } from '../records/data-dir.js';
import { RecordsError, RecordStore, type StoreOptions } from '../records/store.js';
import { CliExit, EXIT, io } from './io.js';

export function addDataOption(cmd: Command): Command {
  return cmd.option('--data <dir>', DATA_HELP);
}

/** Open the records database named by --data (or the default); a database that cannot be used ends the command with exit 2. */
export function openStoreOrExit(dataOption: string | undefined, opts: StoreOptions = {}): RecordStore {
  try {
    return RecordStore.open(dataDir(dataOption), opts);
  } catch (e) {
    if (e instanceof RecordsError) {
      io().err(`modality: ${e.message}`);
      throw new CliExit(EXIT.badInput);
    }
    throw e;
  }
}

/**
 * Run fn with the store open READ ONLY (history, report, export: a backup on a
 * read-only mount can be read; only `run` writes); SQLite errors while reading
 * become one line and exit 2.
 */
export function withStore<T>(dataOption: string | undefined, fn: (store: RecordStore) => T): T {
  const store = openStoreOrExit(dataOption, { readonly: true });
  try {
    return fn(store);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (e instanceof Error && typeof code === 'string' && code.startsWith('SQLITE_')) {
      io().err(`modality: the records database ${store.file} cannot be read: ${e.message.split('\n')[0]}; it was left as it is`);
      throw new CliExit(EXIT.badInput);
    }
    throw e;
  } finally {
    store.close();
  }
}

/** A session id argument: a whole number. */
export function parseSessionId(text: string): number {
  if (!/^\d+$/.test(text)) {
    io().err(`modality: "${text}" is not a session id (a whole number; see "modality history")`);
    throw new CliExit(EXIT.badInput);
  }
  return Number(text);
}

/** The record of session `id`, or a one-line error and exit 2. */
export function recordOrExit(dataOption: string | undefined, id: number) {
  const rec = withStore(dataOption, (s) => s.get(id));
  if (!rec) {
    io().err(`modality: no session ${id} in the records (see "modality history")`);
    throw new CliExit(EXIT.badInput);
  }
  return rec;
}

/** Print `text`, or write it to `out` and print the path written. */
export function writeOrPrint(text: string, out: string | undefined): void {
  if (!out) {
    io().out(text);
    return;
  }
  const path = resolvePath(out);
  try {
    writeFileSync(path, text);
  } catch (e) {
    io().err(`modality: cannot write ${path}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    throw new CliExit(EXIT.badInput);
  }
  io().out(path);
}
