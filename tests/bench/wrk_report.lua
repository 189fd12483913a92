-- wrk_report.lua - wrk script for the benchmark: Authorization, method and Accept from the
-- environment, and one machine-readable line at the end:
--   RESULT <requests> <bytes> <duration_us> <errors>
-- where errors counts non-2xx/3xx answers, connect/read/write errors and timeouts.
--   BENCH_AUTHORIZATION  the whole header value ("Basic <b64>", "Bearer <jwt>"); unset or empty
--                        sends no Authorization header (anonymous requests)
--   BENCH_METHOD         default GET
--   BENCH_ACCEPT         optional Accept header
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local authz = os.getenv("BENCH_AUTHORIZATION")
if authz and authz ~= "" then
    wrk.headers["Authorization"] = authz
end
local accept = os.getenv("BENCH_ACCEPT")
if accept and accept ~= "" then
    wrk.headers["Accept"] = accept
end

done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %d %d %d %d\n", summary.requests, summary.bytes,
        summary.duration, e.status + e.connect + e.read + e.write + e.timeout))
end
