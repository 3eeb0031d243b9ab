// What the fast path (canonical.ts) compares a document with: tags, and the
// runs of tags that encoders write back to back (`</int></value>`,
// `</value></member>`), each as one comparison of little-endian 32-bit
// words over an ASCII document's bytes; the value types and their tags; and
// the leads of a known struct kind's members, `<member><name>KEY</name>
// <value><TYPE>` as one run, so that a member written as the last one of its
// kind was costs one comparison before its value's text.

// The value types: what a `<value>` holds, by its type element.
export const UNTYPED = 0; // text, or no type the fast path knows
export const INT = 1;
export const I4 = 2;
export const STRING = 3;
export const DOUBLE = 4;
export const BOOLEAN = 5;
export const ARRAY = 6;
export const STRUCT = 7;
export const DATETIME = 8;
export const BASE64 = 9;
export const NIL = 10;
const TYPES = 11;

/**
 * A literal of at least 4 ASCII characters, as words of the document's bytes:
 * under 8 characters, its first and last 4 as two int32s; from 8, its
 * characters 8 at a time as float64s, the last one its last 8 (overlapping
 * the one before). Float64 equality is bit equality here: an ASCII byte has
 * its top bit clear, so no 8 ASCII bytes are a NaN (exponent all ones needs
 * a byte from 0xF0) or -0 (a byte 0x80). A lead's type is its value's;
 * other runs' UNTYPED. (One object shape for all: the comparison's property
 * loads stay monomorphic.)
 */
export interface Run {
  readonly lit: string;
  readonly len: number;
  readonly short: Int32Array;
  readonly long: Float64Array;
  readonly type: number;
}

const scratch = new DataView(new ArrayBuffer(8));

function int32(lit: string, from: number): number {
  for (let k = 0; k < 4; k++) scratch.setUint8(k, lit.charCodeAt(from + k));
  return scratch.getInt32(0, true);
}

function float64(lit: string, from: number): number {
  for (let k = 0; k < 8; k++) scratch.setUint8(k, lit.charCodeAt(from + k));
  return scratch.getFloat64(0, true);
}

export function run(lit: string, type = UNTYPED): Run {
  const len = lit.length;
  for (let k = 0; k < len; k++) if (lit.charCodeAt(k) > 0x7f) throw new RangeError('a run is ASCII');
  if (len < 4) throw new RangeError('a run is at least 4 characters');
  const short = new Int32Array(len < 8 ? [int32(lit, 0), int32(lit, len - 4)] : []);
  const n = len < 8 ? 0 : (len + 7) >> 3;
  const long = new Float64Array(n);
  for (let k = 0; k < n - 1; k++) long[k] = float64(lit, 8 * k);
  if (n > 0) long[n - 1] = float64(lit, len - 8);
  return { lit, len, short, long, type };
}

/** The type element's name, by type; `nil/` is the empty element. */
const TYPE_NAMES = ['', 'int', 'i4', 'string', 'double', 'boolean', 'array', 'struct', 'dateTime.iso8601', 'base64', 'nil/'];

export const C_ARRAY = run('</array>');
export const C_DATA = run('</data>');
export const C_MEMBER = run('</member>');
export const C_NAME = run('</name>');
export const C_PARAM = run('</param>');
export const C_PARAMS = run('</params>');
export const C_STRUCT = run('</struct>');
export const C_VALUE = run('</value>');
export const C_METHODNAME = run('</methodName>');
export const O_ARRAY = run('<array>');
export const O_DATA = run('<data>');
export const O_MEMBER = run('<member>');
export const O_METHODCALL = run('<methodCall>');
export const O_METHODNAME = run('<methodName>');
export const O_NAME = run('<name>');
export const O_PARAM = run('<param>');
export const O_PARAMS = run('<params>');
export const O_VALUE = run('<value>');
export const O_STRUCT = run('<struct>');
export const O_METHODRESPONSE = run('<methodResponse>');
export const O_INT = run('<int>');
export const O_I4 = run('<i4>');
export const O_STRING = run('<string>');
export const O_DOUBLE = run('<double>');
export const O_DATETIME = run('<dateTime.iso8601>');
export const O_BOOLEAN = run('<boolean>');
export const O_BASE64 = run('<base64>');
export const O_NIL_E = run('<nil/>');

// The runs encoders write: a member's start and name, a name and its value, a data's first value.
export const O_MEMBER_NAME = run('<member><name>');
export const C_NAME_O_VALUE = run('</name><value>');
export const C_VALUE_C_MEMBER = run('</value></member>');
export const O_DATA_O_VALUE = run('<data><value>');
export const C_DATA_C_ARRAY = run('</data></array>');

/** Each type's start tag (null: none), end tag (null: none, the element is read whole), and what ends its value, and its member. */
export const OPEN: readonly (Run | null)[] = TYPE_NAMES.map((name) => (name === '' ? null : run(`<${name}>`)));
export const CLOSE: readonly (Run | null)[] = TYPE_NAMES.map((name) => (name === '' || name === 'nil/' ? null : run(`</${name}>`)));
/** `</int></value>`; for a type whose end tag its reader reads (array, struct) or that has none (nil), `</value>`. */
export const VALUE_TAIL: readonly Run[] = TYPE_NAMES.map((_, type) => run(`${tailTag(type)}</value>`));
/** The same, then `</member>`. */
export const MEMBER_TAIL: readonly Run[] = TYPE_NAMES.map((_, type) => run(`${tailTag(type)}</value></member>`));

function tailTag(type: number): string {
  return type === ARRAY || type === STRUCT || type === NIL || type === UNTYPED ? '' : `</${TYPE_NAMES[type] as string}>`;
}

/** A member's start up to its value's text, as last seen for its kind. */
export type Lead = Run;

/**
 * The lead of member `key` holding a `type`: `<member><name>KEY</name><value><TYPE>`,
 * or null for an untyped value. `key` is plain (shapes.ts): printable ASCII,
 * no `<`, `&` or `>`, so that it stands for itself in the document.
 */
export function lead(key: string, type: number): Lead | null {
  if (type === UNTYPED || type >= TYPES) return null;
  return run(`<member><name>${key}</name><value>${(OPEN[type] as Run).lit}`, type);
}

/**
 * A struct kind's whole layout as encoders write it: its values in order
 * (each member's, or each element of a member's array of values), each read
 * by its type's reader, and between them the tags and names as one run each:
 * `runs[0]` up to the first value's text, `runs[q + 1]` from value q's end
 * to the next value's text, the last one through `</struct>`. So a member
 * costs one comparison, an array of two values three.
 */
export interface Layout {
  /** `values + 1` runs. */
  readonly runs: readonly Run[];
  /** Each value's type (a scalar, or UNTYPED: text). */
  readonly types: readonly number[];
  /** Per member: -1 for one value, else the length of its array of values. */
  readonly sizes: readonly number[];
}

/** A member's part of a layout: its value's type, or its array's element types. */
export type Part = number | readonly number[];

/** Past this many characters of runs, or values, a kind gets no layout (the table of kinds stays small). */
const MAX_LAYOUT_CHARS = 8192;
const MAX_LAYOUT_VALUES = 256;
// The characters a layout's runs take: a member's tags but its name
// (`<member><name></name></member>`), a value's (`<value></value>`, its
// type's tags apart), an array's (`<array><data></data></array>`).
const MEMBER_CHARS = 30;
const VALUE_CHARS = 15;
const ARRAY_CHARS = 28;

/** Can a value of `type` sit in a layout (read by one reader, with no nesting)? */
export function scalar(type: number): boolean {
  return type !== ARRAY && type !== STRUCT && type >= 0 && type < TYPES;
}

/**
 * The layout of a struct of `keys` (plain: see `lead`) whose members hold
 * `parts` (each scalar, or an array of scalars), or null past the bounds.
 */
export function layout(keys: readonly string[], parts: readonly Part[]): Layout | null {
  // Its size first, so that a kind past the bounds costs no runs.
  let size = 0;
  let values = 0;
  for (let n = 0; n < keys.length; n++) {
    const part = parts[n] as Part;
    size += MEMBER_CHARS + (keys[n] as string).length;
    for (const type of typeof part === 'number' ? [part] : part) size += VALUE_CHARS + (OPEN[type]?.len ?? 0) + (CLOSE[type]?.len ?? 0);
    if (typeof part !== 'number') size += ARRAY_CHARS;
    values += typeof part === 'number' ? 1 : part.length;
  }
  if (size > MAX_LAYOUT_CHARS || values > MAX_LAYOUT_VALUES) return null;
  const runs: Run[] = [];
  const types: number[] = [];
  const sizes: number[] = [];
  let lit = '';
  const value = (type: number): void => {
    lit += OPEN[type]?.lit ?? '';
    runs.push(run(lit));
    types.push(type);
    lit = `${CLOSE[type]?.lit ?? ''}</value>`;
  };
  for (let n = 0; n < keys.length; n++) {
    lit += `<member><name>${keys[n] as string}</name><value>`;
    const part = parts[n] as Part;
    if (typeof part === 'number') {
      value(part);
      sizes.push(-1);
    } else {
      lit += '<array><data>';
      for (const type of part) {
        lit += '<value>';
        value(type);
      }
      lit += '</data></array></value>';
      sizes.push(part.length);
    }
    lit += '</member>';
  }
  runs.push(run(lit + '</struct>'));
  return { runs, types, sizes };
}

/** Does `l` hold `parts`? */
export function holdsParts(l: Layout, parts: readonly Part[]): boolean {
  if (l.sizes.length !== parts.length) return false;
  let q = 0;
  for (let n = 0; n < parts.length; n++) {
    const part = parts[n] as Part;
    const size = l.sizes[n] as number;
    if (typeof part === 'number') {
      if (size !== -1 || l.types[q++] !== part) return false;
    } else {
      if (size !== part.length) return false;
      for (const type of part) if (l.types[q++] !== type) return false;
    }
  }
  return true;
}
