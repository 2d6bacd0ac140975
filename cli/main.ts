#!/usr/bin/env -S node --no-node-snapshot
import { buildProgram } from "./program.js";
import { processIo, reportError } from "./output.js";

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  const e = err as { code?: string; exitCode?: number };
  if (e.code === "commander.helpDisplayed" || e.code === "commander.version") process.exitCode = 0;
  else process.exitCode = e.code?.startsWith("commander.") ? (e.exitCode ?? 2) : reportError(processIo, err);
}
