/**
 * Starts one `junction dev --memphis` for the memphis.js SDK's own specs and hands its Memphis
 * credentials to them (see environment.ts).
 */
import type { TestProject } from "vitest/node";
import { startDevMemphis, type DevMemphis } from "../dev.js";

declare module "vitest" {
  export interface ProvidedContext {
    memphisEnvironment: { username: string; password: string; host: string; port: number; accountId: number };
  }
}

let dev: DevMemphis | undefined;

export async function setup(project: TestProject): Promise<void> {
  dev = await startDevMemphis();
  project.provide("memphisEnvironment", dev.memphis);
}

export async function teardown(): Promise<void> {
  await dev?.stop();
}
