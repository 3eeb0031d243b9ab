// Remote objects from Python's xmlrpc.client, which knows nothing of them:
// create, get, set, call, describe, release through the objects.* wire
// methods, with and without the X-Object-Session header.

import t from 'tap';
import { runPythonJson } from './support.js';
import { spawnSync } from 'node:child_process';
import { Server } from '../lib/server/server.js';
import { ObjectServer } from '../lib/objects/server.js';

const python = spawnSync('python3', ['-c', 'import xmlrpc.client'], { encoding: 'utf8' });
const skip = python.error !== undefined || python.status !== 0 ? 'python3 with xmlrpc.client is not available on this machine' : false;

class ToWrap {
  num: number;
  constructor(num: number) {
    this.num = num;
  }
  do_stuff(what: string): string {
    return `${what} ${this.num}`;
  }
  child(): ToWrap {
    return new ToWrap(this.num * 10);
  }
  same(other: unknown): boolean {
    return other === this;
  }
}

const SCRIPT = String.raw`
import json, sys, xmlrpc.client as x
url = sys.argv[1]
out = {}
def rec(name, fn):
    try:
        out[name] = {"ok": fn()}
    except x.Fault as f:
        out[name] = {"fault": f.faultCode}

class SessionTransport(x.Transport):
    def send_headers(self, connection, headers):
        connection.putheader("X-Object-Session", "python-session-0123456789")
        super().send_headers(connection, headers)

p = x.ServerProxy(url, allow_none=True)
objs = p.objects
w = objs.create("ToWrap", [7])
out["ref_keys"] = sorted(w.keys())
rec("get", lambda: objs.get(w, "num"))
rec("set", lambda: objs.set(w, "num", 5))
rec("get_after_set", lambda: objs.get(w, "num"))
rec("call", lambda: objs.call(w, "do_stuff", ["yay"]))
rec("copy", lambda: objs.get(w, "", {"return": "copy"}))
rec("describe", lambda: objs.describe(w))
child = objs.call(w, "child", [])
rec("child_type", lambda: child["type"])
rec("child_num", lambda: objs.get(child, "num"))
rec("same", lambda: objs.call(w, "same", [w]))
rec("not_same", lambda: objs.call(w, "same", [child]))
rec("constructor", lambda: objs.get(child, "constructor"))
rec("renew", lambda: objs.renew([w, child]))
rec("release", lambda: objs.release([w, [child, 1]]))
rec("released", lambda: objs.get(w, "num"))
rec("not_offered", lambda: objs.create("Function", ["return 1"]))

s = x.ServerProxy(url, allow_none=True, transport=SessionTransport())
mine = s.objects.create("ToWrap", [1])
rec("session_ping", lambda: s.objects.ping())
rec("session_list", lambda: [[r["type"], r["session"], r["refs"]] for r in s.objects.list()])
rec("other_session", lambda: p.objects.get(mine, "num"))
rec("session_release", lambda: s.objects.release([mine]))
print(json.dumps(out))
`;

type Results = Record<string, unknown> & Record<string, { ok?: unknown; fault?: number }>;

function runPython(url: string): Promise<Results> {
  return runPythonJson<Results>(SCRIPT, url);
}

t.test("Python's xmlrpc.client creates, reads, writes, calls and releases remote objects", { skip }, async (t) => {
  const objects = new ObjectServer({ classes: { ToWrap } });
  const server = new Server({ handlers: [objects], onError: () => {} });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(async () => {
    await server.close();
    objects.close();
  });
  const r = await runPython(`http://127.0.0.1:${port}/RPC2`);
  t.same(r.ref_keys, ['__ref__', 'type', 'url'], 'a reference is a plain struct to Python');
  t.same(r.get, { ok: 7 });
  t.same(r.set, { ok: true });
  t.same(r.get_after_set, { ok: 5 });
  t.same(r.call, { ok: 'yay 5' });
  t.same(r.copy, { ok: { num: 5 } });
  t.same(r.describe, { ok: { type: 'ToWrap', methods: ['child', 'do_stuff', 'same'], members: ['num'] } });
  t.same(r.child_type, { ok: 'ToWrap' });
  t.same(r.child_num, { ok: 50 });
  t.same(r.same, { ok: true }, 'the reference Python sent back arrived as the object itself');
  t.same(r.not_same, { ok: false });
  t.same(r.renew, { ok: 2 });
  t.same(r.release, { ok: 2 });
  t.same(r.released, { fault: -32010 });
  t.same(r.constructor, { fault: -32011 });
  t.same(r.not_offered, { fault: -32013 });
  t.same(r.session_ping, { ok: { ok: true, session: 'python-session-0123456789' } });
  t.same(r.session_list, { ok: [['ToWrap', 'python-session-0123456789', 1]] });
  t.same(r.other_session, { fault: -32014 });
  t.same(r.session_release, { ok: 1 });
  t.match(objects.stats(), { sessions: 0, objects: 0, refs: 0 }, 'Python left nothing behind');
});
