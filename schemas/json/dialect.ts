import { createRequire } from "node:module";
import { withoutFragment } from "./uri.js";

/** The JSON Schema drafts Junction validates. */
export const JSON_DIALECTS = ["draft-04", "draft-06", "draft-07", "2019-09", "2020-12"] as const;

/** A JSON Schema draft. */
export type JsonDialect = (typeof JSON_DIALECTS)[number];

/** The dialect of a schema without `$schema` (stored schemas were prepared with it, so it stays). */
export const DEFAULT_JSON_DIALECT: JsonDialect = "draft-07";

/** The canonical `$schema` URI of each dialect. */
export const DIALECT_URIS: Readonly<Record<JsonDialect, string>> = {
  "draft-04": "http://json-schema.org/draft-04/schema#",
  "draft-06": "http://json-schema.org/draft-06/schema#",
  "draft-07": "http://json-schema.org/draft-07/schema#",
  "2019-09": "https://json-schema.org/draft/2019-09/schema",
  "2020-12": "https://json-schema.org/draft/2020-12/schema",
};

const BY_URI = new Map<string, JsonDialect>();
for (const d of JSON_DIALECTS) {
  const base = withoutFragment(DIALECT_URIS[d]);
  const other = base.startsWith("https:") ? `http:${base.slice(6)}` : `https:${base.slice(5)}`;
  for (const u of [base, other]) {
    BY_URI.set(u, d);
    BY_URI.set(`${u}#`, d);
  }
}

/** The standard dialect a `$schema` URI names (http or https, with or without `#`), if any. */
export function standardDialect(uri: string): JsonDialect | undefined {
  return BY_URI.get(uri);
}

const V19 = "https://json-schema.org/draft/2019-09/vocab/";
const V20 = "https://json-schema.org/draft/2020-12/vocab/";

const META_DATA = ["title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples"];
const CONTENT = ["contentEncoding", "contentMediaType", "contentSchema"];
const VALIDATION_2019 = [
  "multipleOf",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "maxContains",
  "minContains",
  "maxProperties",
  "minProperties",
  "required",
  "dependentRequired",
  "const",
  "enum",
  "type",
];
// `dependencies` is kept beside its 2019-09 replacements: the 2019-09 and 2020-12 meta-schemas
// still describe it, and people who write it expect it to apply.
const APPLICATOR_COMMON = [
  "contains",
  "additionalProperties",
  "properties",
  "patternProperties",
  "dependentSchemas",
  "dependencies",
  "propertyNames",
  "if",
  "then",
  "else",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
];

/** Keywords of each known vocabulary (the core vocabulary is always on and not listed). */
export const VOCABULARIES: Readonly<Record<string, readonly string[]>> = {
  [`${V19}core`]: [],
  [`${V19}applicator`]: [...APPLICATOR_COMMON, "additionalItems", "items", "unevaluatedItems", "unevaluatedProperties"],
  [`${V19}validation`]: VALIDATION_2019,
  [`${V19}meta-data`]: META_DATA,
  [`${V19}format`]: ["format"],
  [`${V19}content`]: CONTENT,
  [`${V20}core`]: [],
  [`${V20}applicator`]: [...APPLICATOR_COMMON, "prefixItems", "items"],
  [`${V20}unevaluated`]: ["unevaluatedItems", "unevaluatedProperties"],
  [`${V20}validation`]: VALIDATION_2019,
  [`${V20}meta-data`]: META_DATA,
  [`${V20}format-annotation`]: ["format"],
  [`${V20}format-assertion`]: ["format"],
  [`${V20}content`]: CONTENT,
};

/** The vocabulary that makes `format` an assertion whatever the schema's options say. */
export const FORMAT_ASSERTION_VOCABULARY = `${V20}format-assertion`;

const LEGACY_04 = [
  "type",
  "enum",
  "multipleOf",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "items",
  "additionalItems",
  "maxItems",
  "minItems",
  "uniqueItems",
  "maxProperties",
  "minProperties",
  "required",
  "properties",
  "patternProperties",
  "additionalProperties",
  "dependencies",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
  "format",
  "title",
  "description",
  "default",
];
const LEGACY_06 = [...LEGACY_04, "const", "contains", "propertyNames", "examples"];
const LEGACY_07 = [...LEGACY_06, "if", "then", "else", "readOnly", "writeOnly", "contentEncoding", "contentMediaType"];

/** Which keywords apply in a schema resource. */
export interface Vocabulary {
  /** The draft whose rules apply ($ref siblings, `items` forms, identifiers…). */
  readonly dialect: JsonDialect;
  /** The keywords that apply (core keywords — `$ref`, `$id`… — always do). */
  readonly keywords: ReadonlySet<string>;
  /** True when the format-assertion vocabulary is on: `format` asserts whatever the options say. */
  readonly formatAssertion: boolean;
}

const standardVocabularies = new Map<JsonDialect, Vocabulary>();

/** The vocabulary of a standard dialect. */
export function standardVocabulary(dialect: JsonDialect): Vocabulary {
  let v = standardVocabularies.get(dialect);
  if (v !== undefined) return v;
  let keywords: readonly string[];
  switch (dialect) {
    case "draft-04":
      keywords = LEGACY_04;
      break;
    case "draft-06":
      keywords = LEGACY_06;
      break;
    case "draft-07":
      keywords = LEGACY_07;
      break;
    case "2019-09":
      keywords = Object.entries(VOCABULARIES)
        .filter(([k]) => k.startsWith(V19))
        .flatMap(([, v]) => v);
      break;
    case "2020-12":
      keywords = Object.entries(VOCABULARIES)
        .filter(([k]) => k.startsWith(V20) && k !== FORMAT_ASSERTION_VOCABULARY)
        .flatMap(([, v]) => v);
      break;
  }
  v = { dialect, keywords: new Set(keywords), formatAssertion: false };
  standardVocabularies.set(dialect, v);
  return v;
}

/**
 * The vocabulary a custom meta-schema declares with `$vocabulary` on top of `dialect` (the draft
 * of the meta-schema itself). Throws the URI of a required vocabulary that is not known.
 */
export function customVocabulary(dialect: JsonDialect, declared: Record<string, unknown>): Vocabulary | { unknownRequired: string } {
  const keywords = new Set<string>();
  let formatAssertion = false;
  for (const [uri, required] of Object.entries(declared)) {
    const words = VOCABULARIES[uri];
    if (words === undefined) {
      if (required === true) return { unknownRequired: uri };
      continue;
    }
    for (const w of words) keywords.add(w);
    if (uri === FORMAT_ASSERTION_VOCABULARY) formatAssertion = true;
  }
  return { dialect, keywords, formatAssertion };
}

/** Whether the draft uses `id` (draft-04) rather than `$id`. */
export const idKeyword = (d: JsonDialect): "id" | "$id" => (d === "draft-04" ? "id" : "$id");

/** Whether `$ref` makes its sibling keywords ignored (draft-07 and before). */
export const refOverridesSiblings = (d: JsonDialect): boolean => d === "draft-04" || d === "draft-06" || d === "draft-07";

const require = createRequire(import.meta.url);
const ajvRef = (path: string): unknown => require(`ajv/dist/refs/${path}`);

// The draft-04 meta-schema (ajv 8 no longer ships it).
const DRAFT_04 = {
  id: "http://json-schema.org/draft-04/schema#",
  $schema: "http://json-schema.org/draft-04/schema#",
  description: "Core schema meta-schema",
  definitions: {
    schemaArray: { type: "array", minItems: 1, items: { $ref: "#" } },
    positiveInteger: { type: "integer", minimum: 0 },
    positiveIntegerDefault0: { allOf: [{ $ref: "#/definitions/positiveInteger" }, { default: 0 }] },
    simpleTypes: { enum: ["array", "boolean", "integer", "null", "number", "object", "string"] },
    stringArray: { type: "array", items: { type: "string" }, minItems: 1, uniqueItems: true },
  },
  type: "object",
  properties: {
    id: { type: "string" },
    $schema: { type: "string" },
    title: { type: "string" },
    description: { type: "string" },
    default: {},
    multipleOf: { type: "number", minimum: 0, exclusiveMinimum: true },
    maximum: { type: "number" },
    exclusiveMaximum: { type: "boolean", default: false },
    minimum: { type: "number" },
    exclusiveMinimum: { type: "boolean", default: false },
    maxLength: { $ref: "#/definitions/positiveInteger" },
    minLength: { $ref: "#/definitions/positiveIntegerDefault0" },
    pattern: { type: "string", format: "regex" },
    additionalItems: { anyOf: [{ type: "boolean" }, { $ref: "#" }], default: {} },
    items: { anyOf: [{ $ref: "#" }, { $ref: "#/definitions/schemaArray" }], default: {} },
    maxItems: { $ref: "#/definitions/positiveInteger" },
    minItems: { $ref: "#/definitions/positiveIntegerDefault0" },
    uniqueItems: { type: "boolean", default: false },
    maxProperties: { $ref: "#/definitions/positiveInteger" },
    minProperties: { $ref: "#/definitions/positiveIntegerDefault0" },
    required: { $ref: "#/definitions/stringArray" },
    additionalProperties: { anyOf: [{ type: "boolean" }, { $ref: "#" }], default: {} },
    definitions: { type: "object", additionalProperties: { $ref: "#" }, default: {} },
    properties: { type: "object", additionalProperties: { $ref: "#" }, default: {} },
    patternProperties: { type: "object", additionalProperties: { $ref: "#" }, default: {} },
    dependencies: { type: "object", additionalProperties: { anyOf: [{ $ref: "#" }, { $ref: "#/definitions/stringArray" }] } },
    enum: { type: "array", minItems: 1, uniqueItems: true },
    type: {
      anyOf: [
        { $ref: "#/definitions/simpleTypes" },
        { type: "array", items: { $ref: "#/definitions/simpleTypes" }, minItems: 1, uniqueItems: true },
      ],
    },
    format: { type: "string" },
    allOf: { $ref: "#/definitions/schemaArray" },
    anyOf: { $ref: "#/definitions/schemaArray" },
    oneOf: { $ref: "#/definitions/schemaArray" },
    not: { $ref: "#" },
  },
  dependencies: { exclusiveMaximum: ["maximum"], exclusiveMinimum: ["minimum"] },
  default: {},
};

// Not shipped by ajv either; the optional format-assertion vocabulary of 2020-12.
const FORMAT_ASSERTION_2020 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://json-schema.org/draft/2020-12/meta/format-assertion",
  $vocabulary: { [FORMAT_ASSERTION_VOCABULARY]: true },
  $dynamicAnchor: "meta",
  title: "Format vocabulary meta-schema for assertion results",
  type: ["object", "boolean"],
  properties: { format: { type: "string" } },
};

/**
 * ajv's copies of the draft-06 and draft-07 meta-schemas keep draft-04's `minItems: 1` and
 * `uniqueItems: true` on `enum`; the published ones dropped both (the specification says SHOULD),
 * so an empty enum is a legal schema there.
 */
function officialEnum(meta: unknown): unknown {
  const copy = structuredClone(meta) as { properties: { enum: Record<string, unknown> } };
  delete copy.properties.enum.minItems;
  delete copy.properties.enum.uniqueItems;
  return copy;
}

let builtIns: Map<string, unknown> | undefined;

/**
 * The standard meta-schemas, by URI without fragment (every schema may `$ref` them; they never
 * come from the network). Loaded on first use.
 */
export function builtInDocuments(): ReadonlyMap<string, unknown> {
  if (builtIns !== undefined) return builtIns;
  const docs = new Map<string, unknown>();
  docs.set("http://json-schema.org/draft-04/schema", DRAFT_04);
  docs.set("http://json-schema.org/draft-06/schema", officialEnum(ajvRef("json-schema-draft-06.json")));
  docs.set("http://json-schema.org/draft-07/schema", officialEnum(ajvRef("json-schema-draft-07.json")));
  docs.set("https://json-schema.org/draft/2019-09/schema", ajvRef("json-schema-2019-09/schema.json"));
  for (const m of ["core", "applicator", "validation", "meta-data", "format", "content"]) {
    docs.set(`https://json-schema.org/draft/2019-09/meta/${m}`, ajvRef(`json-schema-2019-09/meta/${m}.json`));
  }
  docs.set("https://json-schema.org/draft/2020-12/schema", ajvRef("json-schema-2020-12/schema.json"));
  for (const m of ["core", "applicator", "unevaluated", "validation", "meta-data", "format-annotation", "content"]) {
    docs.set(`https://json-schema.org/draft/2020-12/meta/${m}`, ajvRef(`json-schema-2020-12/meta/${m}.json`));
  }
  docs.set("https://json-schema.org/draft/2020-12/meta/format-assertion", FORMAT_ASSERTION_2020);
  builtIns = docs;
  return docs;
}
