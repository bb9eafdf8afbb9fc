-- POST /api/v1/releases/{id}/entries while a ballot takes entries: each request a new entry
-- of 1 to 5 applicants (each a distinct valid NIK; mostly one), with 1 to 3 ranked choices
-- taken in turn from the data file's list (a session, or window 0: any session of the day).
-- Each answer is counted as "enter <status>" (a 409 with its error code).
-- Usage: wrk -s ballot_enter.lua URL -- DATA
local common = require "common"

local data, choices, path, sent_at
local n = 0
local headers = { ["Content-Type"] = "application/json", ["Accept-Language"] = "id" }
-- Entry sizes in turn: seven in ten alone, the rest families of 2 to 5, as in the draw.
local SIZES = { 1, 1, 1, 1, 1, 1, 1, 2, 3, 1, 4, 2, 5, 1, 3, 1, 1, 1, 2, 1 }

function setup(thread)
  common.setup(thread)
end

function init(args)
  data = common.load(args[1])
  choices = data.choices
  path = string.format("/api/v1/releases/%d/entries", data.release)
end

local function choice_json(choice)
  if choice[2] == 0 then
    return string.format('{"date":"%s"}', choice[1])
  end
  return string.format('{"date":"%s","window":%d}', choice[1], choice[2])
end

function request()
  local id = thread_id or 0
  local seq = id * 1000000 + n * 5
  local size = SIZES[(id * 7 + n) % #SIZES + 1]
  local wanted = (id + n) % 3 + 1
  local first = (id * 7919 + n * 13) % #choices
  n = n + 1
  local applicants = {}
  for member = 0, size - 1 do
    local nik, birth = common.nik(data.region, seq + member)
    applicants[#applicants + 1] = string.format(
      '{"nik":"%s","full_name":"%s","birth_date":"%s","purpose":"umrah"}',
      nik, common.name(seq + member), birth
    )
  end
  -- Consecutive places in the list: distinct choices, since it has more than three.
  local picked = {}
  for rank = 0, wanted - 1 do
    picked[#picked + 1] = choice_json(choices[(first + rank) % #choices + 1])
  end
  local body = string.format(
    '{"email":"undian%d@example.com","phone":"%s","applicants":[%s],'
      .. '"choices":[%s]}',
    seq, common.phone(data.region, seq), table.concat(applicants, ","), table.concat(picked, ",")
  )
  sent_at = common.sent()
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  local elapsed = common.now() - sent_at
  if status == 409 then
    status = "409 " .. (body:match('"error":%s*"([%w_]+)"') or "?")
  end
  common.record("enter", status, elapsed)
  common.finish_if_done(data.cap)
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
