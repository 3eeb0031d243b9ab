// The XML-RPC vocabulary: its elements by local name (`El`), and the table
// through which the XML lexer identifies them (xml-lexer.ts knows no
// XML-RPC): each start tag's name is mapped to an `El` as it is read,
// without slicing.

import { holds } from './xml-chars.js';
import type { ElementTable } from './xml-lexer.js';

/** The XML-RPC elements, by local name; `Unknown` for any other. */
// prettier-ignore
export const enum El {
  Unknown, MethodCall, MethodResponse, MethodName, Params, Param, Fault, Value,
  Int, I4, I8, Boolean, String, Double, DateTime, Base64, Nil, Struct, Member, Name, Array, Data,
}

/** The local name of each element, indexed by `El`. */
// prettier-ignore
export const ELEMENT_NAMES: readonly string[] = [
  '', 'methodCall', 'methodResponse', 'methodName', 'params', 'param', 'fault', 'value',
  'int', 'i4', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'nil', 'struct', 'member', 'name', 'array', 'data',
];

/** Each element's plain start tag, `<value>`, indexed by `El`. */
const START_TAGS: readonly string[] = ELEMENT_NAMES.map((name) => `<${name}>`);

/**
 * The element whose local name is `s[at, at + len)`: length and one or two
 * characters choose the candidate, one comparison confirms it.
 */
function elementId(s: string, at: number, len: number): El {
  let id: El;
  switch (len) {
    case 2: {
      const c = s.charCodeAt(at + 1);
      id = c === 0x34 ? El.I4 : c === 0x38 ? El.I8 : El.Unknown;
      return s.charCodeAt(at) === 0x69 ? id : El.Unknown;
    }
    case 3:
      id = s.charCodeAt(at) === 0x69 ? El.Int : El.Nil;
      break;
    case 4:
      id = s.charCodeAt(at) === 0x64 ? El.Data : El.Name;
      break;
    case 5:
      switch (s.charCodeAt(at)) {
        case 0x76:
          id = El.Value;
          break; // v
        case 0x70:
          id = El.Param;
          break; // p
        case 0x61:
          id = El.Array;
          break; // a
        default:
          id = El.Fault;
          break;
      }
      break;
    case 6:
      switch (s.charCodeAt(at)) {
        case 0x73:
          id = s.charCodeAt(at + 3) === 0x69 ? El.String : El.Struct;
          break; // strIng, strUct
        case 0x6d:
          id = El.Member;
          break;
        case 0x70:
          id = El.Params;
          break;
        case 0x64:
          id = El.Double;
          break;
        default:
          id = El.Base64;
          break;
      }
      break;
    case 7:
      id = El.Boolean;
      break;
    case 10:
      id = s.charCodeAt(at + 6) === 0x4e ? El.MethodName : El.MethodCall; // methodName, methodCall
      break;
    case 14:
      id = El.MethodResponse;
      break;
    case 16:
      id = El.DateTime;
      break;
    default:
      return El.Unknown;
  }
  return holds(s, at, ELEMENT_NAMES[id] as string) ? id : El.Unknown;
}

/** The element a raw name (`value`, `ex:nil`) is. */
export function elementOf(raw: string): El {
  const at = raw.indexOf(':') + 1;
  return elementId(raw, at, raw.length - at);
}

/** The XML-RPC elements as the lexer sees them. */
export const XMLRPC_ELEMENTS: ElementTable<El> = { names: ELEMENT_NAMES, startTags: START_TAGS, idOf: elementId };
