/** The parts of an OpenAPI document the docs page reads. */
export interface OpenApiDocument {
  info?: { title?: string; description?: string };
  paths?: Record<string, Record<string, { summary?: string; tags?: string[]; security?: unknown[]; description?: string }>>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** `code spans` of a summary become <code>. */
const inline = (s: string) => esc(s).replace(/`([^`]+)`/g, "<code>$1</code>");

/**
 * The API as one self-contained HTML page, rendered from the OpenAPI document: every route by
 * tag, with its method, path, summary and whether it needs a user. No script, no external asset:
 * it works offline and behind any firewall.
 */
export function docsPage(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? "other";
      const open = Array.isArray(op.security) && op.security.length === 0;
      const row =
        `<tr><td class="m ${esc(method)}">${esc(method.toUpperCase())}</td><td><code>${esc(path)}</code></td>` +
        `<td>${inline(op.summary ?? "")}</td><td>${open ? "open" : "basic auth"}</td></tr>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), row]);
    }
  }
  const sections = [...byTag]
    .map(
      ([tag, rows]) => `<h2>${esc(tag)}</h2><table><tr><th>method</th><th>path</th><th>what</th><th>auth</th></tr>${rows.join("")}</table>`,
    )
    .join("\n");
  const title = esc(doc.info?.title ?? "API");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
code{font:13px ui-monospace,monospace}.m{font:600 12px ui-monospace,monospace}.get{color:#1a7f37}.post{color:#0550ae}
.put,.patch{color:#9a6700}.delete{color:#cf222e}
</style></head><body>
<h1>${title}</h1>
<p>${inline(doc.info?.description ?? "")}</p>
<p>The machine-readable document: <a href="openapi.json"><code>openapi.json</code></a> (OpenAPI 3.1).</p>
${sections}
</body></html>
`;
}
