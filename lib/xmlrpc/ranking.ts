// Which error a refused document reports. The decoder reports errors as the
// reference decoder (test/reference-decode.ts: a well-formedness scan, then
// fast-xml-parser, then a walk) does, which is the order a client can rely on:
//   - a character XML forbids, anywhere;
//   - else the first well-formedness error in document order (including a
//     DOCTYPE and elements nested past 3 * maxDepth + 5);
//   - else an element that is not XML-RPC, anywhere;
//   - else the first XML-RPC error in the order of a walk that checks a
//     node's list of children before descending into them.
// So an XML-RPC error does not stop the reading: it is recorded (`invalid`),
// and the rest of the document is scanned for a well-formedness error that
// would take precedence (`settle`). Nesting past maxDepth is the one XML-RPC
// error whose rank depends on what follows: a list check of an enclosing
// element (text, a second child...) comes before it in the walk, so those
// checks go on for the open ancestors while the rest is scanned (`onStart`...).

import { DecodeError } from '../errors.js';
import { El, ELEMENT_NAMES, XMLRPC_ELEMENTS, elementOf } from './elements.js';
import { XmlLexer } from './xml-lexer.js';
import { fail } from './xml-text.js';

/** Thrown (not an Error: no stack captured) when an XML-RPC error is found; see `RankedLexer.invalid`. */
export const DEFERRED: unique symbol = Symbol('deferred XML-RPC error');

export const MEMBER_PARTS = 'a <member> holds exactly one <name> and one <value>';

/** The XML lexer over the XML-RPC elements, with the error ranking above; the reader extends it. */
export abstract class RankedLexer extends XmlLexer<El> {
  /** The first XML-RPC error, raised once the document is known to be well formed. */
  private deferred: DecodeError | null = null;
  /** Open members whose <value> came before their <name> (indexes into `open`), when any. */
  protected nameless: number[] | null = null;
  // After nesting past maxDepth: the open ancestors whose checks still rank
  // before it, and their state.
  private ancestors = 0;
  private children: number[] | null = null;
  private named: boolean[] | null = null;
  /** The index of a <name> of an ancestor member being read, or -1. */
  private probe = -1;
  private listError: DecodeError | null = null;

  constructor(
    text: string,
    protected readonly maxDepth: number,
  ) {
    // Element depth of a scalar inside `maxDepth` nested containers:
    // methodCall/params/param/value, then array/data/value per level, then the type.
    super(text, 3 * maxDepth + 5, XMLRPC_ELEMENTS);
  }

  /** Records an XML-RPC error and throws DEFERRED; the cursor must be on a token boundary. */
  protected invalid(message: string): never {
    if (this.deferred === null) this.deferred = new DecodeError('ERR_XMLRPC_INVALID', message);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- DEFERRED is a sentinel (no stack captured), caught by identity in decode.ts and never seen outside it
    throw DEFERRED;
  }

  /** After DEFERRED: the error the document is refused with (thrown if well-formedness fails). */
  settle(): DecodeError {
    this.scanRest();
    if (this.unknownElement !== null) return new DecodeError('ERR_XMLRPC_INVALID', `<${this.unknownElement}> is not an XML-RPC element`);
    return this.listError ?? (this.deferred as DecodeError);
  }

  /**
   * The array/struct just opened nests past maxDepth. Recorded like any
   * XML-RPC error, but the open ancestors keep their list checks, which rank
   * before it, while `scanRest` reads on (the hooks below).
   */
  protected tooDeep(): never {
    this.deferred = new DecodeError('ERR_XML_TOO_DEEP', `arrays/structs nest deeper than ${this.maxDepth} levels (maxDepth)`);
    const ancestors = this.tagEmpty ? this.depth : this.depth - 1;
    this.ancestors = ancestors;
    // Every ancestor already holds one child element: the one on the path here.
    this.children = new Array<number>(ancestors).fill(1);
    const named = (this.named = new Array<boolean>(ancestors).fill(true));
    for (const member of this.nameless ?? []) named[member] = false;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the DEFERRED sentinel, as in invalid()
    throw DEFERRED;
  }

  /**
   * The element limit is only how maxDepth looks to the lexer, and it is
   * usually what trips first (the elements inside a container one level too
   * deep): said in terms of maxDepth, the limit users set and read about.
   */
  protected override elementsTooDeep(): never {
    return fail('ERR_XML_TOO_DEEP', `elements nest deeper than ${this.maxDepth} levels of arrays/structs allow (maxDepth)`);
  }

  private listInvalid(message: string): void {
    if (this.listError === null) this.listError = new DecodeError('ERR_XMLRPC_INVALID', message);
  }

  protected override onStart(parent: number, id: El): void {
    if (parent === this.probe) this.listInvalid(`an element inside <name>`);
    if (parent < 0 || parent >= this.ancestors) return;
    const children = this.children as number[];
    const named = this.named as boolean[];
    const kind = elementOf(this.open[parent] as string);
    switch (kind) {
      case El.Value:
      case El.Param:
      case El.Array:
      case El.Fault:
      case El.MethodResponse:
        if (++children[parent]! > 1) this.listInvalid(`a second child element in <${ELEMENT_NAMES[kind]}>`);
        break;
      case El.Member:
        if (id === El.Name && named[parent] === false) {
          named[parent] = true;
          if (!this.tagEmpty) this.probe = parent + 1;
        } else {
          this.listInvalid(MEMBER_PARTS);
        }
        break;
      default: // methodCall, params, data, struct: their children are checked one by one
        break;
    }
  }

  protected override onEnd(index: number): void {
    if (index === this.probe) this.probe = -1;
    if (index < this.ancestors) {
      this.ancestors = index;
      if ((this.named as boolean[])[index] === false) this.listInvalid(MEMBER_PARTS);
    }
  }

  protected override onText(): void {
    if (this.depth - 1 < this.ancestors) this.listInvalid(`text inside <${this.current()}>`);
  }
}
