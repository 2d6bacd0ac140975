import { JunctionError, type ApiReply } from "../core/protocol/index.js";

const dec = new TextDecoder();

/** Decodes an `{ok, data | error}` reply. */
export function unwrap<T>(data: Uint8Array): T {
  let reply: ApiReply<T>;
  try {
    reply = JSON.parse(dec.decode(data)) as ApiReply<T>;
  } catch (err) {
    throw new JunctionError("INVALID_FRAME", "the gateway's reply is not JSON", { cause: err });
  }
  if (!reply.ok) throw JunctionError.fromBody(reply.error);
  return reply.data;
}
