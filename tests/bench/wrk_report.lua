-- wrk_report.lua - wrk script for the benchmark: Basic auth, method and Accept from the
-- environment, and one machine-readable line at the end:
--   RESULT <requests> <bytes> <duration_us> <errors>
-- where errors counts non-2xx/3xx answers, connect/read/write errors and timeouts.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = "Basic " .. (os.getenv("BENCH_AUTH_B64") or "")
local accept = os.getenv("BENCH_ACCEPT")
if accept and accept ~= "" then
    wrk.headers["Accept"] = accept
end

done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %d %d %d %d\n", summary.requests, summary.bytes,
        summary.duration, e.status + e.connect + e.read + e.write + e.timeout))
end
