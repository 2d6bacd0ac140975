// Merges the attachment's inputs into a JSON object payload, e.g. inputs { region: "eu", tier: "gold" }.
// Fields already in the payload win unless inputs.overwrite is "true" (that key itself is not copied).
// Other payloads pass unchanged.
export default function enrichFromInputs(message, context) {
  const { overwrite, ...extra } = context.inputs;
  if (message.payload instanceof Uint8Array) return message;
  const data = message.json();
  if (data === null || typeof data !== "object" || Array.isArray(data)) return message;
  message.payload = overwrite === "true" ? { ...data, ...extra } : { ...extra, ...data };
  return message;
}
