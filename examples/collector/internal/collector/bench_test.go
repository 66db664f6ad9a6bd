package collector_test

import (
	"context"
	"net"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
	"github.com/coworkgov/cowork/examples/loadgen/load"
)

// BenchmarkIngest measures the collector end to end over real HTTP on loopback: strict
// redaction, storage and correlation on, protobuf requests of 200 events from the
// telemetrytest fleet, 8 concurrent connections. Each iteration sends a fresh fleet and checks
// that every acknowledged event is stored. It reports events/s and the p99 acknowledgement
// latency.
func BenchmarkIngest(b *testing.B) {
	for _, batch := range []int{20, 200} {
		b.Run("batch="+itoa(batch), func(b *testing.B) {
			// As the collector's main sets it (GOGC=400 unless $GOGC says otherwise).
			if os.Getenv("GOGC") == "" {
				defer debug.SetGCPercent(debug.SetGCPercent(400))
			}
			c, url := start(b, collector.Config{DataDir: b.TempDir()})
			var seed uint64
			var events int64
			var elapsed, p99 time.Duration
			var bytes int64
			cpu0 := collector.CPUTime()
			for b.Loop() {
				b.StopTimer()
				seed++
				payloads, _, err := load.Generate(load.Fleet{Seed: seed, Users: 20, BatchSize: batch})
				require.NoError(b, err)
				for _, p := range payloads {
					bytes += int64(len(p.Body))
				}
				b.StartTimer()
				res, err := load.Send(context.Background(), load.Options{URL: url, Workers: 8}, payloads)
				require.NoError(b, err)
				events += res.Events
				elapsed += res.Elapsed
				p99 = max(p99, res.P99)
			}
			b.StopTimer()
			cpu := collector.CPUTime() - cpu0 // includes the in-process client and the fleet generation
			require.Equal(b, events, storedEvents(b, c))
			b.SetBytes(bytes / int64(b.N))
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
		})
	}
}

func itoa(n int) string {
	return string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

// start runs a collector in process on a loopback port and stops it at cleanup.
func start(tb testing.TB, cfg collector.Config) (*collector.Collector, string) {
	tb.Helper()
	c, err := collector.New(context.Background(), cfg)
	require.NoError(tb, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	done := make(chan error, 1)
	go func() { done <- c.Serve(ln, nil) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(tb, c.Shutdown(ctx))
		require.NoError(tb, <-done)
	})
	return c, "http://" + ln.Addr().String()
}
