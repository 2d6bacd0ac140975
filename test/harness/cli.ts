import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildProgram } from "../../cli/program.js";
import { reportError, type Io } from "../../cli/output.js";
import { connect, type ConnectOptions } from "../../sdk/index.js";
import type { TestBroker } from "./index.js";

/** What a `junction` run printed, and its exit code. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/**
 * `junction <args>` run in-process against a test broker as its admin (the password in a file,
 * as an operator passes it); `onConnect` counts the connections the CLI opens.
 */
export async function adminCli(broker: TestBroker, o: { onConnect?: () => void } = {}): Promise<(...args: string[]) => Promise<CliResult>> {
  const passwordFile = join(broker.dir, `admin-${Math.random().toString(36).slice(2)}.pw`);
  await writeFile(passwordFile, broker.users.admin.password + "\n", { mode: 0o600 });
  return async (...args) => {
    let out = "";
    let err = "";
    const io: Io = {
      out: (s) => void (out += s),
      err: (s) => void (err += s),
      isTTY: false,
      env: {},
      connect: (c: ConnectOptions) => {
        o.onConnect?.();
        return connect(c);
      },
    };
    const conn = ["--url", broker.url, "--user", broker.users.admin.user, "--password-file", passwordFile];
    let code = 0;
    try {
      await buildProgram(io).parseAsync(["node", "junction", ...conn, ...args]);
    } catch (e) {
      const c = (e as { code?: string; exitCode?: number }).code;
      code = c?.startsWith("commander.") ? ((e as { exitCode?: number }).exitCode ?? 2) : reportError(io, e);
    }
    return { code, out, err };
  };
}
