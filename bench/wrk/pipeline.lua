-- wrk script: like post.lua, but each request() sends DEPTH methodCalls in
-- one write (as wrk's own scripts/pipeline.lua does) and wrk waits for all
-- DEPTH responses before sending the next batch. Latency is per batch.
-- usage: wrk ... -s bench/wrk/pipeline.lua http://127.0.0.1:PORT/RPC2 -- BODY_FILE DEPTH

local batch

function init(args)
  local file = assert(io.open(args[1], "rb"), "cannot open the body file " .. tostring(args[1]))
  local body = file:read("*a")
  file:close()
  local depth = tonumber(args[2]) or 16
  local headers = { ["Content-Type"] = "text/xml", ["User-Agent"] = "wrk" }
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format("POST", nil, headers, body)
  end
  batch = table.concat(requests)
end

function request()
  return batch
end
