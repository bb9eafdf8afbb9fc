-- POST /api/v1/bookings, each request a new applicant (distinct valid NIK) for the next
-- slot of the data file's list, as the mobile app does; to the data file's `path` when it has
-- one (the floor's view, bench/floor_site). Usage: wrk -s api_book.lua URL -- DATA
local common = require "common"

local data, slots, path, sent_at
local n = 0
local headers = { ["Content-Type"] = "application/json", ["Accept-Language"] = "id" }

function setup(thread)
  common.setup(thread)
end

function init(args)
  data = common.load(args[1])
  slots = data.slots
  path = data.path or "/api/v1/bookings"
end

function request()
  local id = thread_id or 0
  local seq = id * 1000000 + n
  local slot = slots[(id * 7919 + n) % #slots + 1]
  n = n + 1
  local nik, birth = common.nik(data.region, seq)
  local body = string.format(
    '{"office":"%s","date":"%s","window":%d,"nik":"%s","full_name":"%s",'
      .. '"birth_date":"%s","email":"pemohon%s-%d@example.com","phone":"%s",'
      .. '"purpose":"umrah"}',
    slot[1], slot[2], slot[3], nik, common.name(seq), birth, data.region, seq,
    common.phone(data.region, seq)
  )
  sent_at = common.sent()
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  local elapsed = common.now() - sent_at
  if status == 409 then
    -- Tell "full" from "duplicate": only "full" is the answer a rush should give.
    status = "409 " .. (body:match('"error":%s*"([%w_]+)"') or "?")
  end
  common.record("book", status, elapsed)
  common.finish_if_done(data.cap)
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
