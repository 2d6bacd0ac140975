// Keeps only messages whose payload field inputs.field equals inputs.equals (compared as
// strings); the others are dropped. With inputs.mode = "exclude" the matches are dropped instead.
export default function filter(message, context) {
  const { field, equals, mode } = context.inputs;
  if (!field) throw new Error("inputs.field is required");
  const payload = message.payload;
  const value = payload !== null && typeof payload === "object" ? payload[field] : undefined;
  const matches = value !== undefined && value !== null && String(value) === equals;
  const keep = mode === "exclude" ? !matches : matches;
  return keep ? message : null;
}
