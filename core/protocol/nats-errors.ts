import { JunctionError, type ErrorCode } from "./errors.js";

/**
 * Maps an error thrown by the NATS client to a {@link JunctionError}, keeping it as `cause`.
 * Works on the error's `name`, `code` and message, so it needs no NATS import.
 */
export function errorFromNats(err: unknown, doing: string): JunctionError {
  if (err instanceof JunctionError) return err;
  const e = err as { name?: string; message?: string; code?: string; cause?: unknown } | undefined;
  const name = e?.name ?? "";
  const msg = e?.message ?? String(err);
  const causeMsg = (e?.cause as { message?: string; code?: string } | undefined) ?? {};
  let code: ErrorCode = "INTERNAL";
  if (name === "AuthorizationError" || /authorization violation|authentication/i.test(msg)) code = "AUTH_FAILED";
  else if (name === "PermissionViolationError" || /permissions violation/i.test(msg)) code = "PERMISSION_DENIED";
  else if (name === "TimeoutError" || /timeout/i.test(msg)) code = "TIMEOUT";
  else if (name === "NoResponders" || (name === "RequestError" && /no responders/i.test(msg))) code = "GATEWAY_UNAVAILABLE";
  else if (name === "ClosedConnectionError" || name === "DrainingConnectionError") code = "CONNECTION_CLOSED";
  else if (
    name === "ConnectionError" ||
    e?.code === "ECONNREFUSED" ||
    causeMsg.code === "ECONNREFUSED" ||
    /ECONNREFUSED|CONNECTION_REFUSED|connection refused|disconnect/i.test(msg)
  )
    code = "NATS_UNAVAILABLE";
  return new JunctionError(code, `${doing}: ${msg}`, { cause: err });
}
