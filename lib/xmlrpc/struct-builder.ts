// A struct kind's builder (shapes.ts): a function compiled once per kind
// when its layout is made, `(v) => ({ "int0": v[0], "str1": v[1], ... })`,
// the way fast-json-stringify and ajv compile. Each member is stored at its
// own site of the literal, which V8 sees with one map only: a plain field
// store, where `out[keys[n]] = v` over many kinds is one megamorphic keyed
// store (a stub-cache probe) per member.
//
// The names enter the source only as JSON.stringify's quoted literals (a
// JSON string is a JS string literal: quotes, backslashes, U+2028 escaped
// or harmless; `*/`, `${` and `</script>` are mere characters inside
// quotes). A literal would take `"__proto__"` as the prototype, an array
// index would be stored before the other names, and a repeated name once:
// such a kind gets no builder. Where code generation from strings is
// refused (`--disallow-code-generation-from-strings`, a CSP), neither: the
// caller stores the values one by one as before.

import type { XmlRpcStruct, XmlRpcValue } from './values.js';

/** The members' values in the kind's order, as an object of the kind's keys in that order, its prototype still Object.prototype. */
export type Builder = (values: readonly XmlRpcValue[]) => XmlRpcStruct;

/** The builder of a struct of `keys`, or null: a name a literal cannot hold as itself, or no code generation. */
export function builder(keys: readonly string[]): Builder | null {
  for (const key of keys) {
    const c = key.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39) || key === '__proto__') return null;
  }
  if (new Set(keys).size !== keys.length) return null;
  let literal = '';
  for (let n = 0; n < keys.length; n++) literal += `${n === 0 ? '' : ','}${JSON.stringify(keys[n])}:v[${n}]`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the source holds no input but names quoted by JSON.stringify (see above)
    return new Function('v', `"use strict";return{${literal}}`) as Builder;
  } catch (err) {
    if (err instanceof EvalError) return null;
    throw err;
  }
}
