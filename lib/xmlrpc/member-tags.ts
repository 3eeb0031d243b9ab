// The tags of a struct member, kept by name: the encoder's (encode.ts) for
// members it writes one by one.

import { NOT_ASCII, escapeText, flat } from './encode-text.js';
import { noteNonAscii } from './sink.js';

/** A member's opening tags with its name, alone and followed by each scalar's opening tags. */
export interface MemberTags {
  /** `<member><name>…</name>` */
  readonly open: string;
  readonly string: string;
  readonly int: string;
  readonly double: string;
  /** The whole member for `true` and for `false`. */
  readonly yes: string;
  readonly no: string;
  /** The name is not ASCII: its document is marked so (noteNonAscii) at each use. */
  readonly nonAscii: boolean;
}

/**
 * Member names met before, with their tags: a struct's names come back in
 * every answer of a method, and escaping a name and joining it to its tags
 * cost more than a Map lookup. Only names of up to MEMBER_NAME_KEPT characters are kept, at most
 * MEMBER_TAGS_KEPT of them: once full, the cache starts again empty, so names
 * sent by a client can cost a miss but never grow it. Process-wide: the
 * tags are a function of the name alone.
 */
const memberTagsOf = new Map<string, MemberTags>();
const MEMBER_TAGS_KEPT = 512;
const MEMBER_NAME_KEPT = 64;

export function memberTags(name: string): MemberTags {
  const known = memberTagsOf.get(name);
  if (known !== undefined) {
    if (known.nonAscii) noteNonAscii(); // what escapeText would have done
    return known;
  }
  const open = '<member><name>' + escapeText(name, 'member name') + '</name>';
  if (name.length > MEMBER_NAME_KEPT) {
    // Not kept: joined, not flattened, as each use did before the cache.
    return tagsOf(open, (s) => s, false);
  }
  const tags = tagsOf(open, flat, NOT_ASCII.test(name));
  if (memberTagsOf.size >= MEMBER_TAGS_KEPT) memberTagsOf.clear();
  memberTagsOf.set(name, tags);
  return tags;
}

function tagsOf(open: string, finish: (s: string) => string, nonAscii: boolean): MemberTags {
  return {
    open: finish(open),
    string: finish(open + '<value><string>'),
    int: finish(open + '<value><int>'),
    double: finish(open + '<value><double>'),
    yes: finish(open + '<value><boolean>1</boolean></value></member>'),
    no: finish(open + '<value><boolean>0</boolean></value></member>'),
    nonAscii,
  };
}
