// Functions compiled once per struct kind from its member names, the way
// fast-json-stringify and ajv compile: the decoder's builder
// `(v) => ({ "int0": v[0], "str1": v[1], ... })` (shapes.ts) and the
// encoder's reader `(o, k) => { switch (k) { case 0: return o["int0"]; ... } }`
// (encode-layout.ts). Each member gets its own store or load site, which V8
// sees with one map only: a plain field access, where `out[key] = v` or
// `obj[key]` over a kind's 50 names is one megamorphic keyed access (a
// stub-cache probe and a descriptor search, about 250 instructions) per
// member.
//
// The names enter the source only as JSON.stringify's quoted literals (a
// JSON string is a JS string literal: quotes, backslashes, U+2028 escaped
// or harmless; `*/`, `${` and `</script>` are mere characters inside
// quotes). Both are compiled when a kind's layout is made, never per
// request, and kinds are bounded where they are kept. Where code generation
// from strings is refused, there is none: the callers store and load by key
// as before. Refusals come as any error: V8's flag
// (`--disallow-code-generation-from-strings`) and a CSP throw an EvalError,
// SES's lockdown (evalTaming "no-eval") a TypeError.

import type { XmlRpcStruct, XmlRpcValue } from './values.js';

/** The members' values in the kind's order, as an object of the kind's keys in that order, its prototype still Object.prototype. */
export type Builder = (values: readonly XmlRpcValue[]) => XmlRpcStruct;

/** `read(obj, k)` is `obj[keys[k]]`. */
export type Reader = (obj: Record<string, unknown>, k: number) => unknown;

/**
 * Whether an object given `keys` in this order, by a literal or by stores,
 * holds each as itself in that order: a literal (or a JSON.parse) takes
 * `"__proto__"` as the prototype, an array index goes before the other
 * names whatever its place, and a repeated name is held once. shapes.ts
 * keeps templates only of such kinds, and builder() makes only them.
 */
export function heldInOrder(keys: readonly string[]): boolean {
  for (const key of keys) {
    const c = key.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39) || key === '__proto__') return false;
  }
  return new Set(keys).size === keys.length;
}

/** The builder of a struct of `keys`, or null: keys not heldInOrder, or no code generation. */
export function builder(keys: readonly string[]): Builder | null {
  if (!heldInOrder(keys)) return null;
  let literal = '';
  for (let n = 0; n < keys.length; n++) literal += `${n === 0 ? '' : ','}${JSON.stringify(keys[n])}:v[${n}]`;
  return compiled<Builder>('v', `return{${literal}}`);
}

/** The reader of `keys`, or null. A load by a literal name is what `obj[name]` does, whatever the name. */
export function reader(keys: readonly string[]): Reader | null {
  let cases = '';
  for (let k = 0; k < keys.length; k++) cases += `case ${k}:return o[${JSON.stringify(keys[k])}];`;
  return compiled<Reader>('o, k', `switch(k){${cases}}`);
}

function compiled<F>(params: string, body: string): F | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the source holds no input but names quoted by JSON.stringify (see above)
    return new Function(params, `"use strict";${body}`) as F;
  } catch {
    // Whatever refused it: loads and stores by key write and read the same structs. (A name the
    // quoting broke would be a SyntaxError here; codec-struct-code.test.ts checks every name builds.)
    return null;
  }
}
