package main

import (
	"strings"
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
