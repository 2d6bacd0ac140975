import type { CanonicalCompatibilityMode } from "./types.js";

/**
 * Which way a rule protects: `backward` (readers on the new version read data written with an
 * earlier one), `forward` (readers on an earlier version read data written with the new one), or
 * `both`.
 */
export type RuleDirection = "backward" | "forward" | "both";

/** A compatibility rule: its stable id and what it catches. */
export interface CompatibilityRule {
  /** Stable id, as found in {@link BreakingChange.rule}. */
  readonly id: string;
  /** The schema language it applies to (`schema` rules apply to all). */
  readonly type: "json" | "protobuf" | "avro" | "schema";
  /** Which way it protects. */
  readonly direction: RuleDirection;
  /** The modes under which a change caught by this rule is refused. */
  readonly modes: readonly CanonicalCompatibilityMode[];
  /** What the rule catches. */
  readonly description: string;
}

const MODES: Record<RuleDirection, readonly CanonicalCompatibilityMode[]> = {
  backward: ["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
  forward: ["FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
  both: ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
};

/** The modes that check a direction. */
export function modesOf(direction: RuleDirection): readonly CanonicalCompatibilityMode[] {
  return MODES[direction];
}

const rule = (type: CompatibilityRule["type"], id: string, direction: RuleDirection, description: string): CompatibilityRule =>
  Object.freeze({ id, type, direction, modes: MODES[direction], description });

/** Every rule {@link checkCompatibility} applies (`NONE` applies none). */
export const COMPATIBILITY_RULES: readonly CompatibilityRule[] = Object.freeze([
  rule("schema", "schema.type-changed", "both", "the schema language changed (JSON Schema, Protobuf, Avro)"),
  rule(
    "json",
    "json.type-narrowed",
    "backward",
    "a type the old schema allowed is no longer allowed (string|null → string, number → integer, a schema of `false`)",
  ),
  rule("json", "json.type-widened", "forward", "the new schema allows a type the old one rejected"),
  rule("json", "json.required-added", "backward", "a property became required and has no `default`"),
  rule("json", "json.required-removed", "forward", "a required property (without `default`) is no longer required"),
  rule("json", "json.enum-value-removed", "backward", "an `enum`/`const` value was removed, or an enum was added"),
  rule("json", "json.enum-value-added", "forward", "an `enum` value was added, or the enum was removed"),
  rule("json", "json.additional-properties-closed", "backward", "`additionalProperties: false` was added"),
  rule("json", "json.additional-properties-opened", "forward", "`additionalProperties: false` was removed"),
  rule("json", "json.property-removed", "backward", "a declared property was removed from a closed object (`additionalProperties: false`)"),
  rule("json", "json.property-added", "forward", "a property was added that the old closed object (`additionalProperties: false`) rejects"),
  rule("json", "json.limit-tightened", "backward", "a min*/max*/multipleOf/uniqueItems limit became stricter or was added"),
  rule("json", "json.limit-relaxed", "forward", "a min*/max*/multipleOf/uniqueItems limit became looser or was removed"),
  rule("json", "json.pattern-changed", "both", "`pattern` changed (regular languages are not compared: any change counts)"),
  rule("json", "json.format-changed", "both", "`format` changed or was added"),
  rule(
    "json",
    "json.unsupported-change",
    "both",
    "a keyword compared as a whole changed (allOf, anyOf, oneOf, not, if/then/else, $ref to another document, patternProperties, contains, propertyNames, dependencies…)",
  ),
  rule("protobuf", "protobuf.message-type-changed", "both", "the payload message type is another one"),
  rule("protobuf", "protobuf.field-name-changed", "both", "a field number now has another name"),
  rule("protobuf", "protobuf.field-type-changed", "both", "a field number now has another type (scalar, enum or message type)"),
  rule("protobuf", "protobuf.field-label-changed", "both", "a field changed between singular, repeated and map"),
  rule("protobuf", "protobuf.field-oneof-changed", "both", "a field moved into, out of or between oneofs"),
  rule("protobuf", "protobuf.field-number-not-reserved", "both", "a field was removed without reserving its number"),
  rule("protobuf", "protobuf.field-name-not-reserved", "both", "a field was removed without reserving its name"),
  rule("protobuf", "protobuf.reserved-number-reused", "both", "a new field uses a number the old version reserved"),
  rule("protobuf", "protobuf.reserved-name-reused", "both", "a new field uses a name the old version reserved"),
  rule("protobuf", "protobuf.enum-value-removed", "both", "an enum value was removed without reserving its number"),
  rule("protobuf", "protobuf.enum-value-name-changed", "both", "an enum number now has another name"),
  rule("avro", "avro.type-changed", "both", "a value's type changed to one Avro cannot resolve either way (string → int, record → enum…)"),
  rule(
    "avro",
    "avro.type-narrowed",
    "backward",
    "a type changed to one the old data cannot be promoted to (long → int, double → float, string → bytes is fine)",
  ),
  rule("avro", "avro.type-widened", "forward", "a type was promoted (int → long, float → double…): old readers cannot read the new data"),
  rule("avro", "avro.name-changed", "both", "a record, enum or fixed type has another full name and no alias for the old one"),
  rule("avro", "avro.fixed-size-changed", "both", "a fixed type has another size"),
  rule("avro", "avro.field-added-without-default", "backward", "a record field was added without a default: old data lacks it"),
  rule("avro", "avro.field-removed-without-default", "forward", "a record field without a default was removed: old readers need it"),
  rule("avro", "avro.enum-symbol-removed", "backward", "an enum symbol was removed and the enum has no default: old data may carry it"),
  rule("avro", "avro.enum-symbol-added", "forward", "an enum symbol was added and the old enum has no default: old readers cannot read it"),
  rule(
    "avro",
    "avro.union-branch-removed",
    "backward",
    "a union branch was removed (or a type became a union without it): old data may use it",
  ),
  rule("avro", "avro.union-branch-added", "forward", "a union branch was added: old readers cannot read data that uses it"),
]);
