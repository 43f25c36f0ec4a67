export { dataDir, DATA_HELP } from './data-dir.js';
export {
  RecordStore,
  RecordsError,
  type SessionRecord,
  type SessionRow,
  type StoredEvent,
  type Outcome,
  type StoreOptions,
  APPLICATION_ID,
  DB_FILE,
} from './store.js';
export { SessionWriter, type WriterOptions } from './writer.js';
export { deliveredLine, deliveredTable } from './format.js';
export { renderSvg, renderHtml, SERIES_COLOURS } from './report.js';
export { exportCsv, exportJson, CSV_COLUMNS } from './export.js';
