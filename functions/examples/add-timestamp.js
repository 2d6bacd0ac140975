// Stamps each message with the time it passed through the gateway: a header on every message,
// and a field on JSON object payloads. inputs.field names the payload field (default
// "receivedAt"). message.json() reads the payload as JSON data on any station (on a schemaless
// one it parses the text); binary payloads and text that is not JSON get the header only.
export default function addTimestamp(message, context) {
  const now = new Date().toISOString();
  message.headers["x-received-at"] = now;
  if (message.payload instanceof Uint8Array) return message;
  let data;
  try {
    data = message.json();
  } catch {
    return message;
  }
  if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    data[context.inputs.field || "receivedAt"] = now;
    message.payload = data;
  }
  return message;
}
