/** Dead letters: the JN_DLS stream, the writer, and (later) the advisory listener and resend. */
export { DeadLetterReason, DEFAULT_DLS_RETENTION, ensureDlsStream, DeadLetterWriter, toBase64 } from "./store.js";
export type { DeadLetter } from "./store.js";
