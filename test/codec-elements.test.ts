// lib/xmlrpc/elements.ts: the XML-RPC element table the lexer names
// elements through, fed names directly.

import t from 'tap';
import { El, ELEMENT_NAMES, XMLRPC_ELEMENTS, elementOf } from '../lib/xmlrpc/elements.js';

const ALL = [
  'methodCall',
  'methodResponse',
  'methodName',
  'params',
  'param',
  'fault',
  'value',
  'int',
  'i4',
  'i8',
  'boolean',
  'string',
  'double',
  'dateTime.iso8601',
  'base64',
  'nil',
  'struct',
  'member',
  'name',
  'array',
  'data',
];

t.test('names every XML-RPC element by its local name, whatever the prefix', async (t) => {
  t.same(ELEMENT_NAMES.slice(1), ALL, 'one id per element, from 1');
  t.equal(ELEMENT_NAMES[El.Value], 'value');
  for (const [k, name] of ALL.entries()) {
    t.equal(elementOf(name), k + 1, name);
    t.equal(elementOf(`ex:${name}`), k + 1, `ex:${name}`);
    t.equal(XMLRPC_ELEMENTS.idOf(`<${name}>`, 1, name.length), k + 1, `${name} inside a text`);
    t.equal(XMLRPC_ELEMENTS.startTags[k + 1], `<${name}>`);
  }
});

t.test('gives 0 for every other name, including near misses of the same length', async (t) => {
  const others = [
    '',
    'i',
    'i5',
    'I4',
    'x8',
    'nul',
    'ints',
    'Value',
    'valuE',
    'datA',
    'namE',
    'arrays',
    'strinG',
    'strucT',
    'members',
    'boolean2',
    'methodcall',
    'methodNamE',
    'methodresponse',
    'dateTime.iso8602',
    'datetime.iso8601',
    'faults',
    'parAm',
    'double.',
    '__proto__',
    'constructor',
    'toString',
  ];
  for (const name of others) t.equal(elementOf(name), El.Unknown, JSON.stringify(name));
  t.equal(elementOf('a:b:value'), El.Unknown, 'only the first colon ends the prefix');
});
