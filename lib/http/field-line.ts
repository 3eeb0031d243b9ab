// The field line grammar (RFC 9112 §5, RFC 9110 §5.5, §5.6.2): a line the
// server-wide table of known lines (known-fields.ts) does not hold is checked
// here byte by byte, its name lower-cased and its value OWS-trimmed, then
// remembered there. What a field means for the message (framing, Host,
// Expect) is the parser's and framing.ts's; where the line ends and how many
// there may be, the parser's.

import { SP, HTAB, COLON, TCHAR, FIELD_CHAR, commonFieldName, isBlank, latin1Text } from './chars.js';
import { lineFail } from './parse-fail.js';
import { rememberField } from './known-fields.js';

/**
 * A field whose value is a client's secret. The server-wide tables of known
 * lines and strings are shared by every client, and a comparison with an
 * entry ends at the first differing byte: a secret kept there would let one
 * client time its guesses against another's. Secrets are never kept.
 */
function isCredential(name: string): boolean {
  return name === 'authorization' || name === 'cookie' || name === 'proxy-authorization';
}

/**
 * A field whose value changes from message to message (a client's
 * Content-Length follows its body): kept in the table of known lines, each
 * new value would cost a line string and an entry, and evict a line that
 * comes again.
 */
function isFraming(name: string): boolean {
  return name === 'content-length' || name === 'transfer-encoding';
}

/** A field line read: its name and value, and where the value lies in the buffer. */
export interface NewField {
  name: string;
  value: string;
  vs: number;
  ve: number;
}

/**
 * A field line not met before (knownField): its name and value checked byte
 * by byte, then made; remembered for the next time unless it holds a secret
 * or a value that follows the body.
 */
export function newField(buf: Buffer, start: number, end: number): NewField {
  const c0 = buf[start];
  if (c0 === SP || c0 === HTAB) lineFail('HPE_OBS_FOLD', 'obsolete line folding', buf, start, end);
  let i = start;
  let kinds = 0;
  for (; i < end; i++) {
    const t = TCHAR[buf[i]];
    if (t === 0) break;
    kinds |= t;
  }
  if (i === start || i === end || buf[i] !== COLON) {
    if (i > start && i < end && isBlank(buf[i])) {
      let j = i;
      while (j < end && isBlank(buf[j])) j++;
      if (j < end && buf[j] === COLON) {
        lineFail('HPE_HEADER_WHITESPACE', 'whitespace between field name and colon', buf, start, end);
      }
    }
    lineFail('HPE_INVALID_HEADER_TOKEN', 'invalid field name', buf, start, end);
  }
  let vs = i + 1;
  let ve = end;
  while (vs < ve && isBlank(buf[vs])) vs++;
  while (ve > vs && isBlank(buf[ve - 1])) ve--;
  for (let j = vs; j < ve; j++) {
    if (FIELD_CHAR[buf[j]] === 0) lineFail('HPE_INVALID_HEADER_VALUE', 'invalid byte in field value', buf, start, end);
  }
  let name = commonFieldName(buf, start, i);
  if (name === null) {
    name = buf.toString('latin1', start, i);
    if ((kinds & 2) !== 0) name = name.toLowerCase();
  }
  const value = isCredential(name) ? buf.toString('latin1', vs, ve) : latin1Text(buf, vs, ve);
  if (!isCredential(name) && !isFraming(name)) rememberField(buf, start, end, name, value, vs, ve);
  return { name, value, vs, ve };
}
