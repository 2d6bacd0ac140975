// Keeps only messages whose payload field inputs.field equals inputs.equals (compared as
// strings); the others are dropped. With inputs.mode = "exclude" the matches are dropped instead.
// The payload is read with message.json(), so JSON text on a schemaless station works too (a
// payload that is not JSON fails the message).
export default function filter(message, context) {
  const { field, equals, mode } = context.inputs;
  if (!field) throw new Error("inputs.field is required");
  const data = message.json();
  const value = data !== null && typeof data === "object" ? data[field] : undefined;
  const matches = value !== undefined && value !== null && String(value) === equals;
  const keep = mode === "exclude" ? !matches : matches;
  return keep ? message : null;
}
