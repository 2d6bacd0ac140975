// Merges the attachment's inputs into the payload, e.g. inputs { region: "eu", tier: "gold" }.
// Fields already in the payload win unless inputs.overwrite is "true" (that key itself is not copied).
export default function enrichFromInputs(message, context) {
  const { overwrite, ...extra } = context.inputs;
  const payload = message.payload;
  if (payload === null || typeof payload !== "object" || Array.isArray(payload) || payload instanceof Uint8Array) {
    return message;
  }
  message.payload = overwrite === "true" ? { ...payload, ...extra } : { ...extra, ...payload };
  return message;
}
