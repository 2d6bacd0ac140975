/** Dead letters: the JN_DLS stream and writer, the advisory listener, and the `dls.*` operations. */
export {
  DeadLetterReason,
  DEFAULT_DLS_RETENTION,
  DLS_DUPLICATE_WINDOW_MS,
  ensureDlsStream,
  DeadLetterWriter,
  applyStationCap,
  dlsSubject,
  toBase64,
} from "./store.js";
export { DEFAULT_DLS_OPTIONS, resolveDlsOptions } from "./options.js";
export { DLS_RETENTION_BUCKET, RetentionStore } from "./retention.js";
export { natsEventPublisher, noEvents } from "./events.js";
export { AdvisoryListener, advisoryDeadLetter, advisoryDeadLetterId } from "./listener.js";
export {
  DlsService,
  deadLettersByGroup,
  filterSubject,
  DLS_LIST_DEFAULT_LIMIT,
  DLS_LIST_MAX_LIMIT,
  DLS_LIST_SCAN_LIMIT,
} from "./service.js";
export type { DeadLetter, DeadLetterWriterOptions } from "./store.js";
export type { DlsOptions, DlsHooks, ResolvedDlsOptions } from "./options.js";
export type { DlsRetention } from "./retention.js";
export type { EventPublisher, JunctionEvent } from "./events.js";
export type { AdvisoryListenerDeps } from "./listener.js";
export type { DlsServiceDeps } from "./service.js";
