-- GET each path of the data file's list in turn (reads: availability, calendar pages,
-- /healthz). Usage: wrk -s paths.lua URL -- DATA
local common = require "common"

local data, paths, sent_at
local n = 0

function setup(thread)
  common.setup(thread)
end

function init(args)
  data = common.load(args[1])
  paths = data.paths
  n = (thread_id or 0) * 7919
end

function request()
  n = n + 1
  sent_at = common.sent()
  return wrk.format("GET", paths[n % #paths + 1])
end

function response(status, headers, body)
  common.record(data.kind or "get", status, common.now() - sent_at)
  common.finish_if_done(data.cap or 0)
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
