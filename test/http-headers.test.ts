// lib/http/headers.ts: reading the parser's flat header list, and the checks
// a field name or value must pass before it is sent.

import t from 'tap';
import { getHeader, getHeaderAll, getTokens, hasToken, isFieldValue, isToken } from '../lib/http/headers.js';

t.test('header helpers read the flat list case-insensitively', async (t) => {
  const headers = ['host', 'a', 'connection', 'keep-alive, Upgrade', 'accept', 'x', 'connection', ' CLOSE ,', 'x-nbsp', '\xa0'];
  t.equal(getHeader(headers, 'Host'), 'a');
  t.equal(getHeader(headers, 'accept'), 'x');
  t.equal(getHeader(headers, 'missing'), undefined);
  t.same(getHeaderAll(headers, 'Connection'), ['keep-alive, Upgrade', ' CLOSE ,']);
  t.same(getHeaderAll(headers, 'missing'), []);
  t.equal(getHeader(headers, 'ACCEPT'), 'x', 'a field is found whatever the case of the name asked for');
  t.equal(getHeader(headers, 'expect'), undefined, 'an absent field is undefined');
  t.same(getTokens(headers, 'connection'), ['keep-alive', 'upgrade', 'close']);
  t.same(getTokens(headers, 'x-nbsp'), ['\xa0'], 'only SP and HTAB are trimmed');
  t.ok(hasToken(headers, 'connection', 'close'));
  t.ok(hasToken(headers, 'Connection', 'UPGRADE'));
  t.notOk(hasToken(headers, 'connection', 'keep'));
  t.notOk(hasToken(headers, 'accept', 'close'));
});

t.test('getHeader answers the first of repeated fields and an empty value as the empty string', async (t) => {
  const headers = ['x-a', '1', 'x-empty', '', 'x-a', '2'];
  t.equal(getHeader(headers, 'X-A'), '1');
  t.same(getHeaderAll(headers, 'x-a'), ['1', '2']);
  t.equal(getHeader(headers, 'x-empty'), '', 'present but empty is not absent');
  t.same(getHeaderAll([], 'x-a'), []);
});

t.test('getTokens splits each list field on commas, trims OWS, lower-cases and drops empty elements', async (t) => {
  // prettier-ignore
  const rows: Array<[string, string[], string[]]> = [
    ['one token', ['close'], ['close']],
    ['case folded', ['Keep-Alive'], ['keep-alive']],
    ['OWS around elements', [' gzip ,\tchunked\t'], ['gzip', 'chunked']],
    ['empty elements dropped', [',, a ,,b,'], ['a', 'b']],
    ['an empty value', [''], []],
    ['only commas and blanks', [' , \t, '], []],
    ['across repeated fields, in order', ['a, b', 'c'], ['a', 'b', 'c']],
    ['parameters kept with their element', ['gzip;q=0.5, br'], ['gzip;q=0.5', 'br']],
    ['a blank inside an element kept', ['a b'], ['a b']],
  ];
  for (const [name, values, tokens] of rows) {
    const headers = values.flatMap((v) => ['te', v]);
    t.same(getTokens(headers, 'TE'), tokens, name);
  }
  t.same(getTokens(['other', 'x'], 'te'), [], 'absent field: no tokens');
});

t.test('hasToken is getTokens().includes, ignoring the case of the token asked for', async (t) => {
  const headers = ['connection', 'Upgrade, keep-alive', 'connection', 'TE'];
  for (const token of ['upgrade', 'KEEP-ALIVE', 'te', 'close', 'keep', 'alive', '']) {
    t.equal(hasToken(headers, 'connection', token), getTokens(headers, 'connection').includes(token.toLowerCase()), token === '' ? 'the empty token' : token);
  }
});

t.test('isToken accepts tchar only, at least one', async (t) => {
  // prettier-ignore
  const rows: Array<[string, boolean]> = [
    ['Content-Type', true],
    ["!#$%&'*+-.^_`|~09azAZ", true],
    ['', false],
    ['a b', false],
    ['a:b', false],
    ['a\tb', false],
    ['(comment)', false],
    ['"quoted"', false],
    ['a/b', false],
    ['caf\xe9', false],
    ['a\u0100', false],
    ['a\x7f', false],
  ];
  for (const [text, ok] of rows) t.equal(isToken(text), ok, JSON.stringify(text));
});

t.test('isFieldValue accepts VCHAR, SP, HTAB and obs-text, and nothing that could end a line', async (t) => {
  // prettier-ignore
  const rows: Array<[string, boolean]> = [
    ['text/xml; charset=utf-8', true],
    ['', true],
    [' leading and trailing\t', true],
    ['caf\xe9 \xff \x80', true],
    ['a\r\nInjected: 1', false],
    ['a\rb', false],
    ['a\nb', false],
    ['a\0b', false],
    ['a\x7f', false],
    ['a\x1f', false],
    ['\u0100', false],
    ['\u{1f600}', false],
  ];
  for (const [text, ok] of rows) t.equal(isFieldValue(text), ok, JSON.stringify(text));
});
