/** The schema languages Junction understands. */
export const SCHEMA_TYPES = ["json", "protobuf"] as const;

/** A schema language: JSON Schema (draft-07 or 2020-12) or Protobuf (.proto text). */
export type SchemaType = (typeof SCHEMA_TYPES)[number];

/** The compatibility modes checked when a new schema version is registered. */
export const COMPATIBILITY_MODES = ["none", "backward", "forward", "full"] as const;

/**
 * How a new schema version must relate to the previous one (Confluent Schema Registry semantics):
 * `backward` — consumers using the new schema can read data written with the old one;
 * `forward` — consumers using the old schema can read data written with the new one;
 * `full` — both; `none` — no check.
 */
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

/** Largest accepted schema definition, in UTF-8 bytes (256 KiB). */
export const MAX_SCHEMA_BYTES = 256 * 1024;

/** A schema as a user submits it. */
export interface SchemaSource {
  /** The schema language. */
  type: SchemaType;
  /** The JSON Schema document (JSON text) or the .proto file text. */
  definition: string;
  /**
   * Protobuf only: the message that payloads are encoded with, fully qualified (`shop.Order`) or
   * short (`Order`). May be omitted when the file declares exactly one top-level message.
   */
  messageType?: string;
}

/** A schema checked by {@link prepareSchema}: the form that is stored and later loaded. */
export interface PreparedSchema extends SchemaSource {
  /** Protobuf only: the message type, always fully qualified (no leading dot). */
  messageType?: string;
  /** Protobuf only: the google.protobuf.FileDescriptorSet built by buf (imports included), base64. */
  descriptorSetBase64?: string;
  /** Hex SHA-256 of the type, the message type and the normalized definition. */
  fingerprint: string;
}

/** One reason a payload does not match its schema. */
export interface SchemaIssue {
  /**
   * Where in the payload: a JSON Pointer (RFC 6901) — `""` is the whole payload, `/items/0/price`
   * a nested value. Protobuf paths use the fields' JSON names; encode errors name the field
   * instead (`field shop.Order.id`).
   */
  path: string;
  /** What is wrong, in words. */
  message: string;
  /** The JSON Schema keyword that failed (`required`, `type`…) or a protobuf check (`wire-type`, `utf8`…). */
  keyword?: string;
}

/** The outcome of {@link CompiledSchema.validate}. */
export type ValidationResult = { ok: true; value: unknown } | { ok: false; issues: SchemaIssue[] };

/** Options of {@link loadSchema}. */
export interface LoadOptions {
  /**
   * Protobuf: accept payloads that carry field numbers the schema does not declare (they are
   * dropped from the decoded value), and JSON keys the message does not declare when encoding.
   * @defaultValue false
   */
  allowUnknownFields?: boolean;
}

/** A schema ready to check payloads; build it once per schema version and reuse it. */
export interface CompiledSchema {
  /** The schema language. */
  readonly type: SchemaType;
  /** The fully qualified message type (protobuf only). */
  readonly messageType: string | undefined;
  /** Checks a payload; on success also returns the decoded value (JSON form). Never throws. */
  validate(payload: Uint8Array): ValidationResult;
  /** Decodes a payload to a plain JSON-able value; throws {@link SchemaValidationError} when it does not match. */
  decode(payload: Uint8Array): unknown;
  /** Encodes a value (JSON form) to payload bytes; throws {@link SchemaValidationError} when it does not match. */
  encode(value: unknown): Uint8Array;
}

/** One way a new schema version breaks the compatibility mode. */
export interface BreakingChange {
  /** Where: a JSON Pointer into the schema (JSON) or a message/field name (protobuf). */
  path: string;
  /** A stable rule id, e.g. `json.required-added`; see {@link COMPATIBILITY_RULES}. */
  rule: string;
  /** What changed, in words. */
  message: string;
}
