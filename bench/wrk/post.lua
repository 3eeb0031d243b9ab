-- wrk script: every request is a POST of the same XML-RPC methodCall.
-- usage: wrk ... -s bench/wrk/post.lua http://127.0.0.1:PORT/RPC2 -- BODY_FILE
-- wrk adds Host and Content-Length; connections are kept alive.

function init(args)
  local file = assert(io.open(args[1], "rb"), "cannot open the body file " .. tostring(args[1]))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "text/xml"
  wrk.headers["User-Agent"] = "wrk"
end
