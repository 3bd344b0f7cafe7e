-- wrk script for bench/submit.py --client wrk: POSTs pre-generated JSON bodies, one per request.
-- wrk ... -s bench/submit.lua <url> -- <bodies file> <threads> <authorization header or ""> <cycle|once>
-- Each thread takes every n-th line of the file (n = threads). "once": a body is sent once (unique
-- filings); when they run out the last one is sent again (answered 409 and counted as an error).
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local nthreads = tonumber(args[2])
  bodies = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then bodies[#bodies + 1] = line end
    i = i + 1
  end
  cycle = args[4] == "cycle"
  sent = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[3] ~= nil and args[3] ~= "" then wrk.headers["Authorization"] = args[3] end
end

function request()
  sent = sent + 1
  local k = sent
  if k > #bodies then
    if cycle then k = (k - 1) % #bodies + 1 else k = #bodies end
  end
  return wrk.format(nil, nil, nil, bodies[k])
end
