// Helpers over the flat header list the parser produces:
// [name0, value0, name1, value1, ...], names lower-cased, values trimmed.
// Field names given to these helpers are matched case-insensitively.

import { FIELD_CHAR, TCHAR } from './chars.js';

/** The first value of field `name`, or undefined. */
export function getHeader(headers: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === lower) return headers[i + 1];
  }
  return undefined;
}

/** Every value of field `name`, in order ([] when absent). */
export function getHeaderAll(headers: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === lower) values.push(headers[i + 1]);
  }
  return values;
}

/**
 * The elements of a #list field (RFC 9110 §5.6.1) across all its fields,
 * OWS-trimmed, lower-cased, empty elements dropped: `Connection: close, TE`
 * gives ['close', 'te']. Not for fields whose elements may hold quoted commas.
 */
export function getTokens(headers: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  const tokens: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== lower) continue;
    const value = headers[i + 1];
    let start = 0;
    while (start <= value.length) {
      let end = value.indexOf(',', start);
      if (end === -1) end = value.length;
      const token = trimOws(value, start, end);
      if (token !== '') tokens.push(token.toLowerCase());
      start = end + 1;
    }
  }
  return tokens;
}

/** Whether a #list field holds `token` (case-insensitive): hasToken(headers, 'connection', 'close'). */
export function hasToken(headers: readonly string[], name: string, token: string): boolean {
  return getTokens(headers, name).includes(token.toLowerCase());
}

/** value[start, end) without leading and trailing SP / HTAB (String#trim would also eat U+00A0, an obs-text byte). */
function trimOws(value: string, start: number, end: number): string {
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** A field name, or any other token (RFC 9110 §5.6.2). */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A field value we may send: field-vchar, SP and HTAB (RFC 9110 §5.5), obs-text being latin1. */
export function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || FIELD_CHAR[c] === 0) return false;
  }
  return true;
}
