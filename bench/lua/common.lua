-- Shared by the wrk scripts: a monotonic clock, distinct valid NIKs, per-thread tallies,
-- stopping a thread after its share of requests, and a JSON summary for bench/load.py.

local ffi = require "ffi"
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]

local M = {}
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")

-- Seconds since an arbitrary origin, with microsecond resolution or better.
function M.now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

-- A valid NIK and its birth date for the n-th applicant of a region (6 digits, real province).
-- n < 134,000,000 gives distinct (birth date, serial) pairs, hence distinct NIKs.
function M.nik(region, n)
  local serial = n % 9999 + 1
  local k = math.floor(n / 9999)
  local day = k % 28 + 1
  local month = math.floor(k / 28) % 12 + 1
  local year = 1960 + math.floor(k / 336) % 40
  local nik = string.format("%s%02d%02d%02d%04d", region, day, month, year % 100, serial)
  return nik, string.format("%04d-%02d-%02d", year, month, day)
end

-- A mobile number for request `seq` of a run (thread * 1,000,000 + its own count): a phone
-- holds a few active bookings only (BOOKINGS_PER_CONTACT), so each new applicant has its
-- own, in this run and against every other run (the region's province and its last two
-- digits: the ten API rushes of a run count those up to 30).
function M.phone(region, seq)
  local thread, count = math.floor(seq / 1000000), seq % 1000
  return string.format(
    "+62812%s%s%02d%03d", region:sub(1, 2), region:sub(5, 6), thread % 100, count
  )
end

-- A full name as on a KTP (letters only, as the forms require).
local NAMES = { "Siti Aminah", "Budi Santoso", "Dewi Lestari", "Ahmad Fauzi", "Rina Wulandari",
  "Muhammad Rizki", "Nur Hidayah", "Agus Salim" }
function M.name(n)
  return NAMES[n % #NAMES + 1]
end

-- Read the data file bench/load.py wrote for this run (a Lua table).
function M.load(path)
  local chunk = assert(loadfile(path))
  return chunk()
end

-- Per-thread tallies, read back by done() as one string per thread (see tally() below).
local statuses, kinds, samples = {}, {}, {}
local first_sent, last_answer, answered = nil, nil, 0

-- Call when a request is sent: the first one starts this thread's clock.
function M.sent()
  local t = M.now()
  if first_sent == nil then
    first_sent = t
  end
  return t
end

function M.record(kind, status, seconds)
  local key = kind .. " " .. status
  statuses[key] = (statuses[key] or 0) + 1
  local list = samples[kind]
  if list == nil then
    list = {}
    samples[kind] = list
    kinds[#kinds + 1] = kind
  end
  list[#list + 1] = math.floor(seconds * 1e6 + 0.5)
  last_answer = M.now()
end

-- Count an event that has no latency of its own (a flow that went wrong).
function M.count(key)
  statuses[key] = (statuses[key] or 0) + 1
end

-- Once a thread has had its share of answers it says so on stdout; bench/load.py ends wrk
-- when all have. Threads keep the load on until then: a thread stopped on its own leaves a
-- connection wrk has already reopened, and a sync gunicorn worker waits on it for good.
function M.finish_if_done(cap)
  answered = answered + 1
  if cap > 0 and answered == cap then
    io.write("BENCH_THREAD_DONE\n")
    io.flush()
  end
end

-- wrk 4.1's thread:get() must never fetch a table. Its script_copy_value() pops the table it
-- copied and script_thread_get() pops it again: each table fetched moves the thread's Lua
-- stack top one slot down, below its base after two and below the stack itself after three
-- (a nested table breaks the copy at once). The next thread:get() then writes below the
-- stack: a segfault in lua_getfield when that memory is unmapped (the HTML flow, five
-- latency lists a thread, crashed wrk in done() now and then), silent damage otherwise.
-- Strings and numbers are copied with balanced pops, so a thread hands over its tallies as
-- one string, made when done() asks for the global BENCH_TALLY (the threads have ended by
-- then: wrk joins them first). Lines: "T first_sent last_answer" ("-" when none), "S count
-- key" per status, "L kind us us ..." per latency list.
local TALLY = "BENCH_TALLY"

local function number_or_dash(t)
  return t and string.format("%.9f", t) or "-"
end

local function tally()
  local lines = { "T " .. number_or_dash(first_sent) .. " " .. number_or_dash(last_answer) }
  for key, count in pairs(statuses) do
    lines[#lines + 1] = "S " .. count .. " " .. (key:gsub("%c", " "))
  end
  for _, kind in ipairs(kinds) do
    lines[#lines + 1] = "L " .. kind .. " " .. table.concat(samples[kind], " ")
  end
  return table.concat(lines, "\n")
end

setmetatable(_G, {
  __index = function(_, name)
    if name == TALLY then
      return tally()
    end
  end,
})

-- Add one thread's tally (the string above) into the merged figures.
local function merge_tally(text, into)
  for line in text:gmatch("[^\n]+") do
    local tag, rest = line:sub(1, 1), line:sub(3)
    if tag == "T" then
      local first, last = rest:match("^(%S+) (%S+)$")
      first, last = tonumber(first), tonumber(last)
      if first and (into.first == nil or first < into.first) then
        into.first = first
      end
      if last and (into.last == nil or last > into.last) then
        into.last = last
      end
    elseif tag == "S" then
      local count, key = rest:match("^(%d+) (.*)$")
      into.statuses[key] = (into.statuses[key] or 0) + tonumber(count)
    elseif tag == "L" then
      local kind, values = rest:match("^(%S+) ?(.*)$")
      local list = into.samples[kind] or {}
      into.samples[kind] = list
      for v in values:gmatch("%d+") do
        list[#list + 1] = tonumber(v)
      end
    end
  end
end

local threads = {}

function M.setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

local function percentile(sorted, p)
  if #sorted == 0 then
    return 0
  end
  local index = math.max(1, math.min(#sorted, math.ceil(p / 100 * #sorted)))
  return sorted[index]
end

local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- Print one line "BENCH_JSON {...}": wrk's own figures and ours, merged over the threads.
function M.done(summary, latency)
  local merged = { statuses = {}, samples = {} }
  for _, thread in ipairs(threads) do
    merge_tally(thread:get(TALLY) or "", merged)
  end
  local statuses, samples, first, last = merged.statuses, merged.samples, merged.first, merged.last
  local parts = {}
  parts[#parts + 1] = string.format(
    '"wrk":{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,'
      .. '"p99_us":%d,"max_us":%d,"mean_us":%.1f}',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean
  )
  local status_parts = {}
  for key, count in pairs(statuses) do
    status_parts[#status_parts + 1] = json_string(key) .. ":" .. count
  end
  parts[#parts + 1] = '"statuses":{' .. table.concat(status_parts, ",") .. "}"
  local kind_parts = {}
  local all = {}
  for kind, list in pairs(samples) do
    table.sort(list)
    for _, v in ipairs(list) do
      all[#all + 1] = v
    end
    kind_parts[#kind_parts + 1] = string.format(
      '%s:{"count":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}',
      json_string(kind), #list, percentile(list, 50), percentile(list, 90),
      percentile(list, 99), list[#list] or 0
    )
  end
  table.sort(all)
  kind_parts[#kind_parts + 1] = string.format(
    '"all":{"count":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}',
    #all, percentile(all, 50), percentile(all, 90), percentile(all, 99), all[#all] or 0
  )
  parts[#parts + 1] = '"latency":{' .. table.concat(kind_parts, ",") .. "}"
  parts[#parts + 1] = string.format('"elapsed_s":%.6f', (first and last) and (last - first) or 0)
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end

return M
