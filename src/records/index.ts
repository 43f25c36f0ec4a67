export { dataDir, DATA_HELP } from './data-dir.js';
export { RecordStore, RecordsError, SessionWriter, type SessionRecord, type SessionRow, type StoredEvent, type Outcome, type StoreOptions, type WriterOptions, APPLICATION_ID, DB_FILE } from './store.js';
export { deliveredLine, deliveredTable } from './format.js';
export { renderSvg, renderHtml, SERIES_COLOURS } from './report.js';
export { exportCsv, exportJson, CSV_COLUMNS } from './export.js';
