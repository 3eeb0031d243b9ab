// The documentation page's fixtures, shared by rpc-doc.test.ts and
// rpc-doc-browser.test.ts: a dispatcher whose names and help are markup
// (Python's CVE-2019-16935), which the page must show as text.

import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';

export const HOSTILE_NAME = '<script>document.title="pwned by a name";alert(1)</script>';
export const HOSTILE_HELP = `<img src=x onerror="document.title='pwned by help'"> & "quotes" 'single' &amp; </p><script>alert(2)</script>`;

/** A dispatcher with a documented method, hostile names and help, and an undocumented one. */
export function hostileDispatcher(): XmlRpcDispatcher {
  const d = new XmlRpcDispatcher();
  d.registerFunction((a: number, b: number) => a + b, 'add', {
    help: 'add(a, b): the sum.\nA second line.',
    signatures: [
      ['int', 'int', 'int'],
      ['double', 'double', 'double'],
    ],
  });
  d.registerFunction(() => 1, HOSTILE_NAME, { help: HOSTILE_HELP });
  d.registerFunction(() => 2, 'quote"d&<name>');
  d.registerFunction(() => 3, 'undocumented');
  return d;
}
