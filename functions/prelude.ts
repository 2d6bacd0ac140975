/**
 * The sandbox prelude: a script run once in each isolate's context, before the function's
 * module. It
 *
 * 1. removes what a function must not have (`WebAssembly`, shared memory, finalizers) and
 *    replaces `console` with one that keeps formatted lines for the host;
 * 2. freezes every intrinsic (constructors, prototypes, `JSON`, `Math`…) and the global's own
 *    bindings, so that tampering (`Array.prototype.map = …`, `Object.prototype.x = 1`) fails
 *    instead of leaking into later calls. Properties that ordinary code assigns on instances
 *    (`this.name = …` in an Error subclass, `obj.toString = …`) are turned into accessors whose
 *    setter defines the property on the instance, the way SES tames the "override mistake";
 * 3. returns the batch runner: it builds each message (decoding JSON payloads, adding
 *    `message.json()`), calls the function once per message, sanitizes what comes back into
 *    plain data (checking types, cycles, size and headers), encodes it for the trip back (JSON
 *    text where the payload is JSON data), and reports one outcome per message. It records which
 *    message is running, so that after a call is stopped the host can tell finished messages from
 *    the one that ran out of time.
 *
 * The runner lives in a closure the function cannot reach; it uses only references taken
 * before the function's code ran.
 *
 * Written as plain JavaScript in a string: it is compiled inside the isolate, never by the host.
 * (No backticks or dollar-brace sequences inside.)
 *
 * Input of `run(kinds, text, textLens, binary, headersJson, context)`: one character per message
 * in `kinds` — `J` (the payload's JSON text), `S` (a string payload), `B` (a Uint8Array payload),
 * `V` (any other payload, copied as it is); the texts of the `J` and `S` messages concatenated in
 * `text` with their lengths in `textLens`; the `B` and `V` payloads in `binary`; the headers of
 * all messages as one JSON array. A `J` payload is decoded when the function first reads it; one
 * it returns unread goes back as a reference, tag `R<i>` (the same text as input message i).
 * Output: per message `[0, kind, text]` for a failure, or `[1, tag, data, headers, tag, data,
 * headers, …]` with the same tags for the messages it became; packed for the trip out by take().
 */
export const PRELUDE_SOURCE = String.raw`
(function (options) {
  "use strict";
  const g = globalThis;
  const O = Object;
  const { freeze, isFrozen, getPrototypeOf, getOwnPropertyDescriptor, defineProperty, keys } = O;
  const { apply, ownKeys } = Reflect;
  const isArray = Array.isArray;
  const ObjectPrototype = O.prototype;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;
  const U8 = Uint8Array;
  const typedArrayTag = getOwnPropertyDescriptor(getPrototypeOf(U8.prototype), Symbol.toStringTag).get;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const fromCharCode = String.fromCharCode;
  const stringCharCodeAt = String.prototype.charCodeAt;
  const StringCtor = String;
  const isFiniteNumber = Number.isFinite;
  const promiseResolve = Promise.resolve.bind(Promise);
  const promiseThen = Promise.prototype.then;
  const stringSlice = String.prototype.slice;
  const stringIndexOf = String.prototype.indexOf;
  const arrayJoin = Array.prototype.join;
  const maxOutputBytes = options.maxOutputBytes;
  const maxOutputMessages = options.maxOutputMessages;
  const logCap = options.logCap;
  const filename = options.filename;
  const MAX_LOG_CHARS = 2048;
  const MAX_DEPTH = 100;

  // 1. What a function must not have.
  for (const name of ["WebAssembly", "SharedArrayBuffer", "Atomics", "FinalizationRegistry", "WeakRef"]) {
    delete g[name];
  }

  let logCount = 0;
  // [level, line] pairs since the host last took them.
  let logs = [];
  function hostLog(level, line) { logs[logs.length] = [level, line]; }
  function takeLogs() { const l = logs; logs = []; return l; }
  function formatArg(v) {
    if (typeof v === "string") return v;
    if (v instanceof ErrorCtor) {
      try { return StringCtor(v.stack || (v.name + ": " + v.message)); } catch (e) { return "[error]"; }
    }
    if (v === undefined || typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") {
      try { return StringCtor(v); } catch (e) { return "[" + typeof v + "]"; }
    }
    try {
      const s = stringify(v);
      return s === undefined ? StringCtor(v) : s;
    } catch (e) {
      try { return StringCtor(v); } catch (e2) { return "[object]"; }
    }
  }
  function makeLogger(level) {
    return function () {
      if (logCount > logCap) return;
      logCount++;
      if (logCount > logCap) {
        hostLog(level, "[more console output in this call was dropped]");
        return;
      }
      const parts = [];
      for (let i = 0; i < arguments.length; i++) parts[i] = formatArg(arguments[i]);
      let line = apply(arrayJoin, parts, [" "]);
      if (line.length > MAX_LOG_CHARS) line = apply(stringSlice, line, [0, MAX_LOG_CHARS]) + "…";
      hostLog(level, line);
    };
  }
  const log = makeLogger("log");
  const consoleObject = { log: log, info: log, debug: log, warn: makeLogger("warn"), error: makeLogger("error") };
  defineProperty(g, "console", { value: consoleObject, writable: true, enumerable: false, configurable: true });

  // 2. Freeze the intrinsics.
  const seen = new WeakSet();
  function harden(value) {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return;
    if (seen.has(value)) return;
    seen.add(value);
    const descriptors = O.getOwnPropertyDescriptors(value);
    freeze(value);
    harden(getPrototypeOf(value));
    for (const key of ownKeys(descriptors)) {
      const d = descriptors[key];
      if ("value" in d) harden(d.value);
      else { harden(d.get); harden(d.set); }
    }
  }
  const rootMakers = [
    function () { return [][Symbol.iterator](); },
    function () { return new Map()[Symbol.iterator](); },
    function () { return new Set()[Symbol.iterator](); },
    function () { return ""[Symbol.iterator](); },
    function () { return /a/[Symbol.matchAll](""); },
    function () { return (function* () {})(); },
    function () { return (async function* () {})(); },
    function () { return async function () {}; },
    function () { return getOwnPropertyDescriptor(Function.prototype, "caller"); },
    function () { return [].values().map(function (x) { return x; }); },
    function () { return Iterator.from({ next: function () { return { done: true }; } }); },
    function () { return new Intl.Segmenter().segment(""); },
    function () { return new Intl.Segmenter().segment("")[Symbol.iterator](); },
  ];
  const extraRoots = [];
  for (const make of rootMakers) {
    try { extraRoots.push(make()); } catch (e) { /* not in this V8 */ }
  }
  // Tame the override mistake for properties commonly assigned on instances.
  function tame(proto, key) {
    const d = getOwnPropertyDescriptor(proto, key);
    if (d === undefined || !("value" in d) || !d.configurable) return;
    const value = d.value;
    defineProperty(proto, key, {
      get: function () { return value; },
      set: function (v) {
        if (this === proto) throw new TypeErrorCtor("Cannot assign to read only property '" + StringCtor(key) + "' of a frozen intrinsic");
        defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: d.enumerable,
      configurable: false,
    });
  }
  function tameAll() {
    for (const key of ownKeys(ObjectPrototype)) tame(ObjectPrototype, key);
    const candidates = [];
    for (const name of ownKeys(g)) {
      const d = getOwnPropertyDescriptor(g, name);
      const v = d && d.value;
      if (typeof v === "function" && v.prototype && typeof v.prototype === "object") candidates.push(v.prototype);
    }
    for (const proto of candidates) {
      for (const key of ["constructor", "toString", "valueOf", "toLocaleString", "name", "message"]) tame(proto, key);
    }
  }
  tameAll();
  harden(g);
  for (const root of extraRoots) harden(root);
  for (const name of ownKeys(g)) {
    const d = getOwnPropertyDescriptor(g, name);
    if (d.configurable || d.writable) {
      if ("value" in d) defineProperty(g, name, { value: d.value, writable: false, enumerable: d.enumerable, configurable: false });
      else defineProperty(g, name, { get: d.get, set: d.set, enumerable: d.enumerable, configurable: false });
    }
  }

  // 3. The batch runner.
  let fn = null;
  let outcomes = null;
  let pending = 0;
  // The index of the message whose synchronous part is running (-1 outside the loop), and
  // whether the loop is over (only promise continuations may still run).
  let current = -1;
  let syncDone = false;

  function isBytes(v) {
    try { return apply(typedArrayTag, v, []) === "Uint8Array"; } catch (x) { return false; }
  }
  function parseJson(text) {
    if (text.length > 0 && apply(stringCharCodeAt, text, [0]) === 0xfeff) text = apply(stringSlice, text, [1]);
    return parse(text);
  }
  function decodeUtf8(bytes) {
    const n = bytes.length;
    let i = n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let out = "";
    const units = [];
    while (i < n) {
      const b = bytes[i++];
      let cp = -1;
      if (b < 0x80) cp = b;
      else if (b >= 0xc2 && b < 0xe0) {
        if (i < n && (bytes[i] & 0xc0) === 0x80) cp = ((b & 0x1f) << 6) | (bytes[i++] & 0x3f);
      } else if (b >= 0xe0 && b < 0xf0) {
        if (i + 1 < n && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80) {
          cp = ((b & 0x0f) << 12) | ((bytes[i] & 0x3f) << 6) | (bytes[i + 1] & 0x3f);
          i += 2;
          if (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)) cp = -1;
        }
      } else if (b >= 0xf0 && b < 0xf5) {
        if (i + 2 < n && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
          cp = ((b & 0x07) << 18) | ((bytes[i] & 0x3f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
          i += 3;
          if (cp < 0x10000 || cp > 0x10ffff) cp = -1;
        }
      }
      if (cp < 0) throw new TypeErrorCtor("the payload is not valid UTF-8");
      if (cp >= 0x10000) {
        cp -= 0x10000;
        units[units.length] = 0xd800 + (cp >> 10);
        units[units.length] = 0xdc00 + (cp & 0x3ff);
      } else units[units.length] = cp;
      if (units.length >= 4096) { out += apply(fromCharCode, null, units); units.length = 0; }
    }
    return out + apply(fromCharCode, null, units);
  }

  // message.json(): the payload as JSON data. A JSON payload is already decoded; a string (or
  // UTF-8 bytes) is parsed on each call.
  function messageProto(method) {
    harden(method);
    const proto = {};
    defineProperty(proto, "json", {
      get: function () { return method; },
      set: function (v) {
        if (this === proto) throw new TypeErrorCtor("Cannot assign to read only property 'json' of a message prototype");
        defineProperty(this, "json", { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: false,
      configurable: false,
    });
    harden(proto);
    return proto;
  }
  const JsonMessage = messageProto(function json() { return this.payload; });
  const TextMessage = messageProto(function json() {
    const p = this.payload;
    if (typeof p === "string") return parseJson(p);
    if (isBytes(p)) return parseJson(decodeUtf8(p));
    return p;
  });

  function BadOutput(message) {
    this.message = message;
    this.path = "";
  }
  function bad(message) { return new BadOutput(message); }
  function failure(kind, message) { return [0, kind, message]; }

  function describeThrown(e) {
    try {
      if (e instanceof ErrorCtor) {
        let text = StringCtor(e.name) + ": " + StringCtor(e.message);
        const stack = StringCtor(e.stack);
        const at = apply(stringIndexOf, stack, [filename + ":"]);
        if (at !== -1) {
          const rest = apply(stringSlice, stack, [at + filename.length + 1, at + filename.length + 24]);
          const m = /^(\d+):(\d+)/.exec(rest);
          if (m !== null) text += " (line " + m[1] + ", column " + m[2] + ")";
        }
        return clip(text);
      }
      if (e === undefined) return "threw undefined";
      if (e === null) return "threw null";
      if (typeof e === "string") return clip("threw a string: " + e);
      if (typeof e === "number" || typeof e === "boolean" || typeof e === "bigint") return "threw a " + typeof e + ": " + StringCtor(e);
      if (typeof e === "symbol") return "threw a symbol: " + StringCtor(e.description);
      if (typeof e === "function") return "threw a function";
      let s;
      try { s = stringify(e); } catch (x) { s = undefined; }
      return clip("threw a non-Error value: " + (s === undefined ? "[object]" : s));
    } catch (x) {
      return "threw a value that could not be described";
    }
  }
  function clip(s) { return s.length > MAX_LOG_CHARS ? apply(stringSlice, s, [0, MAX_LOG_CHARS]) + "…" : s; }


  // Checks that v is plain data; budget.bytes counts its size, budget.bin notes nested byte
  // arrays. With copying, returns a fresh copy (each value read once, so what is checked is what
  // is copied); without, returns v itself.
  function sanitize(v, depth, stack, budget, copying) {
    switch (typeof v) {
      case "string":
        budget.bytes += v.length + 2;
        if (budget.bytes > maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
        return v;
      case "number":
        if (!isFiniteNumber(v)) throw bad("is " + StringCtor(v) + ", which is not plain data (only finite numbers)");
        budget.bytes += 8;
        return v;
      case "boolean":
        budget.bytes += 5;
        return v;
      case "bigint":
        throw bad("is a BigInt, which is not plain data (use a string or a number)");
      case "symbol":
        throw bad("is a symbol, which is not plain data");
      case "function":
        throw bad("is a function, which is not plain data");
      case "undefined":
        throw bad("is undefined");
    }
    if (v === null) { budget.bytes += 4; return null; }
    if (depth >= MAX_DEPTH) throw bad("is nested more than " + MAX_DEPTH + " levels deep");
    for (let i = 0; i < depth; i++) if (stack[i] === v) throw bad("is cyclic (refers back to an enclosing object)");
    stack[depth] = v;
    if (isArray(v)) {
      const n = v.length;
      const out = copying ? [] : null;
      budget.bytes += 2;
      for (let i = 0; i < n; i++) {
        const item = v[i];
        let copy;
        try {
          copy = item === undefined ? null : sanitize(item, depth + 1, stack, budget, copying);
        } catch (e) { throw atPath(e, "[" + i + "]"); }
        if (copying) out[i] = copy;
        if (budget.bytes > maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
      }
      return copying ? out : v;
    }
    const proto = getPrototypeOf(v);
    if (proto !== ObjectPrototype && proto !== null) {
      let tag;
      try { tag = apply(typedArrayTag, v, []); } catch (x) { tag = undefined; }
      if (tag !== undefined) {
        if (tag !== "Uint8Array") throw bad("is a " + tag + "; only Uint8Array byte arrays are allowed");
        budget.bytes += v.byteLength;
        if (depth > 0) budget.bin = true;
        if (budget.bytes > maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
        return copying ? new U8(v) : v;
      }
      let name = "object";
      try {
        const c = proto.constructor;
        if (typeof c === "function" && typeof c.name === "string" && c.name !== "") name = c.name;
      } catch (x) { /* keep "object" */ }
      throw bad("is a " + name + " instance, which is not plain data (use plain objects, arrays, strings, numbers, booleans, null or Uint8Array)");
    }
    const out = copying ? {} : null;
    budget.bytes += 2;
    // Own enumerable string keys. Symbol keys are ignored, as JSON does.
    const ks = keys(v);
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      const item = v[k];
      if (item === undefined) continue;
      let copy;
      try { copy = sanitize(item, depth + 1, stack, budget, copying); } catch (e) { throw atPath(e, "." + k); }
      budget.bytes += k.length + 3;
      if (copying) {
        if (k === "__proto__") defineProperty(out, k, { value: copy, writable: true, enumerable: true, configurable: true });
        else out[k] = copy;
      }
      if (budget.bytes > maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
    }
    return copying ? out : v;
  }

  function sanitizeHeaders(h) {
    if (h === undefined || h === null) return { headers: {}, bytes: 0 };
    if (typeof h !== "object" || isArray(h)) throw bad("must be an object of string values");
    const proto = getPrototypeOf(h);
    if (proto !== ObjectPrototype && proto !== null) throw bad("must be a plain object of string values");
    const out = {};
    const ks = keys(h);
    let bytes = 0;
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      const value = h[k];
      if (typeof value !== "string") {
        const e = bad("is " + (value === null ? "null" : "a " + typeof value) + "; headers are string to string");
        e.path = "." + k;
        throw e;
      }
      bytes += k.length + value.length;
      if (k === "__proto__") defineProperty(out, k, { value: value, writable: true, enumerable: true, configurable: true });
      else out[k] = value;
    }
    return { headers: out, bytes: bytes };
  }

  function atPath(e, path) {
    if (e instanceof BadOutput) e.path = path + e.path;
    return e;
  }

  // where: "" for a single returned message, "[i]" for an element of a returned array.
  // Appends tag, data and headers of the message to out.
  function encodeMessage(m, where, out, i) {
    if (m === null || typeof m !== "object" || isArray(m)) {
      const what = isArray(m) ? "a nested array" : "a " + typeof m;
      throw atPath(bad("must be a message object { payload, headers }, an array of them, or null; got " + what), where);
    }
    const prefix = where === "" ? "" : where + ".";
    const text = untouched(m, i);
    let payload, headers;
    try {
      if (text === null) payload = m.payload;
      headers = m.headers;
    } catch (e) { throw atPath(bad("could not be read: " + describeThrown(e)), where); }
    let h;
    try { h = sanitizeHeaders(headers); } catch (e) { throw atPath(e, prefix + "headers"); }
    if (text !== null) {
      if (text.length + h.bytes > maxOutputBytes) throw atPath(bad("is larger than " + maxOutputBytes + " bytes"), prefix + "payload");
      // "R<i>": the same JSON text as input message i; the host has it already.
      const k = out.length;
      out[k] = "R" + i;
      out[k + 1] = null;
      out[k + 2] = h.headers;
      return;
    }
    if (payload === undefined) throw atPath(bad("is undefined"), prefix + "payload");
    const budget = { bytes: h.bytes, bin: false };
    let tag, data;
    try {
      if (typeof payload === "string") {
        tag = "S";
        data = sanitize(payload, 0, [], budget, false);
      } else if (isBytes(payload)) {
        tag = "B";
        data = sanitize(payload, 0, [], budget, true);
      } else {
        // Checked in place, then serialized by JSON itself (much faster than copying first).
        // A getter may answer differently the second time; the output is still valid JSON of
        // bounded size, which is all the host relies on.
        sanitize(payload, 0, [], budget, false);
        if (budget.bin) {
          tag = "V";
          data = sanitize(payload, 0, [], { bytes: h.bytes, bin: false }, true);
        } else {
          tag = "J";
          try { data = stringify(payload); } catch (e) { throw bad("could not be serialized: " + describeThrown(e)); }
          if (typeof data !== "string") throw bad("has no JSON form");
          if (data.length > 6 * maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
        }
      }
    } catch (e) { throw atPath(e, prefix + "payload"); }
    const k = out.length;
    out[k] = tag;
    out[k + 1] = data;
    out[k + 2] = h.headers;
  }

  function finish(result, index) {
    const out = [1];
    try {
      if (result === null || result === undefined) return out;
      if (isArray(result)) {
        const n = result.length;
        if (n > maxOutputMessages) {
          return failure("bad-output", "the returned list holds " + n + " messages; a function may return at most " + maxOutputMessages + " per input message");
        }
        for (let i = 0; i < n; i++) {
          const m = result[i];
          if (m === null || m === undefined) continue;
          encodeMessage(m, "[" + i + "]", out, index);
        }
        return out;
      }
      encodeMessage(result, "", out, index);
      return out;
    } catch (e) {
      if (e instanceof BadOutput) {
        const subject = e.path === "" ? "the returned value " : "returned " + e.path + " ";
        return failure("bad-output", clip(subject + e.message));
      }
      return failure("threw", describeThrown(e));
    }
  }

  function deepFreeze(v) {
    if (v === null || typeof v !== "object" || isFrozen(v)) return v;
    freeze(v);
    for (const k of keys(v)) deepFreeze(v[k]);
    return v;
  }

  // A promise settling after its batch was taken (a stopped call) must not write into the next
  // batch's outcomes.
  let generation = 0;
  function settle(i) {
    const g = generation;
    return [
      function (value) { if (g === generation) { outcomes[i] = finish(value, i); pending--; } },
      function (error) { if (g === generation) { outcomes[i] = failure("threw", describeThrown(error)); pending--; } },
    ];
  }

  const PENDING = "pending";

  // The outcomes for the trip out: one JSON text of their shape (failures whole, messages as
  // tag and headers) and the payload data in order, so the host copies a few strings instead of
  // a structure per message.
  function take() {
    generation++;
    const list = outcomes;
    outcomes = null;
    pending = 0;
    inputs = [];
    lazies = [];
    const shape = [];
    let text = "";
    const textLens = [];
    const binary = [];
    for (let i = 0; i < list.length; i++) {
      const o = list[i];
      if (o[0] !== 1) { shape[i] = o; continue; }
      const s = [1];
      for (let j = 1; j + 2 < o.length; j += 3) {
        const tag = o[j];
        const data = o[j + 1];
        s[s.length] = tag;
        s[s.length] = o[j + 2];
        if (tag === "J" || tag === "S") {
          text += data;
          textLens[textLens.length] = data.length;
        } else if (tag === "B" || tag === "V") binary[binary.length] = data;
      }
      shape[i] = s;
    }
    return { s: stringify(shape), t: text, c: textLens, b: binary, l: takeLogs() };
  }

  // The input messages of the batch, and the lazy state of each JSON one.
  let inputs = [];
  let lazies = [];

  function makeMessage(i, kind, data, headers) {
    if (kind !== "J") return { __proto__: TextMessage, payload: data, headers: headers };
    const lazy = { text: data, value: undefined, read: false, get: null };
    const m = {
      __proto__: JsonMessage,
      get payload() {
        if (!lazy.read) {
          lazy.value = parseJson(lazy.text);
          lazy.read = true;
        }
        return lazy.value;
      },
      set payload(v) {
        lazy.value = v;
        lazy.read = true;
      },
      headers: headers,
    };
    // Kept to tell, on the way out, that the property was not redefined.
    lazy.get = getOwnPropertyDescriptor(m, "payload").get;
    lazies[i] = lazy;
    return m;
  }

  // The text of input message i when m is that message, returned with its JSON payload never
  // read (nor redefined); else null.
  function untouched(m, i) {
    if (inputs[i] !== m) return null;
    const lazy = lazies[i];
    if (lazy === undefined || lazy.read) return null;
    const d = getOwnPropertyDescriptor(m, "payload");
    return d !== undefined && d.get === lazy.get ? lazy.text : null;
  }

  return {
    setFunction: function (f) {
      if (typeof f !== "function") throw new TypeErrorCtor("the module's default export is not a function");
      fn = f;
    },
    // Runs a batch. Returns the packed outcomes (see take()), or "pending" when some function returned
    // a promise: the host then calls collect() once the call (and its microtasks) has finished.
    run: function (kinds, text, textLens, binary, headersJson, context) {
      generation++;
      logCount = 0;
      pending = 0;
      current = -1;
      syncDone = false;
      deepFreeze(context);
      const headers = parse(headersJson);
      const n = kinds.length;
      outcomes = [];
      inputs = [];
      lazies = [];
      for (let i = 0; i < n; i++) outcomes[i] = null;
      let at = 0;
      let t = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        current = i;
        const kind = kinds[i];
        let data;
        if (kind === "J" || kind === "S") {
          const len = textLens[t++];
          data = apply(stringSlice, text, [at, at + len]);
          at += len;
        } else data = binary[b++];
        const m = makeMessage(i, kind, data, headers[i]);
        inputs[i] = m;
        let r;
        try {
          r = fn(m, context);
        } catch (e) {
          outcomes[i] = failure("threw", describeThrown(e));
          continue;
        }
        if (r !== null && (typeof r === "object" || typeof r === "function")) {
          let then;
          try { then = r.then; } catch (e) { outcomes[i] = failure("threw", describeThrown(e)); continue; }
          if (typeof then === "function") {
            pending++;
            try {
              apply(promiseThen, promiseResolve(r), settle(i));
            } catch (e) {
              pending--;
              outcomes[i] = failure("threw", describeThrown(e));
            }
            continue;
          }
        }
        outcomes[i] = finish(r, i);
      }
      current = -1;
      syncDone = true;
      if (pending > 0) return PENDING;
      return take();
    },
    collect: function () {
      const result = outcomes || [];
      for (let i = 0; i < result.length; i++) {
        if (result[i] === null) result[i] = failure("timeout", "the promise returned by the function never settled");
      }
      outcomes = result;
      return take();
    },
    // After a call was stopped: what finished (null where nothing did), which message was
    // running, and whether only promise continuations were left.
    progress: function () {
      generation++;
      const result = { o: outcomes || [], l: takeLogs(), current: current, syncDone: syncDone };
      outcomes = null;
      pending = 0;
      return result;
    },
    // Console lines written outside a batch (by the module's top-level code).
    logs: takeLogs,
  };
})
`;
