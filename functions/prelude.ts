/**
 * The sandbox prelude: a script run once in each isolate's context, before the function's
 * module. It
 *
 * 1. removes what a function must not have (`WebAssembly`, shared memory, finalizers) and
 *    replaces `console` with one that sends strings to the host;
 * 2. freezes every intrinsic (constructors, prototypes, `JSON`, `Math`…) and the global's own
 *    bindings, so that tampering (`Array.prototype.map = …`, `Object.prototype.x = 1`) fails
 *    instead of leaking into later calls. Properties that ordinary code assigns on instances
 *    (`this.name = …` in an Error subclass, `obj.toString = …`) are turned into accessors whose
 *    setter defines the property on the instance, the way SES tames the "override mistake";
 * 3. returns the batch runner: it calls the function once per message, sanitizes what comes
 *    back into plain data (checking types, cycles, size and headers), and reports one outcome per
 *    message.
 *
 * The runner lives in a closure the function cannot reach; it uses only references taken
 * before the function's code ran.
 *
 * Written as plain JavaScript in a string: it is compiled inside the isolate, never by the host.
 * (No backticks or dollar-brace sequences inside.)
 */
export const PRELUDE_SOURCE = String.raw`
(function (hostLog, options) {
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
  const StringCtor = String;
  const isFiniteNumber = Number.isFinite;
  const promiseResolve = Promise.resolve.bind(Promise);
  const promiseThen = Promise.prototype.then;
  const stringSlice = String.prototype.slice;
  const stringIndexOf = String.prototype.indexOf;
  const arrayJoin = Array.prototype.join;
  const maxOutputBytes = options.maxOutputBytes;
  const logCap = options.logCap;
  const filename = options.filename;
  const MAX_LOG_CHARS = 2048;
  const MAX_DEPTH = 100;

  // 1. What a function must not have.
  for (const name of ["WebAssembly", "SharedArrayBuffer", "Atomics", "FinalizationRegistry", "WeakRef"]) {
    delete g[name];
  }

  let logCount = 0;
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


  function BadOutput(message) {
    this.message = message;
    this.path = "";
  }
  function bad(message) { return new BadOutput(message); }
  function failure(kind, message) { return { ok: false, kind: kind, message: message }; }

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


  // Copies v into fresh plain data, checking it; budget.bytes counts the size.
  function sanitize(v, depth, stack, budget) {
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
    let tag;
    try { tag = apply(typedArrayTag, v, []); } catch (x) { tag = undefined; }
    if (tag !== undefined) {
      if (tag !== "Uint8Array") throw bad("is a " + tag + "; only Uint8Array byte arrays are allowed");
      budget.bytes += v.byteLength;
      if (budget.bytes > maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
      return new U8(v);
    }
    if (isArray(v)) {
      const n = v.length;
      const out = [];
      budget.bytes += 2;
      for (let i = 0; i < n; i++) {
        const item = v[i];
        try {
          out[i] = item === undefined ? null : sanitize(item, depth + 1, stack, budget);
        } catch (e) { throw atPath(e, "[" + i + "]"); }
        if (budget.bytes > maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
      }
      return out;
    }
    const proto = getPrototypeOf(v);
    if (proto !== ObjectPrototype && proto !== null) {
      let name = "object";
      try {
        const c = proto.constructor;
        if (typeof c === "function" && typeof c.name === "string" && c.name !== "") name = c.name;
      } catch (x) { /* keep "object" */ }
      throw bad("is a " + name + " instance, which is not plain data (use plain objects, arrays, strings, numbers, booleans, null or Uint8Array)");
    }
    const out = {};
    budget.bytes += 2;
    // Own enumerable string keys, each value read once (a getter runs once, so what is checked
    // is what is copied). Symbol keys are ignored, as JSON does.
    const ks = keys(v);
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      const item = v[k];
      if (item === undefined) continue;
      let copy;
      try { copy = sanitize(item, depth + 1, stack, budget); } catch (e) { throw atPath(e, "." + k); }
      budget.bytes += k.length + 3;
      if (k === "__proto__") defineProperty(out, k, { value: copy, writable: true, enumerable: true, configurable: true });
      else out[k] = copy;
      if (budget.bytes > maxOutputBytes) throw bad("is larger than " + maxOutputBytes + " bytes");
    }
    return out;
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
  function sanitizeMessage(m, where) {
    if (m === null || typeof m !== "object" || isArray(m)) {
      const what = isArray(m) ? "a nested array" : "a " + typeof m;
      throw atPath(bad("must be a message object { payload, headers }, an array of them, or null; got " + what), where);
    }
    const prefix = where === "" ? "" : where + ".";
    let payload, headers;
    try {
      payload = m.payload;
      headers = m.headers;
    } catch (e) { throw atPath(bad("could not be read: " + describeThrown(e)), where); }
    let h;
    try { h = sanitizeHeaders(headers); } catch (e) { throw atPath(e, prefix + "headers"); }
    if (payload === undefined) throw atPath(bad("is undefined"), prefix + "payload");
    const budget = { bytes: h.bytes };
    let p;
    try { p = sanitize(payload, 0, [], budget); } catch (e) { throw atPath(e, prefix + "payload"); }
    return { payload: p, headers: h.headers };
  }

  function finish(result) {
    try {
      if (result === null || result === undefined) return { ok: true, messages: [] };
      if (isArray(result)) {
        const n = result.length;
        const messages = [];
        for (let i = 0; i < n; i++) {
          const m = result[i];
          if (m === null || m === undefined) continue;
          messages[messages.length] = sanitizeMessage(m, "[" + i + "]");
        }
        return { ok: true, messages: messages };
      }
      return { ok: true, messages: [sanitizeMessage(result, "")] };
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

  function settle(i) {
    return [
      function (value) { outcomes[i] = finish(value); pending--; },
      function (error) { outcomes[i] = failure("threw", describeThrown(error)); pending--; },
    ];
  }

  const PENDING = "pending";

  return {
    setFunction: function (f) {
      if (typeof f !== "function") throw new TypeErrorCtor("the module's default export is not a function");
      fn = f;
    },
    // Runs a batch. Returns the outcomes, or "pending" when some function returned a promise:
    // the host then calls collect() once the call (and its microtasks) has finished.
    run: function (messages, context) {
      logCount = 0;
      pending = 0;
      deepFreeze(context);
      const n = messages.length;
      outcomes = [];
      for (let i = 0; i < n; i++) {
        let r;
        try {
          r = fn(messages[i], context);
        } catch (e) {
          outcomes[i] = failure("threw", describeThrown(e));
          continue;
        }
        if (r !== null && (typeof r === "object" || typeof r === "function")) {
          let then;
          try { then = r.then; } catch (e) { outcomes[i] = failure("threw", describeThrown(e)); continue; }
          if (typeof then === "function") {
            outcomes[i] = null;
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
        outcomes[i] = finish(r);
      }
      if (pending > 0) return PENDING;
      const result = outcomes;
      outcomes = null;
      return result;
    },
    collect: function () {
      const result = outcomes || [];
      for (let i = 0; i < result.length; i++) {
        if (result[i] === null) result[i] = failure("timeout", "the promise returned by the function never settled");
      }
      outcomes = null;
      pending = 0;
      return result;
    },
  };
})
`;
