package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/coworkgov/cowork/examples/loadgen/load"
)

func TestParseCPU(t *testing.T) {
	for _, c := range []struct {
		name, page string
		want       time.Duration
		ok         bool
	}{
		{"plain", "# HELP x\nfoo 1\nprocess_cpu_seconds_total 12.5\n", 12500 * time.Millisecond, true},
		{"exponent", "process_cpu_seconds_total 1.5e+03\n", 1500 * time.Second, true},
		{"absent", "cowork_collector_commits_total 3\n", 0, false},
		{"a longer name is another metric", "process_cpu_seconds_total_other 3\n", 0, false},
		{"not a number", "process_cpu_seconds_total x\n", 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := parseCPU(strings.NewReader(c.page))
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestSummary(t *testing.T) {
	run := func(events int64, p99, cpu time.Duration) runResult {
		return runResult{Result: load.Result{Events: events, Elapsed: time.Second, P99: p99}, cpuPerEvent: cpu}
	}
	got := summary([]runResult{
		run(10_000, 30*time.Millisecond, 60*time.Microsecond),
		run(20_000, 10*time.Millisecond, 80*time.Microsecond),
		run(30_000, 20*time.Millisecond, 70*time.Microsecond),
	})
	assert.Equal(t, "runs 2–4: 20000 events/s (mean; 10000–30000), p99 median 20ms (max 30ms), collector CPU 70µs per event (mean)", got)
	assert.NotContains(t, summary([]runResult{run(1, time.Millisecond, 0)}), "CPU", "no CPU figure without /metrics")
}

// TestIdleCPU: idleCPU waits while the collector's CPU time grows, and returns it once it
// has not grown over a window; it gives up after its maximum, and reports no figure without
// /metrics.
func TestIdleCPU(t *testing.T) {
	var polls atomic.Int64
	busyFor := int64(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := min(polls.Add(1), busyFor+1)
		fmt.Fprintf(w, "process_cpu_seconds_total %d\n", n) // a second per poll, then none
	}))
	defer srv.Close()
	cpu, _, ok := idleCPU(srv.URL, "", time.Millisecond, 2*time.Millisecond, time.Minute)
	assert.True(t, ok)
	assert.Equal(t, time.Duration(busyFor+1)*time.Second, cpu)
	assert.Equal(t, busyFor+3, polls.Load(), "idle once a window of two polls saw no growth")

	polls.Store(0)
	busyFor = 1 << 30 // never idle
	_, waited, ok := idleCPU(srv.URL, "", time.Millisecond, 2*time.Millisecond, 20*time.Millisecond)
	assert.True(t, ok)
	assert.GreaterOrEqual(t, waited, 20*time.Millisecond)

	_, _, ok = idleCPU("http://127.0.0.1:1", "", time.Millisecond, time.Millisecond, time.Second)
	assert.False(t, ok)
}
