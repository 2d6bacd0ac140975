/** A compatibility rule: its stable id and what it catches. */
export interface CompatibilityRule {
  /** Stable id, as found in {@link BreakingChange.rule}. */
  readonly id: string;
  /** The modes in which it is checked. */
  readonly modes: readonly ("backward" | "forward" | "full")[];
  /** What the rule catches. */
  readonly description: string;
}

const B = ["backward", "full"] as const;
const F = ["forward", "full"] as const;
const ALL = ["backward", "forward", "full"] as const;

/** Every rule {@link checkCompatibility} applies (`none` applies none). */
export const COMPATIBILITY_RULES: readonly CompatibilityRule[] = [
  { id: "schema.type-changed", modes: ALL, description: "the schema language changed (JSON Schema ↔ Protobuf)" },
  {
    id: "json.type-narrowed",
    modes: B,
    description: "a type the old schema allowed is no longer allowed (string|null → string, number → integer, a schema of `false`)",
  },
  { id: "json.type-widened", modes: F, description: "the new schema allows a type the old one rejected" },
  { id: "json.required-added", modes: B, description: "a property became required and has no `default`" },
  { id: "json.required-removed", modes: F, description: "a required property (without `default`) is no longer required" },
  { id: "json.enum-value-removed", modes: B, description: "an `enum`/`const` value was removed, or an enum was added" },
  { id: "json.enum-value-added", modes: F, description: "an `enum` value was added, or the enum was removed" },
  { id: "json.additional-properties-closed", modes: B, description: "`additionalProperties: false` was added" },
  { id: "json.additional-properties-opened", modes: F, description: "`additionalProperties: false` was removed" },
  {
    id: "json.property-removed",
    modes: B,
    description: "a declared property was removed from a closed object (`additionalProperties: false`)",
  },
  {
    id: "json.property-added",
    modes: F,
    description: "a property was added that the old closed object (`additionalProperties: false`) rejects",
  },
  { id: "json.limit-tightened", modes: B, description: "a min*/max*/multipleOf/uniqueItems limit became stricter or was added" },
  { id: "json.limit-relaxed", modes: F, description: "a min*/max*/multipleOf/uniqueItems limit became looser or was removed" },
  { id: "json.pattern-changed", modes: ALL, description: "`pattern` changed (regular languages are not compared: any change counts)" },
  { id: "json.format-changed", modes: ALL, description: "`format` changed or was added" },
  {
    id: "json.unsupported-change",
    modes: ALL,
    description:
      "a keyword compared as a whole changed (allOf, anyOf, oneOf, not, if/then/else, $ref to another document, patternProperties, contains, propertyNames, dependencies…)",
  },
  { id: "protobuf.message-type-changed", modes: ALL, description: "the payload message type is another one" },
  { id: "protobuf.field-name-changed", modes: ALL, description: "a field number now has another name" },
  { id: "protobuf.field-type-changed", modes: ALL, description: "a field number now has another type (scalar, enum or message type)" },
  { id: "protobuf.field-label-changed", modes: ALL, description: "a field changed between singular, repeated and map" },
  { id: "protobuf.field-oneof-changed", modes: ALL, description: "a field moved into, out of or between oneofs" },
  { id: "protobuf.field-number-not-reserved", modes: ALL, description: "a field was removed without reserving its number" },
  { id: "protobuf.field-name-not-reserved", modes: ALL, description: "a field was removed without reserving its name" },
  { id: "protobuf.reserved-number-reused", modes: ALL, description: "a new field uses a number the old version reserved" },
  { id: "protobuf.reserved-name-reused", modes: ALL, description: "a new field uses a name the old version reserved" },
  { id: "protobuf.enum-value-removed", modes: ALL, description: "an enum value was removed without reserving its number" },
  { id: "protobuf.enum-value-name-changed", modes: ALL, description: "an enum number now has another name" },
];
