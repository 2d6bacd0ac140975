#!/usr/bin/env -S node --no-node-snapshot
import { runProgram } from "./program.js";
import { processIo } from "./output.js";

process.exitCode = await runProgram(processIo, process.argv);
