-- wrk script for scripts/bench-embedded: each request creates an organization with a new slug
-- (PREFIX then a counter; run with one wrk thread so the counter is the only one), and every
-- response that is not a 200 without GraphQL errors is counted.
local token, prefix = os.getenv("TOKEN"), os.getenv("PREFIX")
local query = "mutation($s: String!) { createOrganization(input: {slug: $s, name: $s, kind: OTHER}) { record { id } } }"
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
local n = 0
failed = 0

request = function()
  n = n + 1
  local body = string.format('{"query": "%s", "variables": {"s": "%s%d"}}', query, prefix, n)
  return wrk.format("POST", "/graphql", headers, body)
end

response = function(status, _, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failed = failed + 1
  end
end

local threads = {}
setup = function(thread) table.insert(threads, thread) end

done = function(summary, latency, _)
  local failures = 0
  for _, thread in ipairs(threads) do failures = failures + thread:get("failed") end
  io.write(string.format('{"requests": %d, "failed": %d, "p50": %.2f, "p99": %.2f}\n',
    summary.requests, failures, latency:percentile(50) / 1000.0, latency:percentile(99) / 1000.0))
end
