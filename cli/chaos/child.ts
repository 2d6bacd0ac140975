/**
 * The child processes of a chaos run, one entry for both kinds:
 *   `child gateway <junction gateway flags>` runs the real `junction gateway` command;
 *   `child member` runs a consumer group member (its settings in JN_CHAOS_MEMBER).
 * Both end when the runner goes away (its IPC channel closes), so a runner that dies leaves no
 * process behind.
 */
import { runMember, type MemberCommand, type MemberConfig, type MemberReport } from "./member.js";

const role = process.argv[2];

/** Resolves once the report has been written to the IPC channel. */
const send = (r: MemberReport) =>
  new Promise<void>((resolve, reject) => {
    if (!process.send) return reject(new Error("no IPC channel to the runner"));
    process.send(r, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve()));
  });

if (role === "gateway") {
  process.once("disconnect", () => {
    // The runner is gone: drain like on SIGTERM, and do not outlive the drain by much.
    process.kill(process.pid, "SIGTERM");
    setTimeout(() => process.exit(1), 15_000).unref();
  });
  const { buildProgram } = await import("../program.js");
  const { processIo, reportError } = await import("../output.js");
  try {
    await buildProgram().parseAsync([process.execPath, "junction", "gateway", ...process.argv.slice(3)]);
    process.exit(0);
  } catch (err) {
    process.exit(reportError(processIo, err));
  }
} else if (role === "member") {
  process.once("disconnect", () => process.exit(1));
  const config = JSON.parse(process.env["JN_CHAOS_MEMBER"] ?? "{}") as MemberConfig;
  try {
    const code = await runMember(config, send, { on: (cb) => process.on("message", (m) => cb(m as MemberCommand)) });
    process.exit(code);
  } catch (err) {
    process.stderr.write(`member ${config.name}: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  }
} else {
  process.stderr.write(`usage: child gateway <flags> | child member (got ${String(role)})\n`);
  process.exit(2);
}
