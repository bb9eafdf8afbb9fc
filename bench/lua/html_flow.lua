-- One browser per wrk thread (run with as many threads as connections): GET the booking
-- form, POST it with its CSRF token, follow the redirect to "check your answers", POST the
-- confirmation, and on success follow the redirect to the booking's page. Each flow is a
-- new applicant with a new NIK and an empty cookie jar; its outcome is counted as
-- "flow booked", "flow full-at-form" (the form already says the window is full),
-- "flow full-at-submit", "flow full-at-check", "flow full-at-confirm", or
-- "flow error-STEP-STATUS". Usage:
--   wrk -t100 -c100 -s html_flow.lua URL -- DATA
local common = require "common"

local data, slots, sent_at
local n = 0
local state, cookies, token, slot_path, next_path, applicant

local STEPS = { "form", "submit", "check", "confirm", "booking" }

function setup(thread)
  common.setup(thread)
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

local function form_body(fields)
  local parts = {}
  for _, pair in ipairs(fields) do
    parts[#parts + 1] = urlencode(pair[1]) .. "=" .. urlencode(pair[2])
  end
  return table.concat(parts, "&")
end

local function new_flow()
  local id = thread_id or 0
  local seq = id * 1000000 + n
  local slot = slots[(id * 7919 + n) % #slots + 1]
  n = n + 1
  local nik, birth = common.nik(data.region, seq)
  applicant = {
    { "nik", nik },
    { "full_name", common.name(seq) },
    { "birth_date", birth },
    { "phone", common.phone(data.region, seq) },
    { "email", "pemohon" .. seq .. "@example.com" },
    { "purpose", "umrah" },
    { "application_type", "new" },
    { "passport_type", "ordinary" },
    { "website", "" },
  }
  slot_path = string.format("/offices/%s/%s/%d/", slot[1], slot[2], slot[3])
  cookies, token, next_path = {}, nil, nil
  state = 1
end

function init(args)
  data = common.load(args[1])
  slots = data.slots
  new_flow()
end

local function cookie_header()
  local parts = {}
  for name, value in pairs(cookies) do
    parts[#parts + 1] = name .. "=" .. value
  end
  return table.concat(parts, "; ")
end

local function post_headers()
  return {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie_header(),
    ["Accept-Language"] = "id",
  }
end

function request()
  sent_at = common.sent()
  if state == 1 then
    return wrk.format("GET", slot_path .. "book/", { ["Accept-Language"] = "id" })
  elseif state == 2 then
    local fields = { { "csrfmiddlewaretoken", token } }
    for _, pair in ipairs(applicant) do
      fields[#fields + 1] = pair
    end
    return wrk.format("POST", slot_path .. "book/", post_headers(), form_body(fields))
  elseif state == 3 then
    return wrk.format("GET", next_path, { ["Cookie"] = cookie_header(), ["Accept-Language"] = "id" })
  elseif state == 4 then
    local body = form_body({ { "csrfmiddlewaretoken", token } })
    return wrk.format("POST", slot_path .. "check/", post_headers(), body)
  else
    return wrk.format("GET", next_path, { ["Cookie"] = cookie_header(), ["Accept-Language"] = "id" })
  end
end

local function take_cookies(headers)
  for name, value in pairs(headers) do
    if name:lower() == "set-cookie" then
      local cname, cvalue = value:match("^%s*([^=;%s]+)=([^;]*)")
      if cname then
        cookies[cname] = cvalue
      end
    elseif name:lower() == "location" then
      next_path = value:gsub("^https?://[^/]+", "")
    end
  end
end

local function take_token(body)
  local found = body and body:match('name="csrfmiddlewaretoken" value="([^"]+)"')
  if found then
    token = found
  end
  return found
end

function response(status, headers, body)
  local label = status
  if state == 4 and status == 409 and data.duplicate and body:find(data.duplicate, 1, true) then
    label = "409 duplicate" -- only "full" is the answer a rush should give
  end
  common.record(STEPS[state], label, common.now() - sent_at)
  take_cookies(headers)
  local outcome = nil
  if state == 1 and status == 200 and take_token(body) then
    state = 2
  elseif state == 1 and status == 409 then
    outcome = "full-at-form" -- the window filled up before this browser asked for the form
  elseif state == 2 and status == 302 then
    state = 3
  elseif state == 2 and status == 409 then
    outcome = "full-at-submit" -- it filled up while this browser typed its details
  elseif state == 3 and status == 409 then
    outcome = "full-at-check" -- it filled up before the answers were shown to be checked
  elseif state == 3 and status == 200 then
    take_token(body)
    state = 4
  elseif state == 4 and status == 302 then
    state = 5
  elseif state == 4 and status == 409 then
    outcome = label == 409 and "full-at-confirm" or "duplicate"
  elseif state == 5 then
    outcome = status == 200 and "booked" or ("booked-page-" .. status)
  else
    outcome = "error-" .. STEPS[state] .. "-" .. status
  end
  if outcome then
    common.count("flow " .. outcome)
    new_flow()
    common.finish_if_done(data.cap)
  end
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
