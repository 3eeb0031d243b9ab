// Python's DocXMLRPCServer: a GET on the XML-RPC path answers an HTML page
// listing the methods, their signatures and help; a POST still goes to the
// dispatcher it wraps, so one path serves both. The page is built with
// xmlbuilder2, which escapes every text and attribute it writes: a method
// name or a help text is data, never markup (Python's page had an XSS there,
// CVE-2019-16935). Answered on each GET, so methods registered later appear.

import { createRequire } from 'node:module';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { Handler, Request, Response } from '../server/request.js';

type Builder = typeof import('xmlbuilder2');
let builder: Builder | null = null;

/** xmlbuilder2 (CommonJS) on the first page only: importing the library does not pay for it (some 50 ms at startup). */
function loadBuilder(): Builder {
  builder ??= createRequire(import.meta.url)('xmlbuilder2') as Builder;
  return builder;
}

/** What the page reads from the handler it wraps: an XmlRpcDispatcher has it, whether or not its introspection methods are offered. */
export interface DocumentedHandler extends Handler {
  listMethods(): string[];
  methodHelp(name: string): string;
  methodSignature(name: string): string[][] | string;
}

export interface DocHandlerOptions {
  /** The page's title and heading (Python's server_name and server_title). */
  name?: string;
  /** The paragraph under the heading (Python's server_documentation). */
  documentation?: string;
}

export const DEFAULT_DOC_NAME = 'XML-RPC Server Documentation';
const DEFAULT_DOCUMENTATION = 'This server exports the following methods through the XML-RPC protocol.';

// The page runs nothing and loads nothing; its one style sheet is inline. A
// second line of defence: escaping is the first.
const PAGE_HEADERS = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
});
const NOT_ALLOWED_HEADERS = Object.freeze({ Allow: 'GET, HEAD, POST', 'Content-Type': 'text/plain; charset=utf-8' });

// No '<', '>' or '&': the builder escapes text, and inside <style> an escape would be read as is.
const STYLE = [
  'body { font-family: sans-serif; max-width: 60em; margin: 1em auto; padding: 0 1em; line-height: 1.4 }',
  'dt { margin-top: 1em; font-weight: bold }',
  'dd { margin-left: 2em }',
  'ul.signatures { margin: 0.3em 0; padding-left: 1.2em }',
  '.help { white-space: pre-wrap; margin: 0.3em 0 }',
  '.none { color: #777; font-style: italic }',
].join('\n');

/** Characters XML 1.0 forbids (controls, lone surrogates, U+FFFE/FFFF): shown as U+FFFD, so the page stays well formed. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const AMPERSAND = /&/g;

/**
 * Wraps an XML-RPC handler (an XmlRpcDispatcher) on its own path: GET and
 * HEAD answer the documentation page, POST goes to `rpc`, any other method
 * 405 with `Allow: GET, HEAD, POST`. Add it to the server instead of `rpc`.
 */
export class DocHandler implements Handler {
  readonly rpc: DocumentedHandler;
  readonly name: string;
  readonly documentation: string;

  constructor(rpc: DocumentedHandler, options: DocHandlerOptions = {}) {
    if (typeof rpc?.listMethods !== 'function' || typeof rpc.handle !== 'function') {
      throw new TypeError('DocHandler wraps a handler that lists its methods (an XmlRpcDispatcher)');
    }
    const { name = DEFAULT_DOC_NAME, documentation = DEFAULT_DOCUMENTATION } = options;
    if (typeof name !== 'string' || typeof documentation !== 'string') throw new TypeError('DocHandler: name and documentation must be strings');
    this.rpc = rpc;
    this.name = name;
    this.documentation = documentation;
  }

  match(request: Request): boolean {
    return this.rpc.match(request);
  }

  handle(request: Request): Response | Promise<Response> {
    const method = request.method;
    if (method === 'POST') return this.rpc.handle(request);
    // HEAD: the same head; the server writes no body for it.
    if (method === 'GET' || method === 'HEAD') return { status: 200, headers: PAGE_HEADERS, body: this.page() };
    return { status: 405, headers: NOT_ALLOWED_HEADERS, body: 'This path takes GET (its documentation) and POST (XML-RPC)\n' };
  }

  checkListen(address: { host: string; port: number }): void {
    this.rpc.checkListen?.(address);
  }

  /** As the handler it wraps: only POST reads the body, and that goes to `rpc`. */
  get lendsBody(): boolean {
    return this.rpc.lendsBody === true;
  }

  /** The page as a string: the methods as they are now, `system.*` in a section of their own. */
  page(): string {
    const names = this.rpc.listMethods();
    const doc = loadBuilder().create().dtd({ name: 'html' });
    const html = doc.ele('html', { lang: 'en' });
    const head = html.ele('head');
    head.ele('meta', { charset: 'utf-8' });
    head.ele('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' });
    text(head, 'title', this.name);
    text(head, 'style', STYLE);
    const body = html.ele('body');
    text(body, 'h1', this.name);
    if (this.documentation !== '') text(body, 'p', this.documentation, { class: 'documentation' });
    this.section(
      body,
      'Methods',
      'methods',
      names.filter((name) => !name.startsWith('system.')),
    );
    const system = names.filter((name) => name.startsWith('system.'));
    if (system.length > 0) this.section(body, 'System methods', 'system-methods', system);
    // Nothing after </html>: a browser would move it into the body.
    return doc.end({ headless: true });
  }

  private section(body: XMLBuilder, title: string, id: string, names: string[]): void {
    text(body, 'h2', title, { id });
    if (names.length === 0) {
      text(body, 'p', 'None.', { class: 'none' });
      return;
    }
    const list = body.ele('dl', { class: id });
    for (const name of names) {
      text(list.ele('dt'), 'code', name);
      const entry = list.ele('dd');
      const signatures = this.rpc.methodSignature(name);
      if (Array.isArray(signatures)) {
        const items = entry.ele('ul', { class: 'signatures' });
        for (const signature of signatures) text(items.ele('li'), 'code', signatureText(name, signature));
      } else {
        text(entry, 'p', 'Signature not declared.', { class: 'signature none' });
      }
      const help = this.rpc.methodHelp(name);
      if (help === '') text(entry, 'p', 'No help.', { class: 'help none' });
      else text(entry, 'p', help, { class: 'help' });
    }
  }
}

/** `int add(int, int)`: the return type first, as C declares it. */
function signatureText(name: string, signature: readonly string[]): string {
  const [returns = '', ...params] = signature;
  return `${returns} ${name}(${params.join(', ')})`;
}

/**
 * An element holding `value` as text: always given a text node, so that an
 * empty one is written `<p></p>` (HTML reads `<p/>` as an open tag).
 */
function text(parent: XMLBuilder, element: string, value: string, attributes: Record<string, string> = {}): XMLBuilder {
  const clean: Record<string, string> = {};
  for (const [key, attribute] of Object.entries(attributes)) clean[key] = xmlSafe(attribute);
  return parent.ele(element, clean).txt(xmlSafe(value)).up();
}

/**
 * xmlbuilder2 escapes `<`, `>` and `"`, but writes an `&` that starts
 * something like a reference (`&amp;`, `&nbsp;`, `&#60;`) as is: the page
 * would show `&amp;` as `&`, and `&nbsp;` is no XML. Every `&` is escaped
 * here first, which it then leaves alone: the text is shown exactly.
 */
function xmlSafe(value: string): string {
  return String(value).replace(NOT_XML_CHAR, '\uFFFD').replace(AMPERSAND, '&amp;');
}
