import type { JsonDialect } from "./json/dialect.js";
import type { SchemaLimits } from "./limits.js";
import type { SchemaIssue } from "./errors.js";

export type { SchemaIssue };

/** The schema languages Junction understands. */
export const SCHEMA_TYPES = ["json", "protobuf", "avro"] as const;

/** A schema language: JSON Schema, Protobuf (.proto text) or Avro (.avsc JSON). */
export type SchemaType = (typeof SCHEMA_TYPES)[number];

/** The compatibility modes (Confluent Schema Registry's names), checked when a new version is registered. */
export const CANONICAL_COMPATIBILITY_MODES = [
  "NONE",
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
] as const;

/**
 * A compatibility mode as stored and reported. `BACKWARD`: consumers using the new schema can read
 * data written with the previous one; `FORWARD`: consumers using the previous schema can read data
 * written with the new one; `FULL`: both; `…_TRANSITIVE`: the same against every earlier version,
 * not only the latest; `NONE`: no check.
 */
export type CanonicalCompatibilityMode = (typeof CANONICAL_COMPATIBILITY_MODES)[number];

/** The lowercase names of the first release, still accepted (stored metadata uses them). */
export const LEGACY_COMPATIBILITY_MODES = {
  none: "NONE",
  backward: "BACKWARD",
  forward: "FORWARD",
  full: "FULL",
} as const satisfies Record<string, CanonicalCompatibilityMode>;

/**
 * Every accepted spelling of a compatibility mode: the canonical names, then the legacy
 * lowercase aliases. Normalize with {@link normalizeCompatibilityMode} before storing.
 */
export const COMPATIBILITY_MODES = [...CANONICAL_COMPATIBILITY_MODES, "none", "backward", "forward", "full"] as const;

/** A compatibility mode as accepted as input: a canonical name or a legacy lowercase alias. */
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

/** Largest accepted schema definition by default, in UTF-8 bytes (256 KiB); see {@link SchemaLimits}. */
export const MAX_SCHEMA_BYTES = 256 * 1024;

/** How a JSON Schema treats `format`: `assert` checks known formats, `annotate` only records them. */
export type FormatMode = "assert" | "annotate";

/** A schema as a user submits it. */
export interface SchemaSource {
  /** The schema language. */
  type: SchemaType;
  /** The JSON Schema document (JSON text), the .proto file text, or the Avro schema (.avsc JSON text). */
  definition: string;
  /**
   * Protobuf only: the message that payloads are encoded with, fully qualified (`shop.Order`) or
   * short (`Order`). May be omitted when the file declares exactly one top-level message.
   */
  messageType?: string;
  /**
   * JSON Schema only: whether `format` is checked (`assert`) or only an annotation (`annotate`).
   * @defaultValue "assert"
   */
  formats?: FormatMode;
  /**
   * JSON Schema only: the draft used when the document has no `$schema`.
   * @defaultValue "draft-07"
   */
  dialect?: JsonDialect;
  /**
   * JSON Schema only: the absolute URI the schema is published at, its base for relative
   * references when it has no `$id`. Other schemas may `$ref` it by that URI.
   * @defaultValue none (the base is `junction:<name>@<version>` when referenced)
   */
  baseUri?: string;
}

/** A schema version this one uses, as recorded in {@link PreparedSchema.references}. */
export interface SchemaReference {
  /** The referenced schema's name. */
  name: string;
  /** Its version. */
  version: number;
  /**
   * JSON Schema: the URI the referring schema uses for it, when that is neither
   * `junction:<name>@<version>` nor an `$id` the referenced schema declares.
   */
  uri?: string;
}

/** A referenced schema version, supplied by the caller to {@link prepareSchema} and {@link loadSchema}. */
export interface ReferencedSchema extends SchemaReference {
  /** The referenced version's prepared form, as stored. */
  prepared: PreparedSchema;
}

/** What a definition refers to outside itself, as {@link schemaReferences} lists it. */
export type ReferenceRequest =
  /** `junction:<name>@<version>` (JSON) or `import "junction/<name>@<version>.proto"` (Protobuf). */
  | { kind: "version"; name: string; version: number }
  /** An absolute URI that is no built-in meta-schema: the `$id` of another registered schema. */
  | { kind: "uri"; uri: string };

/** Options of {@link prepareSchema}. */
export interface PrepareOptions {
  /**
   * The schema versions the definition refers to, and everything those refer to in turn (the
   * closure of {@link schemaReferences}, following each one's {@link PreparedSchema.references}).
   * @defaultValue []
   */
  references?: readonly ReferencedSchema[];
  /** Bounds on the definition; see {@link SchemaLimits}. */
  limits?: SchemaLimits;
}

/** A schema checked by {@link prepareSchema}: the form that is stored and later loaded. */
export interface PreparedSchema extends SchemaSource {
  /** Protobuf only: the message type, always fully qualified (no leading dot). */
  messageType?: string;
  /** Protobuf only: the google.protobuf.FileDescriptorSet built by buf (imports included), base64. */
  descriptorSetBase64?: string;
  /** Hex SHA-256 of the type, the message type and the normalized definition. */
  fingerprint: string;
  /**
   * Every schema version this one uses, directly or through another one, sorted by name and
   * version. The registry must not delete them, and must pass them to {@link loadSchema}.
   * Absent when there are none.
   */
  references?: SchemaReference[];
  /** JSON Schema only: the absolute `$id`s this schema declares (other schemas may `$ref` them). */
  ids?: string[];
  /** Things worth telling the author that do not make the schema invalid (ignored keywords, unknown formats…). */
  warnings?: string[];
}

/** The outcome of {@link CompiledSchema.validate}. */
export type ValidationResult = { ok: true; value: unknown } | { ok: false; issues: SchemaIssue[] };

/** Something that can validate large payloads off the caller's thread (a {@link SchemaWorkerPool}). */
export interface AsyncValidator {
  validate(prepared: PreparedSchema, payload: Uint8Array, options?: LoadOptions): Promise<ValidationResult>;
}

/** Options of {@link loadSchema}. */
export interface LoadOptions {
  /**
   * Protobuf: accept payloads that carry field numbers the schema does not declare (they are
   * dropped from the decoded value), and JSON keys the message does not declare when encoding.
   * @defaultValue false
   */
  allowUnknownFields?: boolean;
  /**
   * The schema versions listed in the prepared schema's `references` (JSON Schema needs them;
   * Protobuf and Avro carry what they need).
   * @defaultValue []
   */
  references?: readonly ReferencedSchema[];
  /**
   * Where {@link CompiledSchema.validateAsync} sends payloads over `asyncThresholdBytes`.
   * @defaultValue undefined (validated in the caller's thread)
   */
  pool?: AsyncValidator;
  /**
   * Payloads larger than this (bytes) are validated by `pool` in `validateAsync`.
   * @defaultValue 65536 (64 KiB)
   */
  asyncThresholdBytes?: number;
}

/** A schema ready to check payloads; build it once per schema version and reuse it. */
export interface CompiledSchema {
  /** The schema language. */
  readonly type: SchemaType;
  /** The fully qualified message type (protobuf) or the full name of a named Avro type. */
  readonly messageType: string | undefined;
  /** Checks a payload; on success also returns the decoded value (JSON form). Never throws. */
  validate(payload: Uint8Array): ValidationResult;
  /**
   * Like {@link validate}, but a payload over `asyncThresholdBytes` is validated by the worker
   * pool given to {@link loadSchema}, so a huge message never holds the caller's event loop.
   * A payload the pool gives up on (over its time budget) is invalid, with one issue of keyword
   * `limit`; when the pool cannot take the job it rejects with `SCHEMA_UNAVAILABLE` (retriable).
   */
  validateAsync(payload: Uint8Array): Promise<ValidationResult>;
  /** Decodes a payload to a plain JSON-able value; throws {@link SchemaValidationError} when it does not match. */
  decode(payload: Uint8Array): unknown;
  /** Encodes a value (JSON form) to payload bytes; throws {@link SchemaValidationError} when it does not match. */
  encode(value: unknown): Uint8Array;
}

/** One way a new schema version breaks the compatibility mode. */
export interface BreakingChange {
  /** Where: a JSON Pointer into the schema (JSON), a message/field name (protobuf), a type/field path (Avro). */
  path: string;
  /** A stable rule id, e.g. `json.required-added`; see {@link COMPATIBILITY_RULES}. */
  rule: string;
  /** What changed, in words. */
  message: string;
  /**
   * When several earlier versions were checked: the position (0 = first given) of the version
   * this change breaks against.
   */
  against?: number;
}

/** One structural difference between two schema versions, as {@link diffSchemas} reports it. */
export interface SchemaChange {
  /** Where, as in {@link BreakingChange.path}. */
  path: string;
  /** The rule id it triggers (see {@link COMPATIBILITY_RULES}). */
  rule: string;
  /** What changed, in words. */
  message: string;
  /** The modes under which this change is refused (empty when it breaks none). */
  breaks: CanonicalCompatibilityMode[];
}
