/** Shared by the commands that touch records (run, history, report, export): --data and one-line errors. */
import type { Command } from 'commander';
import { CliExit, EXIT, io } from '../cli/io.ts';
import { DATA_HELP, dataDir } from './data-dir.js';
import { RecordsError, RecordStore, type StoreOptions } from './store.js';

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

/** Run fn with the store open; SQLite errors while reading become one line and exit 2. */
export function withStore<T>(dataOption: string | undefined, fn: (store: RecordStore) => T): T {
  const store = openStoreOrExit(dataOption);
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
