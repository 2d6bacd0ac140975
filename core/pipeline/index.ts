/**
 * What the gateway and the DLS share: the admin API contract (handlers, the tenant they act in)
 * and the produce pipeline used by produce and DLS resend: stages (schema validation, functions),
 * storing with atomic batches, and the dead-letter sink the caller records refusals through.
 */
export { runStages } from "./stages.js";
export { storeMessages, DEFAULT_SMALL_BATCH, MAX_ATOMIC_BATCH } from "./store.js";
export { noDeadLetters, produceDeadLetter, recordFailures, toBase64 } from "./dead-letters.js";
export { SchemaStage, resolveAttachment } from "./schema-stage.js";
export { FunctionStage, functionRuntimeName } from "./function-stage.js";
export type { ProduceStage, StageMessage, StageOutcome, StageContext, IndexedMessage, StageFailure, StagesResult } from "./stages.js";
export type { AckResult } from "./store.js";
export type { DeadLetterSink } from "./dead-letters.js";
export type { FunctionStageOptions, FunctionRunEvent } from "./function-stage.js";
export type { ApiHandler, ApiContext, TenantRecords } from "./api.js";
