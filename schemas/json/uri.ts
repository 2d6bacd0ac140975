// URI references as JSON Schema uses them ($id, $ref, $schema): RFC 3986 parsing and resolution.
// WHATWG URL is not used on purpose: it rewrites special schemes (host case, default ports,
// backslashes) and cannot resolve against opaque bases such as URNs the way RFC 3986 does.

interface UriParts {
  scheme: string | undefined;
  authority: string | undefined;
  path: string;
  query: string | undefined;
  fragment: string | undefined;
}

const URI_RE = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;

function parse(uri: string): UriParts {
  const m = URI_RE.exec(uri) as RegExpExecArray; // every string matches: all parts are optional
  return { scheme: m[1], authority: m[2], path: m[3] ?? "", query: m[4], fragment: m[5] };
}

function format(p: UriParts): string {
  let out = "";
  if (p.scheme !== undefined) out += `${p.scheme}:`;
  if (p.authority !== undefined) out += `//${p.authority}`;
  out += p.path;
  if (p.query !== undefined) out += `?${p.query}`;
  if (p.fragment !== undefined) out += `#${p.fragment}`;
  return out;
}

// RFC 3986 §5.2.4
function removeDotSegments(path: string): string {
  const out: string[] = [];
  let input = path;
  while (input.length > 0) {
    if (input.startsWith("../")) input = input.slice(3);
    else if (input.startsWith("./")) input = input.slice(2);
    else if (input.startsWith("/./")) input = input.slice(2);
    else if (input === "/.") input = "/";
    else if (input.startsWith("/../")) {
      input = input.slice(3);
      out.pop();
    } else if (input === "/..") {
      input = "/";
      out.pop();
    } else if (input === "." || input === "..") input = "";
    else {
      const next = input.indexOf("/", input.startsWith("/") ? 1 : 0);
      const seg = next < 0 ? input : input.slice(0, next);
      out.push(seg);
      input = next < 0 ? "" : input.slice(next);
    }
  }
  return out.join("");
}

// RFC 3986 §5.2.3
function merge(base: UriParts, ref: string): string {
  if (base.authority !== undefined && base.path === "") return `/${ref}`;
  const i = base.path.lastIndexOf("/");
  return i < 0 ? ref : base.path.slice(0, i + 1) + ref;
}

/** Resolves a URI reference against a base URI (RFC 3986 §5.2.2, strict). */
export function resolveUri(base: string, reference: string): string {
  const r = parse(reference);
  const b = parse(base);
  let t: UriParts;
  if (r.scheme !== undefined) {
    t = { ...r, path: removeDotSegments(r.path) };
  } else if (r.authority !== undefined) {
    t = { ...r, scheme: b.scheme, path: removeDotSegments(r.path) };
  } else if (r.path === "") {
    t = { scheme: b.scheme, authority: b.authority, path: b.path, query: r.query ?? b.query, fragment: r.fragment };
  } else {
    const path = r.path.startsWith("/") ? removeDotSegments(r.path) : removeDotSegments(merge(b, r.path));
    t = { scheme: b.scheme, authority: b.authority, path, query: r.query, fragment: r.fragment };
  }
  return format(t);
}

/** Splits a URI into the part before `#` and the fragment (`""` when there is none). */
export function splitFragment(uri: string): [string, string] {
  const i = uri.indexOf("#");
  return i < 0 ? [uri, ""] : [uri.slice(0, i), uri.slice(i + 1)];
}

/** The URI without its fragment. */
export function withoutFragment(uri: string): string {
  return splitFragment(uri)[0];
}

/** Whether the reference has a scheme (is an absolute URI, possibly with a fragment). */
export function hasScheme(uri: string): boolean {
  return parse(uri).scheme !== undefined;
}

/** Decodes a fragment that is a JSON Pointer (`/a/b%20c`) into its unescaped segments. */
export function pointerSegments(fragment: string): string[] | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(fragment);
  } catch {
    return undefined;
  }
  if (decoded === "") return [];
  if (!decoded.startsWith("/")) return undefined;
  return decoded
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}
