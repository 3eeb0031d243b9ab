// The characters and names of XML 1.0 (5th edition), as the lexer and the
// XML-RPC reader test them: white space, Char, Name, line ends; and `holds`,
// the inlined string comparison both use on their hot paths.

const COLON = 0x3a;
// prettier-ignore
const SP = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;

export function isWs(c: number): boolean {
  return c === SP || c === LF || c === TAB || c === CR;
}

export function isAllWs(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isWs(text.charCodeAt(i))) return false;
  return true;
}

export function isAllWsIn(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isWs(s.charCodeAt(i))) return false;
  return true;
}

export function skipWs(s: string, at: number): number {
  while (isWs(s.charCodeAt(at))) at++;
  return at;
}

/** Trims XML white space only (String#trim also eats U+00A0, U+FEFF...). */
export function trimWs(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isWs(text.charCodeAt(start))) start++;
  while (end > start && isWs(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

export function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

// XML 1.0 (5th edition) names. ASCII through a table: 2 may start a name,
// 1 may only continue one. Above ASCII, UTF-16 code units; a high surrogate
// up to U+DB7F starts a pair in U+10000-U+EFFFF, which names allow. A lone
// one is taken for a pair too: harmless, since the lexer still moves on and
// checkCharacters refuses any document that holds one, whatever was read.
export const NAME_ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === COLON) NAME_ASCII[c] = 2;
  else if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) NAME_ASCII[c] = 1;
}

export function isNameStartWide(c: number): boolean {
  return (
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    c === 0x200c ||
    c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xdb7f) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd)
  );
}

export function isNameCharWide(c: number): boolean {
  return isNameStartWide(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040;
}

/** Where the name starting at `at` ends, or -1 if no name starts there. */
export function nameEnd(s: string, at: number): number {
  let c = s.charCodeAt(at);
  if (c < 128 ? NAME_ASCII[c] !== 2 : !isNameStartWide(c)) return -1;
  let j = at;
  for (;;) {
    j += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    c = s.charCodeAt(j);
    if (c < 128 ? NAME_ASCII[c] === 0 : !isNameCharWide(c)) return j;
  }
}

const LINE_END = /\r\n?/g;

/** Line ends as XML 1.0 section 2.11 has them: CR LF and lone CR become LF. */
export function normaliseLineEnds(text: string): string {
  return text.indexOf('\r') === -1 ? text : text.replace(LINE_END, '\n');
}

/** Does `s` hold `word` at `at`? (A loop V8 inlines, unlike a call to startsWith.) */
export function holds(s: string, at: number, word: string): boolean {
  if (at + word.length > s.length) return false; // no read past the end (see canonical.ts)
  for (let k = 0; k < word.length; k++) if (s.charCodeAt(at + k) !== word.charCodeAt(k)) return false;
  return true;
}
