import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { API_REQUEST_SCHEMAS, JunctionError, type ApiOperation } from "../../protocol/index.js";

/**
 * Validates admin request bodies against {@link API_REQUEST_SCHEMAS} (compiled once, at
 * construction). A bad body is `INVALID_ARGUMENT` saying what was wrong and where.
 */
export class BodyValidator {
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(schemas: Readonly<Record<string, Readonly<Record<string, unknown>>>> = API_REQUEST_SCHEMAS) {
    // strictRequired off: `dls.resend` requires one of two declared fields through oneOf.
    const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false });
    for (const [op, schema] of Object.entries(schemas)) this.#validators.set(op, ajv.compile(schema));
  }

  /** Throws INVALID_ARGUMENT unless `body` fits the operation's schema. */
  check(op: ApiOperation | string, body: unknown): asserts body is Record<string, unknown> {
    const v = this.#validators.get(op);
    if (!v) throw new JunctionError("INVALID_ARGUMENT", `unknown API operation '${op}'`, { details: { operation: op } });
    if (v(body)) return;
    const e = pick(v.errors ?? []);
    const path = e ? pathOf(e) : "";
    throw new JunctionError("INVALID_ARGUMENT", `${op}: ${path ? `'${path}' ` : "the body "}${message(e)}`, {
      details: { operation: op, path, ...(e ? { keyword: e.keyword, params: e.params } : {}) },
    });
  }
}

/** The most useful error: a named unknown field, then a failed choice of forms, else the first. */
function pick(errors: ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => e.keyword === "additionalProperties") ?? errors.find((e) => e.keyword === "oneOf") ?? errors[0];
}

/** The JSON Pointer-ish path of the offending field, as `a.b[0]`. */
function pathOf(e: ErrorObject): string {
  const parts = e.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (e.keyword === "additionalProperties") parts.push(String((e.params as { additionalProperty: string }).additionalProperty));
  if (e.keyword === "required") parts.push(String((e.params as { missingProperty: string }).missingProperty));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}

function message(e: ErrorObject | undefined): string {
  if (!e) return "is invalid";
  switch (e.keyword) {
    case "additionalProperties":
      return "is not a known field";
    case "required":
      return "is required";
    case "oneOf":
      return e.instancePath === ""
        ? "must give exactly one of the alternatives (for example 'id' or 'filter')"
        : "must be one of the allowed forms";
    default:
      return e.message ?? "is invalid";
  }
}
