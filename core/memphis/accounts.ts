import { MEMPHIS_IMPORTS, memphisAccount } from "./names.js";

const q = (s: string) => JSON.stringify(s);

/**
 * The nats-server configuration of the Memphis accounts (config mode): the exports the internal
 * account adds for them, and one account per Memphis user with its imports. The accounts hold
 * no users and no JetStream: the gateway's auth callout places Memphis SDK connections in them.
 */
export function renderMemphisAccounts(internalAccount: string, users: readonly string[]): { exports: string[]; accounts: string[] } {
  const exports = MEMPHIS_IMPORTS.filter((i) => !i.alreadyExported).map((i) =>
    i.kind === "stream" ? `      { stream: ${q(i.remote)} }` : `      { service: ${q(i.remote)} }`,
  );
  const imports = MEMPHIS_IMPORTS.map((i) =>
    i.kind === "stream"
      ? `      { stream: { account: ${internalAccount}, subject: ${q(i.remote)} }, to: ${q(i.local)} }`
      : `      { service: { account: ${internalAccount}, subject: ${q(i.remote)} }, to: ${q(i.local)}${i.share ? ", share: true" : ""} }`,
  );
  return { exports, accounts: users.flatMap((u) => [`  ${q(memphisAccount(u))}: {`, "    imports: [", ...imports, "    ]", "  }"]) };
}
