// Bytes to XML text, under the XML-RPC decoder: BOM, then the `encoding` of
// the XML declaration (UTF-8 by default), decoded strictly (pure ASCII, the
// common case, with one latin1 copy); `checkCharacters` for what XML
// forbids; and the DecodeError helpers the lexer and the reader share.

import { isAscii } from 'node:buffer';
import { latin1Slice } from '../bytes.js';
import { DecodeError, type DecodeErrorCode } from '../errors.js';

/**
 * The document as text: bytes decoded by their BOM or declared encoding;
 * and the bytes when they are pure ASCII: then character `i` of the text is
 * byte `i`, which a reader may look at instead. Characters are not checked
 * yet: the reader checks, with `checkCharacters`, what it has not verified
 * itself, and the whole text first on any error (a character XML forbids is
 * the first error of all).
 */
export function documentText(data: Buffer | Uint8Array | string): { text: string; ascii: Uint8Array | null } {
  if (typeof data === 'string') return { text: data.charCodeAt(0) === 0xfeff ? data.slice(1) : data, ascii: null };
  if (!(data instanceof Uint8Array)) throw new TypeError('loads takes a string, a Buffer or a Uint8Array');
  if (data.length > 0 && isAscii(data)) {
    const text = asciiText(data);
    if (text !== null) return { text, ascii: data };
  }
  return { text: bytesToText(data), ascii: null };
}

// ---------------------------------------------------------------------------
// 1. Bytes to text

const LATIN1_LABELS = new Set(['iso-8859-1', 'iso8859-1', 'iso_8859-1', 'latin1', 'l1', 'cp819', 'ibm819', 'iso-ir-100', 'csisolatin1']);
const ASCII_LABELS = new Set(['us-ascii', 'ascii', 'ansi_x3.4-1968', 'iso646-us', 'csascii', 'us', 'iso-ir-6']);
const DECLARED_ENCODING =
  /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"[^"]*"|'[^']*')[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|'([A-Za-z][A-Za-z0-9._-]*)')/;
/** The declaration is looked for in the first 512 bytes only. */
const HEAD_BYTES = 512;

/**
 * Pure-ASCII bytes (the common case): one latin1 copy is the text for every
 * ASCII-compatible encoding we read without TextDecoder. `null` when the
 * bytes are UTF-16 or declare another encoding: `bytesToText` decides.
 */
function asciiText(bytes: Uint8Array): string | null {
  const [b0, b1, b2, b3] = bytes;
  if ((b0 === 0x00 && b1 === 0x3c && b2 === 0x00 && b3 === 0x3f) || (b0 === 0x3c && b1 === 0x00 && b2 === 0x3f && b3 === 0x00)) return null;
  const buf = bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = latin1Slice.call(buf, 0, buf.length);
  if (text.charCodeAt(1) !== 0x3f || plainDeclaration(text) !== 0) return text; // no encoding declared: UTF-8
  const label = declaredEncoding(text.length > HEAD_BYTES ? text.slice(0, HEAD_BYTES) : text);
  if (label === null) return text;
  const encoding = resolveEncoding(label);
  if (encoding === 'utf-16') fail('ERR_XML_INVALID_CHARACTER', `the document declares ${label} but its bytes are not UTF-16`);
  return encoding === 'utf-8' || encoding === 'latin1' || encoding === 'ascii' || encoding === 'windows-1252' ? text : null;
}

function bytesToText(bytes: Uint8Array): string {
  if (bytes.length === 0) fail('ERR_XML_NOT_WELL_FORMED', 'the document is empty');
  const [b0, b1, b2, b3] = bytes;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return withDeclared('utf-8', decode('utf-8', bytes.subarray(3)));
  if (b0 === 0xfe && b1 === 0xff) return withDeclared('utf-16', decode('utf-16be', bytes.subarray(2)));
  if (b0 === 0xff && b1 === 0xfe) return withDeclared('utf-16', decode('utf-16le', bytes.subarray(2)));
  if (b0 === 0x00 && b1 === 0x3c && b2 === 0x00 && b3 === 0x3f) return withDeclared('utf-16', decode('utf-16be', bytes));
  if (b0 === 0x3c && b1 === 0x00 && b2 === 0x3f && b3 === 0x00) return withDeclared('utf-16', decode('utf-16le', bytes));
  // ASCII-compatible: the declaration can be read before knowing the encoding.
  const label = b1 === 0x3f ? declaredEncoding(Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, HEAD_BYTES)).toString('latin1')) : null;
  const encoding = label === null ? 'utf-8' : resolveEncoding(label);
  if (encoding === 'utf-16') {
    fail('ERR_XML_INVALID_CHARACTER', `the document declares ${label} but its bytes are not UTF-16`);
  }
  return decode(encoding, bytes);
}

function declaredEncoding(head: string): string | null {
  const m = DECLARED_ENCODING.exec(head);
  return m === null ? null : (m[1] ?? m[2] ?? null);
}

const resolved = new Map<string, string>();

/** The encoding a label names: 'utf-8', 'utf-16', 'latin1', 'ascii' or a TextDecoder name. */
function resolveEncoding(label: string): string {
  const lower = label.toLowerCase();
  let name = resolved.get(lower);
  if (name !== undefined) return name;
  // TextDecoder maps these labels to windows-1252; they mean ISO-8859-1 and ASCII here.
  if (LATIN1_LABELS.has(lower)) return 'latin1';
  if (ASCII_LABELS.has(lower)) return 'ascii';
  try {
    name = new TextDecoder(lower).encoding;
  } catch {
    return fail('ERR_XML_UNSUPPORTED_ENCODING', `unsupported encoding ${JSON.stringify(label)}`);
  }
  if (name === 'utf-16le' || name === 'utf-16be') name = 'utf-16';
  if (resolved.size < 64) resolved.set(lower, name);
  return name;
}

/** After a BOM or a UTF-16 signature: a declared encoding must agree. */
function withDeclared(family: 'utf-8' | 'utf-16', text: string): string {
  const label = declaredEncoding(text);
  if (label !== null && resolveEncoding(label) !== family) {
    fail('ERR_XML_INVALID_CHARACTER', `the document declares ${label} but is ${family.toUpperCase()}`);
  }
  return text;
}

// Node's TextDecoder decodes windows-1252 as ISO-8859-1 since 20.18.3
// (nodejs/node#60888), so bytes 0x80-0x9F are mapped here (WHATWG index).
const C1_CONTROLS = /[\x80-\x9f]/g;
const WINDOWS_1252 = [
  '\u20AC',
  '\x81',
  '\u201A',
  '\u0192',
  '\u201E',
  '\u2026',
  '\u2020',
  '\u2021',
  '\u02C6',
  '\u2030',
  '\u0160',
  '\u2039',
  '\u0152',
  '\x8D',
  '\u017D',
  '\x8F',
  '\x90',
  '\u2018',
  '\u2019',
  '\u201C',
  '\u201D',
  '\u2022',
  '\u2013',
  '\u2014',
  '\u02DC',
  '\u2122',
  '\u0161',
  '\u203A',
  '\u0153',
  '\x9D',
  '\u017E',
  '\u0178',
];
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decode(encoding: string, bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === 'latin1') return buf.toString('latin1');
  if (encoding === 'windows-1252') return buf.toString('latin1').replace(C1_CONTROLS, (c) => WINDOWS_1252[c.charCodeAt(0) - 0x80] as string);
  if (encoding === 'ascii') {
    const i = buf.findIndex((b) => b > 0x7f);
    if (i !== -1) fail('ERR_XML_INVALID_CHARACTER', `byte 0x${hex(buf[i] as number)} at offset ${i} is not US-ASCII`);
    return buf.toString('latin1');
  }
  try {
    return (encoding === 'utf-8' ? UTF8 : new TextDecoder(encoding, { fatal: true, ignoreBOM: true })).decode(buf);
  } catch {
    return fail('ERR_XML_INVALID_CHARACTER', `the bytes are not valid ${encoding.toUpperCase()}`);
  }
}

// With `u`, a lone surrogate is a code point of its own and falls outside every range.
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// The same set in two faster tests (a class of a few ranges, which irregexp
// scans quickly, in one-byte strings above all): the C0 controls and
// U+FFFE/U+FFFF, then lone surrogates through isWellFormed.
const NOT_XML_BMP_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

/**
 * Throws if `text[from, to)` holds a character XML 1.0 forbids (reporting
 * the first one in the whole text). `from` and `to` must not split a
 * surrogate pair.
 */
export function checkCharacters(text: string, from: number, to: number): void {
  const part = from === 0 && to === text.length ? text : text.slice(from, to);
  if (!NOT_XML_BMP_CHAR.test(part) && (part as unknown as { isWellFormed(): boolean }).isWellFormed()) return;
  const bad = NOT_XML_CHAR.exec(text) as RegExpExecArray;
  const cp = bad[0].codePointAt(0) as number;
  fail('ERR_XML_NOT_WELL_FORMED', `U+${hex(cp)} is not a character XML 1.0 allows`, text, bad.index);
}

/** The length of `<?xml version="1.0"?>` (either quotes) if the text starts with it, else 0. */
export function plainDeclaration(s: string): number {
  return s.startsWith('<?xml version="1.0"?>') || s.startsWith("<?xml version='1.0'?>") ? 21 : 0;
}

// ---------------------------------------------------------------------------
// Errors

export function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + '…' : text);
}

function hex(n: number): string {
  return n
    .toString(16)
    .toUpperCase()
    .padStart(n > 0xff ? 4 : 2, '0');
}

/** Throws a DecodeError; with the text and an offset, says where (line, column). */
export function fail(code: DecodeErrorCode, message: string, text?: string, at?: number): never {
  if (text !== undefined && at !== undefined) {
    let line = 1;
    let lineStart = 0;
    for (let k = text.indexOf('\n'); k !== -1 && k < at; k = text.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
    message += ` (line ${line}, column ${at - lineStart + 1})`;
  }
  throw new DecodeError(code, message);
}
