-- wrk_spread.lua - wrk_report.lua's headers and RESULT line, with each request going to the next
-- of BENCH_SPREAD repositories: <BENCH_PREFIX>0 .. <BENCH_PREFIX>(N-1), manifest v1 of each.
local base = dofile(os.getenv("BENCH_HERE") .. "/wrk_report.lua")
local n = tonumber(os.getenv("BENCH_SPREAD") or "1")
local prefix = os.getenv("BENCH_PREFIX") or "/v2/library/spread-"
local i = 0
request = function()
    i = i + 1
    return wrk.format(nil, prefix .. (i % n) .. "/manifests/v1")
end
