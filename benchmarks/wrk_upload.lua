-- wrk script for bench_server.py --load-tool wrk: POST /api/v1/captures, each request a
-- distinct small R-JPEG (a JPEG COM segment carries a unique number: new bytes and a new
-- SHA-256, the same pixels) under a unique Idempotency-Key, as locustfile_server.py does.
-- Arguments after `--`: TOKEN FILE RUN.  Prints one JSON line (statuses, latency) at the end.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local token, base, run, n, cut, boundary
created, other = 0, 0  -- globals: done() reads them from each thread

function init(args)
  token, run = args[1], args[3]
  local fh = assert(io.open(args[2], "rb"))
  base = fh:read("*a")
  fh:close()
  cut = 4 + base:byte(5) * 256 + base:byte(6)  -- after the first (JFIF) segment
  boundary = "irpatrolbench" .. run
  n = 0
end

function request()
  n = n + 1
  local key = string.format("%s-%d-%09d", run, id, n)
  local note = "irpatrol bench " .. key
  local len = #note + 2
  local jpeg = base:sub(1, cut) .. "\255\254" .. string.char(math.floor(len / 256), len % 256)
    .. note .. base:sub(cut + 1)
  local body = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cap"
    .. key .. ".jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" .. jpeg .. "\r\n--" .. boundary .. "--\r\n"
  return wrk.format("POST", "/api/v1/captures", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
    ["Idempotency-Key"] = "bench-" .. key,
  }, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format(
    '{"created": %d, "other": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"socket_errors": %d}\n',
    c, o, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
