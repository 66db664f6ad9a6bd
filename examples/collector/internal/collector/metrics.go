package collector

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"sync/atomic"
	"time"
)

// latency is a lock-free histogram of acknowledgement latencies: buckets grow by 10% from
// 10 µs, so quantiles are accurate to 10%.
type latency struct {
	buckets [latBuckets]atomic.Int64
}

const (
	latBuckets = 160
	latBase    = 10 * time.Microsecond
	latGrowth  = 1.1
)

func (l *latency) observe(d time.Duration) {
	i := 0
	if d > latBase {
		i = int(math.Log(float64(d)/float64(latBase))/math.Log(latGrowth)) + 1
	}
	if i >= latBuckets {
		i = latBuckets - 1
	}
	l.buckets[i].Add(1)
}

// quantile returns the upper bound of the bucket holding quantile q (0 < q ≤ 1).
func (l *latency) quantile(q float64) time.Duration {
	var counts [latBuckets]int64
	var total int64
	for i := range l.buckets {
		counts[i] = l.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i, n := range counts {
		seen += n
		if seen >= rank {
			return time.Duration(float64(latBase) * math.Pow(latGrowth, float64(i)))
		}
	}
	return time.Duration(float64(latBase) * math.Pow(latGrowth, latBuckets))
}

// metric is one line of the /metrics page.
type metric struct {
	name, help, kind string
	value            float64
	labels           string
}

// writeMetrics renders the collector's own counters in the Prometheus text format: nothing
// about event content, only throughput, queue depths and refusals.
func (c *Collector) writeMetrics(w io.Writer) {
	rs := c.recv.Stats()
	as := c.asm.Stats()
	st := c.store
	ms := []metric{
		{"cowork_collector_requests_total", "OTLP requests answered.", "counter", float64(rs.Requests), ""},
		{"cowork_collector_records_accepted_total", "Log events and metric points acknowledged.", "counter", float64(rs.Accepted), ""},
		{"cowork_collector_records_rejected_total", "Records refused in partial successes.", "counter", float64(rs.Rejected), ""},
		{"cowork_collector_requests_in_flight", "Requests being decoded, stored or correlated.", "gauge", float64(rs.InFlight), ""},
		{"cowork_collector_events_stored_total", "Distinct events committed.", "counter", float64(st.eventsStored.Load()), ""},
		{"cowork_collector_events_duplicate_total", "Events already stored (retried exports).", "counter", float64(st.eventsDuplicate.Load()), ""},
		{"cowork_collector_metric_points_stored_total", "Metric data points committed.", "counter", float64(st.pointsStored.Load()), ""},
		{"cowork_collector_chains_stored_total", "Chain versions committed.", "counter", float64(st.chainsStored.Load()), ""},
		{"cowork_collector_commits_total", "Store transactions committed.", "counter", float64(st.commits.Load()), ""},
		{"cowork_collector_commit_seconds_total", "Time spent in store transactions.", "counter", time.Duration(st.commitNanos.Load()).Seconds(), ""},
		{"cowork_collector_checkpoints_total", "Background WAL checkpoint passes.", "counter", float64(st.checkpoints.Load()), ""},
		{"cowork_collector_checkpoint_tails_total", "WAL tails the writer checkpointed so that the log could rewind.", "counter", float64(st.walTails.Load()), ""},
		{"cowork_collector_wal_restarts_total", "RESTART checkpoints (they block the writer) of a log past 1 GiB.", "counter", float64(st.walRestarts.Load()), ""},
		{"cowork_collector_db_writebacks_total", "Background syncs of the database file (see store.writeback).", "counter", float64(st.writebacks.Load()), ""},
		{"cowork_collector_write_queue_depth", "Writes waiting for the store.", "gauge", float64(st.depth()), ""},
		{"cowork_collector_redactions_total", "Values changed, removed or failed closed by redaction.", "counter", float64(c.redactions.Load()), ""},
		{"cowork_collector_ack_latency_seconds", "Acknowledgement latency of logs requests (receive to commit).", "summary", c.lat.quantile(0.5).Seconds(), `quantile="0.5"`},
		{"cowork_collector_ack_latency_seconds", "", "", c.lat.quantile(0.99).Seconds(), `quantile="0.99"`},
		{"cowork_collector_ack_latency_seconds_count", "", "", float64(c.ackCount.Load()), ""},
		{"cowork_collector_chains_in_flight", "Chains open in the assembler.", "gauge", float64(as.InFlight), ""},
		{"cowork_collector_chains_emitted_total", "Chain versions emitted by the assembler.", "counter", float64(as.Emitted), ""},
		{"cowork_collector_chains_evicted_total", "Chains closed early to bound memory.", "counter", float64(as.Evicted), ""},
		{"cowork_collector_assembler_bytes", "Estimated bytes of events held by the assembler.", "gauge", float64(as.BytesHeld), ""},
	}
	if n := c.otlpUnauthorized.Load(); n > 0 {
		rs.Refused["unauthorized"] += n
	}
	if n := c.otlpForbidden.Load(); n > 0 {
		rs.Refused["forbidden"] += n
	}
	reasons := make([]string, 0, len(rs.Refused))
	for r := range rs.Refused {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for i, r := range reasons {
		help := ""
		if i == 0 {
			help = "Requests refused, by reason."
		}
		kind := ""
		if i == 0 {
			kind = "counter"
		}
		ms = append(ms, metric{"cowork_collector_requests_refused_total", help, kind, float64(rs.Refused[r]), `reason="` + r + `"`})
	}
	if cpu := cpuTime(); cpu > 0 {
		ms = append(ms, metric{"process_cpu_seconds_total", "User and system CPU time of the process.", "counter", cpu.Seconds(), ""})
	}
	if f := c.fwd; f != nil {
		ms = append(ms,
			metric{"cowork_collector_forward_events_total", "Events forwarded.", "counter", float64(f.sentEvents.Load()), ""},
			metric{"cowork_collector_forward_failures_total", "Failed forward attempts (retried).", "counter", float64(f.failures.Load()), ""},
			metric{"cowork_collector_forward_skipped_events_total", "Events skipped because the forward queue was full.", "counter", float64(f.skippedEvents.Load()), ""},
			metric{"cowork_collector_forward_rejected_batches_total", "Batches the target refused for good.", "counter", float64(f.rejectedBatches.Load()), ""},
			metric{"cowork_collector_forward_queue_events", "Events waiting to be forwarded.", "gauge", float64(f.lag.Load()), ""},
		)
	}
	for _, m := range ms {
		if m.help != "" {
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.kind)
		}
		if m.labels != "" {
			fmt.Fprintf(w, "%s{%s} %g\n", m.name, m.labels, m.value)
		} else {
			fmt.Fprintf(w, "%s %g\n", m.name, m.value)
		}
	}
}

func (c *Collector) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	c.writeMetrics(w)
}
