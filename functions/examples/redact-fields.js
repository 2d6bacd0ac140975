// Masks personal data: every field named in inputs.fields (comma-separated, e.g. "email,ssn"),
// at any depth of the JSON payload, is replaced by inputs.mask (default "***"). The payload is
// read with message.json(), so JSON text on a schemaless station is redacted too (and published
// as JSON).
export default function redactFields(message, context) {
  const fields = new Set(
    (context.inputs.fields || "")
      .split(",")
      .map((f) => f.trim())
      .filter((f) => f !== ""),
  );
  const mask = context.inputs.mask ?? "***";
  const redact = (value) => {
    if (Array.isArray(value)) return value.map(redact);
    if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
    const out = {};
    for (const [key, v] of Object.entries(value)) out[key] = fields.has(key) ? mask : redact(v);
    return out;
  };
  return { payload: redact(message.json()), headers: message.headers };
}
