-- POST /api/v1/bookings with a group of 2 to 5 applicants (each a distinct valid NIK) for
-- the next slot of the data file's list, as the app books a family. The kind of request is
-- "group<size>", so the check can count the places the 201s took.
-- Usage: wrk -s api_book_group.lua URL -- DATA
local common = require "common"

local data, slots, sent_at, size
local n = 0
local headers = { ["Content-Type"] = "application/json", ["Accept-Language"] = "id" }

function setup(thread)
  common.setup(thread)
end

function init(args)
  data = common.load(args[1])
  slots = data.slots
end

function request()
  local id = thread_id or 0
  local seq = id * 1000000 + n * 5
  local slot = slots[(id * 7919 + n) % #slots + 1]
  size = (id * 31 + n) % 4 + 2
  n = n + 1
  local applicants = {}
  for member = 0, size - 1 do
    local nik, birth = common.nik(data.region, seq + member)
    applicants[#applicants + 1] = string.format(
      '{"nik":"%s","full_name":"%s","birth_date":"%s","purpose":"umrah"}',
      nik, common.name(seq + member), birth
    )
  end
  local body = string.format(
    '{"office":"%s","date":"%s","window":%d,"email":"rombongan%d@example.com",'
      .. '"phone":"%s","applicants":[%s]}',
    slot[1], slot[2], slot[3], seq, common.phone(data.region, seq), table.concat(applicants, ",")
  )
  sent_at = common.sent()
  return wrk.format("POST", "/api/v1/bookings", headers, body)
end

function response(status, headers, body)
  local elapsed = common.now() - sent_at
  if status == 409 then
    status = "409 " .. (body:match('"error":%s*"([%w_]+)"') or "?")
  end
  common.record("group" .. size, status, elapsed)
  common.finish_if_done(data.cap)
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
