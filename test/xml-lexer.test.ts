// lib/xmlrpc/xml-lexer.ts: the XML lexer, fed strings directly, through a
// small element table of its own (it knows no XML-RPC). A test subclass
// drives it as a grammar would and lists what it reads: start tags (with the
// table's id), end tags and text (references decoded, CDATA verbatim,
// comments and processing instructions skipped, line ends normalised).
// Errors are DecodeErrors with stable codes; content errors go to the
// grammar's `invalid`.

import t from 'tap';
import { DecodeError } from '../lib/errors.js';
import { XmlLexer, type ElementTable } from '../lib/xmlrpc/xml-lexer.js';

const NAMES = ['', 'a', 'b', 'c'];
const TABLE: ElementTable = {
  names: NAMES,
  startTags: NAMES.map((name) => `<${name}>`),
  idOf: (s, at, len) => Math.max(0, NAMES.indexOf(s.slice(at, at + len))),
};

type Token = ['start', string, number, 'empty'?] | ['end', string] | ['text', string];

class ContentError extends Error {
  override name = 'ContentError';
}

// prettier-ignore
const LT = 0x3c, SLASH = 0x2f, BANG = 0x21, QUESTION = 0x3f;

class Tokenizer extends XmlLexer {
  constructor(text: string, maxElementDepth = 50) {
    super(text, maxElementDepth, TABLE);
  }

  protected invalid(message: string): never {
    throw new ContentError(message);
  }

  /** The whole document as tokens: text wherever it is, as `readText(true)` reads it. */
  tokens(): Token[] {
    const out: Token[] = [];
    this.prolog();
    for (;;) {
      const s = this.s;
      const c1 = s.charCodeAt(this.i + 1);
      if (s.charCodeAt(this.i) === LT && c1 === SLASH) {
        const name = this.open[this.depth - 1] as string;
        this.endTag();
        out.push(['end', name]);
      } else if (s.charCodeAt(this.i) === LT && c1 !== BANG && c1 !== QUESTION) {
        const id = this.startTag();
        out.push(this.tagEmpty ? ['start', this.tagName(), id, 'empty'] : ['start', this.tagName(), id]);
      } else {
        const text = this.readText(true);
        if (text !== '') out.push(['text', text]);
      }
      if (this.depth === 0) break;
    }
    this.epilog();
    return out;
  }

  /**
   * A grammar in which <a> holds elements only (`skipSpace` between them)
   * and every other element text only (`readText(false)`).
   */
  elementsOnly(): Token[] {
    const out: Token[] = [];
    this.prolog();
    this.element(out);
    this.epilog();
    return out;
  }

  private element(out: Token[]): void {
    const id = this.startTag();
    out.push(['start', this.tagName(), id]);
    if (this.tagEmpty) return;
    if (id === 1) {
      for (;;) {
        this.skipSpace();
        if (this.s.charCodeAt(this.i + 1) === SLASH) break;
        this.element(out);
      }
    } else {
      out.push(['text', this.readText(false)]);
    }
    const name = this.open[this.depth - 1] as string;
    this.endTag();
    out.push(['end', name]);
  }

  /** After a content error: the rest scanned, the first element outside the table. */
  rest(): string | null {
    this.scanRest();
    return this.unknownElement;
  }

  private prolog(): void {
    this.i = this.xmlDeclaration();
    this.misc();
    if (this.i >= this.n) this.wf(this.n === 0 ? 'the document is empty' : 'no root element', this.n);
  }

  private epilog(): void {
    this.misc();
    if (this.i < this.n) this.startTag(); // a second root element: throws
  }
}

function tokens(text: string, maxElementDepth?: number): Token[] {
  return new Tokenizer(text, maxElementDepth).tokens();
}

t.test('reads start tags, empty-element tags and end tags, each start tag with its id in the table', async (t) => {
  // prettier-ignore
  const cases: Array<[doc: string, expected: Token[]]> = [
    ['<a/>', [['start', 'a', 1, 'empty']]],
    ['<a></a>', [['start', 'a', 1], ['end', 'a']]],
    ['<a><b/><c></c></a>', [['start', 'a', 1], ['start', 'b', 2, 'empty'], ['start', 'c', 3], ['end', 'c'], ['end', 'a']]],
    ['<a ></a >', [['start', 'a', 1], ['end', 'a']]],
    ['<a\n/>', [['start', 'a', 1, 'empty']]],
    ['<other/>', [['start', 'other', 0, 'empty']]],
    ['<x:b></x:b>', [['start', 'x:b', 2], ['end', 'x:b']]],
    ['<b:x/>', [['start', 'b:x', 0, 'empty']]],
    ['<ab/>', [['start', 'ab', 0, 'empty']]],
    ['<é.-_1/>', [['start', 'é.-_1', 0, 'empty']]],
    ['<\u{10000}/>', [['start', '\u{10000}', 0, 'empty']]],
  ];
  for (const [doc, expected] of cases) t.same(tokens(doc), expected, doc);
});

t.test('checks attributes and forgets them', async (t) => {
  const cases = ['<a x="1"/>', '<a x=\'1\' y="2"></a>', '<a x = "&amp;&#60;" y="&gt;"/>', '<a xmlns:ex="urn:x" ex:y="1"/>', '<a x="\'" y=\'"\'/>'];
  for (const doc of cases)
    t.same(
      tokens(doc).map((tok) => tok.slice(0, 2)),
      tokens(doc.replace(/ .*?(\/?>)/, '$1')).map((tok) => tok.slice(0, 2)),
      doc,
    );
});

t.test('reads text with references decoded, CDATA verbatim, comments and PIs skipped, line ends normalised', async (t) => {
  // prettier-ignore
  const cases: Array<[name: string, inside: string, text: string]> = [
    ['plain text', 'hello', 'hello'],
    ['the five predefined entities', '&lt;&gt;&amp;&quot;&apos;', `<>&"'`],
    ['decimal and hexadecimal character references', '&#65;&#x42;&#x00043;&#x1F600;&#128512;', 'ABC\u{1F600}\u{1F600}'],
    ['a CDATA section', '<![CDATA[<&>]]>', '<&>'],
    ['a CDATA section holding what looks like markup', '<![CDATA[<b>&amp;</b>]]>', '<b>&amp;</b>'],
    ['a CDATA section with ] and ]]', '<![CDATA[a]b]]c]]>', 'a]b]]c'],
    ['an empty CDATA section', '<![CDATA[]]>', ''],
    ['a comment', 'x<!-- c -->y', 'xy'],
    ['a comment holding markup', 'x<!-- <b> & -->y', 'xy'],
    ['a processing instruction', 'x<?pi data?>y', 'xy'],
    ['a processing instruction with quotes', "x<?pi don't?>y", 'xy'],
    ['CR LF and lone CR in text', '1\r\n2\r3\n4', '1\n2\n3\n4'],
    ['CR LF in CDATA', '<![CDATA[1\r\n2\r3]]>', '1\n2\n3'],
    ['a character reference to CR, kept', '1&#13;&#10;2', '1\r\n2'],
    ['> and ]] alone', 'a > b ]] c', 'a > b ]] c'],
    ['text beyond ASCII', 'café € \u{1F600}', 'café € \u{1F600}'],
    ['everything at once, one text token', ' a&amp;<![CDATA[b]]><!--c--><?d?>e\r\n', ' a&be\n'],
  ];
  for (const [name, inside, text] of cases) {
    t.same(
      tokens(`<a>${inside}</a>`),
      text === ''
        ? [
            ['start', 'a', 1],
            ['end', 'a'],
          ]
        : [
            ['start', 'a', 1],
            ['text', text],
            ['end', 'a'],
          ],
      name,
    );
  }
});

t.test('splits nothing: text between tags is one token, and empty content gives none', async (t) => {
  // prettier-ignore
  const cases: Array<[doc: string, expected: Token[]]> = [
    ['<a>x&amp;y<![CDATA[z]]>w</a>', [['start', 'a', 1], ['text', 'x&yzw'], ['end', 'a']]],
    ['<a><!--c--></a>', [['start', 'a', 1], ['end', 'a']]],
    ['<a><?pi?></a>', [['start', 'a', 1], ['end', 'a']]],
    ['<a><![CDATA[]]></a>', [['start', 'a', 1], ['end', 'a']]],
    ['<a>x<b/>y</a>', [['start', 'a', 1], ['text', 'x'], ['start', 'b', 2, 'empty'], ['text', 'y'], ['end', 'a']]],
    ['<a> <b> </b> </a>', [['start', 'a', 1], ['text', ' '], ['start', 'b', 2], ['text', ' '], ['end', 'b'], ['text', ' '], ['end', 'a']]],
  ];
  for (const [doc, expected] of cases) t.same(tokens(doc), expected, doc);
});

t.test('accepts an XML declaration, and white space, comments and PIs around the root', async (t) => {
  const root: Token[] = [['start', 'a', 1, 'empty']];
  const cases = [
    '<?xml version="1.0"?><a/>',
    "<?xml version='1.0'?><a/>",
    '<?xml version="1.1" encoding="UTF-8" standalone="yes" ?><a/>',
    '<?xml version="1.0"?>\n<!-- before -->\n<?pi before?>\n<a/>\n<!-- after -->\n<?pi after?>\n',
    ' \t\r\n<a/> \t\r\n',
    '<?xml-stylesheet href="x"?><a/>',
  ];
  for (const doc of cases) t.same(tokens(doc), root, JSON.stringify(doc));
});

const NWF = 'ERR_XML_NOT_WELL_FORMED';

t.test('refuses what is not well formed, with a stable code and a message that says where', async (t) => {
  // prettier-ignore
  const cases: Array<[doc: string, code: string, message: RegExp]> = [
    ['', NWF, /the document is empty/],
    [' <!-- c --> ', NWF, /no root element/],
    ['x<a/>', NWF, /text before the root element \(line 1, column 1\)/],
    ['<a/>x', NWF, /content after the root element/],
    ['<a/><a/>', NWF, /a second root element/],
    ['<a>', NWF, /<a> is not closed/],
    ['<a>text', NWF, /<a> is not closed/],
    ['<a></b>', NWF, /<\/b> closes <a>/],
    ['</a>', NWF, /<\/a> closes nothing/],
    ['<a></a', NWF, /malformed end tag/],
    ['<1a/>', NWF, /'<' is not followed by an element name/],
    ['<a x="1" x="2"/>', NWF, /attribute x is repeated/],
    ['<a x=1/>', NWF, /not quoted/],
    ['<a x/>', NWF, /attribute x has no value/],
    ['<a x="<"/>', NWF, /'<' in the value of attribute x/],
    ['<a x="1"y="2"/>', NWF, /unexpected character in <a>/],
    ['<a x="1', NWF, /ends inside an attribute value/],
    ['<a', NWF, /ends inside a tag/],
    ['<a>&bogus;</a>', NWF, /undefined entity &bogus;/],
    ['<a>& </a>', NWF, /'&' does not start a reference/],
    ['<a>&#;</a>', NWF, /'&' does not start a reference/],
    ['<a>&#X41;</a>', NWF, /'&' does not start a reference/],
    ['<a>&#x41</a>', NWF, /'&' does not start a reference/],
    ['<a>&#0;</a>', NWF, /&#0; refers to a character XML 1.0 does not allow/],
    ['<a>&#x110000;</a>', NWF, /does not allow/],
    ['<a>&#xD800;</a>', NWF, /does not allow/],
    ['<a>]]></a>', NWF, /']]>' is not allowed in text/],
    ['<a><!-- a -- b --></a>', NWF, /'--' inside a comment/],
    ['<a><!-- a </a>', NWF, /unterminated comment/],
    ['<a><![CDATA[x</a>', NWF, /unterminated CDATA section/],
    ['<![CDATA[x]]><a/>', NWF, /CDATA outside the root element/],
    ['<a><!ELEMENT a></a>', NWF, /neither a comment nor a CDATA section/],
    ['<a><?pi x</a>', NWF, /unterminated processing instruction/],
    ['<a><?xml version="1.0"?></a>', NWF, /only allowed at the very start/],
    [' <?xml version="1.0"?><a/>', NWF, /only allowed at the very start/],
    ['<?xml version="2.0"?><a/>', NWF, /malformed XML declaration/],
    ['<?xml encoding="UTF-8"?><a/>', NWF, /malformed XML declaration/],
    ['<!DOCTYPE a><a/>', 'ERR_XML_DOCTYPE', /DOCTYPE is not accepted/],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', 'ERR_XML_DOCTYPE', /DOCTYPE/],
    ['<a>\n<b>\n</a>', NWF, /<\/a> closes <b> \(line 3, column 1\)/],
  ];
  for (const [doc, code, message] of cases) {
    t.throws(() => tokens(doc), { code, message }, JSON.stringify(doc));
    t.throws(() => tokens(doc), DecodeError);
  }
});

t.test('refuses elements nested past its depth limit, and not one level less', async (t) => {
  const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
  t.equal(tokens(nested(5), 5).length, 10);
  t.throws(() => tokens(nested(6), 5), { code: 'ERR_XML_TOO_DEEP', message: /deeper than 5 levels/ });
  t.equal(tokens('<a>'.repeat(4) + '<a/>' + '</a>'.repeat(4), 5).length, 9, 'an empty element at the limit');
  t.throws(() => tokens('<a>'.repeat(5) + '<a/>' + '</a>'.repeat(5), 5), { code: 'ERR_XML_TOO_DEEP' }, 'an empty element past the limit');
});

t.test('between elements takes only white space, comments, PIs, blank CDATA and blank references; else a content error', async (t) => {
  const ok: Array<[doc: string, expected: Token[]]> = [
    [
      '<a> <b>x</b>\n</a>',
      [
        ['start', 'a', 1],
        ['start', 'b', 2],
        ['text', 'x'],
        ['end', 'b'],
        ['end', 'a'],
      ],
    ],
    [
      '<a><!--c--><?p?><![CDATA[ ]]>&#32;&#x9;<b/></a>',
      [
        ['start', 'a', 1],
        ['start', 'b', 2],
        ['end', 'a'],
      ],
    ],
  ];
  for (const [doc, expected] of ok) t.same(new Tokenizer(doc).elementsOnly(), expected, doc);
  // prettier-ignore
  const refused: Array<[doc: string, message: RegExp]> = [
    ['<a>x<b/></a>', /text inside <a>/],
    ['<a><![CDATA[x]]><b/></a>', /text inside <a>/],
    ['<a>&#65;<b/></a>', /text inside <a>/],
    ['<a><b>x<c/></b></a>', /<c> inside <b>/],
    ['<x:a><b>y<x:c/></b></x:a>', /<x:c> inside <b>/],
  ];
  for (const [doc, message] of refused) t.throws(() => new Tokenizer(doc).elementsOnly(), { name: 'ContentError', message }, doc);
});

t.test('after a content error, scans the rest for well-formedness and the first element outside the table', async (t) => {
  const after = (doc: string) => {
    const lexer = new Tokenizer(doc);
    t.throws(() => lexer.elementsOnly(), { name: 'ContentError' }, `${doc}: a content error first`);
    return lexer.rest();
  };
  t.equal(after('<a>x<b/><c/></a>'), null, 'nothing outside the table');
  t.equal(after('<a>x<b/><zz/><yy/></a>'), 'zz', 'the first unknown element');
  t.throws(() => after('<a>x<b/></c>'), { code: NWF, message: /<\/c> closes <a>/ }, 'a well-formedness error after it still wins');
  t.throws(() => after('<a>x<b>'), { code: NWF, message: /is not closed/ });
  t.throws(() => after('<a>x</a><a/>'), { code: NWF, message: /a second root element/ });
});
