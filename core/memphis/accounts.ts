import { MEMPHIS_ACCOUNT, MEMPHIS_IMPORTS } from "./names.js";

const q = (s: string) => JSON.stringify(s);

/**
 * The nats-server configuration of the Memphis account (config mode): the exports the internal
 * account adds for it, and the account itself with its imports. The account holds no users and
 * no JetStream: the gateway's auth callout places Memphis SDK connections in it.
 */
export function renderMemphisAccount(internalAccount: string): { exports: string[]; account: string[] } {
  const exports = MEMPHIS_IMPORTS.filter((i) => !i.alreadyExported).map((i) =>
    i.kind === "stream" ? `      { stream: ${q(i.remote)} }` : `      { service: ${q(i.remote)} }`,
  );
  const imports = MEMPHIS_IMPORTS.map((i) =>
    i.kind === "stream"
      ? `      { stream: { account: ${internalAccount}, subject: ${q(i.remote)} }, to: ${q(i.local)} }`
      : `      { service: { account: ${internalAccount}, subject: ${q(i.remote)} }, to: ${q(i.local)}${i.share ? ", share: true" : ""} }`,
  );
  return { exports, account: [`  ${MEMPHIS_ACCOUNT}: {`, "    imports: [", ...imports, "    ]", "  }"] };
}
