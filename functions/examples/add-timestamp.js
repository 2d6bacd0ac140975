// Stamps each message with the time it passed through the gateway: a header on every message,
// and a field on object payloads. inputs.field names the payload field (default "receivedAt").
export default function addTimestamp(message, context) {
  const now = new Date().toISOString();
  message.headers["x-received-at"] = now;
  const payload = message.payload;
  if (payload !== null && typeof payload === "object" && !(payload instanceof Uint8Array) && !Array.isArray(payload)) {
    payload[context.inputs.field || "receivedAt"] = now;
  }
  return message;
}
