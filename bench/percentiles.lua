-- wrk reports p50/p75/p90/p99; the goals speak of p95, and of errors.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("percentiles: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms; non-2xx or failed: %d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.status + e.connect + e.read + e.write + e.timeout))
end
