/** Stable codes of {@link ChaosError}. */
export const ChaosErrorCode = {
  /** An option, a preset name or a flag has a bad value. */
  InvalidOptions: "CHAOS_INVALID_OPTIONS",
  /** A process of the topology would not start (nats-server, gateway, consumer member). */
  TopologyFailed: "CHAOS_TOPOLOGY_FAILED",
  /** A fault could not be injected or healed. */
  FaultFailed: "CHAOS_FAULT_FAILED",
  /** The books could not be read back (the station stream or the DLS did not answer). */
  BooksUnreadable: "CHAOS_BOOKS_UNREADABLE",
} as const;
/** A {@link ChaosError} code. */
export type ChaosErrorCode = (typeof ChaosErrorCode)[keyof typeof ChaosErrorCode];

/** Whether trying again may help, per code. */
const RETRIABLE: Readonly<Record<ChaosErrorCode, boolean>> = Object.freeze({
  CHAOS_INVALID_OPTIONS: false,
  CHAOS_TOPOLOGY_FAILED: true,
  CHAOS_FAULT_FAILED: true,
  CHAOS_BOOKS_UNREADABLE: true,
});

/** The one error of the chaos engine: a stable code, whether a retry can help, the cause kept. */
export class ChaosError extends Error {
  readonly code: ChaosErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ChaosErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ChaosError";
    this.code = code;
    this.retriable = RETRIABLE[code];
    this.details = options.details;
  }
}
