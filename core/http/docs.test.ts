import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../protocol/index.js";
import { createHttpServer } from "./server.js";
import { HTTP_STATUS } from "./status.js";

const page = readFileSync(resolve(import.meta.dirname, "../../docs/http.md"), "utf8");

describe("docs/http.md", () => {
  it("gives every error code an HTTP status, the same as the table in the code", () => {
    const documented = new Map([...page.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|$/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(Object.keys(HTTP_STATUS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, status] of documented) expect(status, code).toBe(HTTP_STATUS[code as keyof typeof HTTP_STATUS]);
    for (const status of Object.values(HTTP_STATUS)) expect(status >= 400 && status <= 599).toBe(true);
  });

  it("names every route of the API", async () => {
    const server = await createHttpServer({ ready: () => true });
    try {
      await server.app.ready();
      const api = server.routes().filter((r) => r.url.startsWith("/v1") && !r.hidden);
      expect(api.length).toBeGreaterThan(30);
      for (const r of api) {
        const path = r.url.replace(/:([a-zA-Z]+)/g, "{$1}");
        expect(page, `${r.method} ${path}`).toMatch(new RegExp(`${r.method} ${path.replace(/[{}?.*+]/g, "\\$&")}(?![\\w/{-])`));
      }
    } finally {
      await server.app.close();
    }
  });
});
