package correlate

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// fleet returns the corpus scenarios replayed as n sessions (fresh decoded events, renamed),
// interleaved as a collector would receive them from many users: each session's events in
// arrival order, sessions round-robin in batches of batch events.
func fleet(b testing.TB, n, batch int) (evs []telemetry.Event, bytes int64) {
	scenarios := []string{"files", "deny", "mcp", "skill", "fatal", "web", "task"}
	per := make([][]telemetry.Event, n)
	for i := range per {
		per[i] = renamed(b, scenarios[i%len(scenarios)], fmt.Sprintf("u%06d", i))
		for _, e := range per[i] {
			bytes += int64(eventSize(e))
		}
	}
	for off := 0; ; off += batch {
		any := false
		for i := range per {
			if off < len(per[i]) {
				any = true
				evs = append(evs, per[i][off:min(off+batch, len(per[i]))]...)
			}
		}
		if !any {
			return evs, bytes
		}
	}
}

type nopConsumer struct{}

func (nopConsumer) Chain(context.Context, *Chain) error { return nil }

// BenchmarkAssembler measures events assembled per second through the whole pipeline: Add
// (dedup, buffering), closing by terminal event and quiet period in Sweep, fold and emission.
func BenchmarkAssembler(b *testing.B) {
	for _, sessions := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			evs, size := fleet(b, sessions, 4)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(size)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			n := 0
			for b.Loop() {
				clk := newFakeClock()
				a, _ := New(nopConsumer{}, WithClock(clk))
				for i := 0; i < len(evs); i += 64 {
					_ = a.Add(ctx, evs[i:min(i+64, len(evs))]...)
				}
				clk.Advance(time.Hour)
				_ = a.Sweep(ctx)
				n += len(evs)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
		})
	}
}

// BenchmarkFold measures the batch fold alone.
func BenchmarkFold(b *testing.B) {
	evs, size := fleet(b, 1_000, 4)
	b.ReportAllocs()
	b.SetBytes(size)
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	for b.Loop() {
		Fold(evs)
		n += len(evs)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkBytesPerEvent measures the heap the assembler adds per buffered event, beyond the
// decoded events themselves (which the caller already holds).
func BenchmarkBytesPerEvent(b *testing.B) {
	evs, _ := fleet(b, 10_000, 4)
	ctx := context.Background()
	var overhead float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a, _ := New(nopConsumer{}, WithClock(newFakeClock()))
		for i := 0; i < len(evs); i += 64 {
			_ = a.Add(ctx, evs[i:min(i+64, len(evs))]...)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if a.Stats().Added != int64(len(evs)) {
			b.Fatalf("added %d of %d", a.Stats().Added, len(evs))
		}
		overhead = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(evs))
		runtime.KeepAlive(a)
	}
	b.ReportMetric(overhead, "B/event-held")
	b.ReportMetric(float64(len(evs)), "events-held")
}

// cpuTime returns the CPU time (user + system) the process has used, all threads included
// (GC too): events per CPU-second is throughput per core, independent of other load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
