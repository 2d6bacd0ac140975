// Fans out a batch-shaped message: each element of payload.items becomes its own message,
// carrying the original headers plus x-split-index and x-split-count. A message without an
// items array passes through unchanged; an empty items array drops it. The payload is read with
// message.json(), so JSON text on a schemaless station is split too.
export default function split(message) {
  const data = message.json();
  const items = data !== null && typeof data === "object" ? data.items : undefined;
  if (!Array.isArray(items)) return message;
  return items.map((item, i) => ({
    payload: item,
    headers: { ...message.headers, "x-split-index": String(i), "x-split-count": String(items.length) },
  }));
}
