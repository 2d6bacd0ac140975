/** Dead letters: the JN_DLS stream and writer, the advisory listener, queries, resend and the `dls.*` operations. */
export { DLS_DUPLICATE_WINDOW_MS, ensureDlsStream, DeadLetterWriter, applyStationCap, dlsSubject } from "./writer.js";
export { DEFAULT_DLS_OPTIONS, resolveDlsOptions } from "./options.js";
export { DLS_RETENTION_BUCKET, RetentionStore } from "./retention.js";
export { AdvisoryListener, advisoryDeadLetter, advisoryDeadLetterId } from "./listener.js";
export { DlsQuery, parseFilter, aggregate, idSubject, DLS_LIST_DEFAULT_LIMIT, DLS_LIST_MAX_LIMIT, DLS_LIST_SCAN_LIMIT } from "./query.js";
export { Resender } from "./resend.js";
export { dlsHandlers } from "./handlers.js";
export type { DeadLetterWriterOptions } from "./writer.js";
export type { DlsOptions, DlsHooks, ResolvedDlsOptions } from "./options.js";
export type { DlsRetention } from "./retention.js";
export type { AdvisoryListenerDeps } from "./listener.js";
export type { DlsStats, Filter } from "./query.js";
export type { ResenderDeps, ResendReport } from "./resend.js";
export type { DlsHandlerDeps } from "./handlers.js";
