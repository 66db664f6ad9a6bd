package correlate

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// fleet returns the events of a simulated fleet (telemetrytest) of n sessions with every
// behaviour on and retried/reordered/late deliveries, interleaved as a collector receives them
// from many users at once: each session's export batches in order, sessions round-robin.
func fleet(b testing.TB, n, batch int) (evs []telemetry.Event, bytes int64) {
	o := telemetrytest.Realistic(7)
	o.Users, o.SessionsPerUser = n, 1
	o.Chaos = telemetrytest.Chaos{DuplicateRate: 0.02, ReorderRate: 0.05, LateRate: 0.02}
	var per [][]telemetry.Event
	for s := range telemetrytest.NewFleet(o).Sessions() {
		per = append(per, s.Events)
		for _, e := range s.Events {
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
// With 50 sessions (about 2,000 events) the fleet stays in the CPU caches; with 1,000 and 5,000
// (about 38,000 and 190,000 events, 50+ MB of heap) every event is cold when Add first reads it
// and again when its chain is folded, as in a collector folding chains seconds after they
// arrived: the gap between the two is the cost of memory, not of the code path.
func BenchmarkAssembler(b *testing.B) {
	for _, sessions := range []int{50, 1_000, 5_000} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			evs, size := fleet(b, sessions, 20)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			n := 0
			// A small fleet goes through several fresh assemblers per iteration, so that every
			// iteration handles about as many events as sessions=1000.
			rounds := max(1, 1_000/sessions)
			b.SetBytes(size * int64(rounds))
			for b.Loop() {
				for range rounds {
					assembleAll(ctx, evs)
					n += len(evs)
				}
			}
			reportRates(b, n, start, cpu0)
		})
	}
}

// assembleAll adds evs to a fresh assembler, 64 events a call, with its clock frozen, then
// closes every chain with one Sweep an hour later.
func assembleAll(ctx context.Context, evs []telemetry.Event, opts ...Option) {
	clk := newFakeClock()
	a, _ := New(nopConsumer{}, append([]Option{WithClock(clk)}, opts...)...)
	for i := 0; i < len(evs); i += 64 {
		_ = a.Add(ctx, evs[i:min(i+64, len(evs))]...)
	}
	clk.Advance(time.Hour)
	_ = a.Sweep(ctx)
}

// reportRates reports n events over the wall time and the process CPU time since start/cpu0.
func reportRates(b *testing.B, n int, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkAssemblerReuse is BenchmarkAssembler at 1,000 sessions with [WithChainReuse]: the
// consumer keeps nothing of a chain, so the assembler builds the next one in its memory.
func BenchmarkAssemblerReuse(b *testing.B) {
	evs, size := fleet(b, 1_000, 20)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(size)
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	for b.Loop() {
		assembleAll(ctx, evs, WithChainReuse())
		n += len(evs)
	}
	reportRates(b, n, start, cpu0)
}

// arrival is one export batch as a collector receives it: at the time of its latest event.
type arrival struct {
	at  int64 // Unix ns
	evs []telemetry.Event
}

// arrivals returns the events of the fleet of fleet(b, n, batch) as a collector receives them
// over time: each session's export batches in order (its own timestamps, chaos included),
// each arriving when its latest event happened, all sessions merged by arrival time.
func arrivals(b testing.TB, n, batch int) (out []arrival, events int, bytes int64) {
	return arrivalsOf(b, 7, n, batch)
}

// arrivalsOf is arrivals for the fleet of seed: another seed, other sessions.
func arrivalsOf(b testing.TB, seed uint64, n, batch int) (out []arrival, events int, bytes int64) {
	o := telemetrytest.Realistic(seed)
	o.Users, o.SessionsPerUser = n, 1
	o.Chaos = telemetrytest.Chaos{DuplicateRate: 0.02, ReorderRate: 0.05, LateRate: 0.02}
	for s := range telemetrytest.NewFleet(o).Sessions() {
		var last int64 // a session's batches leave in order
		for off := 0; off < len(s.Events); off += batch {
			evs := s.Events[off:min(off+batch, len(s.Events))]
			for _, e := range evs {
				last = max(last, tsOf(e.EventRecord()))
				bytes += int64(eventSize(e))
			}
			out = append(out, arrival{at: last, evs: evs})
			events += len(evs)
		}
	}
	slices.SortStableFunc(out, func(x, y arrival) int { return cmp.Compare(x.at, y.at) })
	return out, events, bytes
}

// BenchmarkAssemblerStream measures the whole pipeline as a collector runs it: the 1,000-session
// fleet arrives batch by batch in time order, the clock follows the batches' times and Sweep
// runs every (simulated) second, as Run does by default, so chains close a few seconds after
// their last event while others are in flight, and are folded while their events are recent.
// BenchmarkAssembler, by contrast, holds every chain until one sweep at the end. With reuse,
// the assembler is made with [WithChainReuse].
func BenchmarkAssemblerStream(b *testing.B) {
	for _, reuse := range []bool{false, true} {
		name := "sessions=1000"
		var opts []Option
		if reuse {
			name += ",reuse"
			opts = append(opts, WithChainReuse())
		}
		b.Run(name, func(b *testing.B) {
			arr, events, size := arrivals(b, 1_000, 20)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(size)
			start, cpu0 := time.Now(), cpuTime()
			n := 0
			for b.Loop() {
				clk := &fakeClock{now: time.Unix(0, arr[0].at).UTC()}
				a, _ := New(nopConsumer{}, append([]Option{WithClock(clk)}, opts...)...)
				next := arr[0].at + int64(time.Second)
				for _, ar := range arr {
					for ar.at >= next { // the sweeps Run would have made before the batch arrived
						clk.Advance(time.Duration(next - clk.Now().UnixNano()))
						_ = a.Sweep(ctx)
						next += int64(time.Second)
					}
					clk.Advance(time.Duration(ar.at - clk.Now().UnixNano()))
					_ = a.Add(ctx, ar.evs...)
				}
				clk.Advance(time.Hour)
				_ = a.Sweep(ctx)
				n += events
			}
			reportRates(b, n, start, cpu0)
		})
	}
}

// BenchmarkAssemblerSteady measures a long-running collector's steady state, where closed
// chains are dropped from memory as fast as new ones arrive: one assembler, made once, with
// small retention (1,000 closed chains kept with their events, 2,000 remembered in all: 16 and
// 32 per shard), is fed the 1,000-session fleet's arrivals as BenchmarkAssemblerStream is,
// iteration after iteration, the clock running on across them (each iteration a minute after
// the previous one's last batch) and Sweep every simulated second. Iterations alternate
// between two fleets (seeds 7 and 8), so that no session id comes back while a chain of it is
// still remembered: every iteration drops as many chains as it makes (about 4,500). With
// reuse (the collector's configuration) the assembler is made with [WithChainReuse]; without,
// every emitted chain is the consumer's, as by default.
func BenchmarkAssemblerSteady(b *testing.B) {
	var fleets [2][]arrival
	var events [2]int
	var size [2]int64
	fleets[0], events[0], size[0] = arrivalsOf(b, 7, 1_000, 20)
	fleets[1], events[1], size[1] = arrivalsOf(b, 8, 1_000, 20)
	for _, reuse := range []bool{true, false} {
		name := "sessions=1000"
		opts := []Option{WithRetainClosed(1_000), WithRememberClosed(2_000)}
		if reuse {
			name += ",reuse"
			opts = append(opts, WithChainReuse())
		}
		b.Run(name, func(b *testing.B) { steady(b, fleets, events, size, opts...) })
	}
}

// steady runs BenchmarkAssemblerSteady with the assembler options opts.
func steady(b *testing.B, fleets [2][]arrival, events [2]int, size [2]int64, opts ...Option) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Unix(0, fleets[0][0].at).UTC()}
	a, _ := New(nopConsumer{}, append([]Option{WithClock(clk)}, opts...)...)
	next := clk.Now().UnixNano() + int64(time.Second) // the next sweep
	var shift int64                                   // added to the fleet's times: the clock runs on
	run := func(i int) {
		arr := fleets[i%2]
		shift = max(shift, clk.Now().UnixNano()+int64(time.Minute)-arr[0].at)
		for _, ar := range arr {
			at := ar.at + shift
			for at >= next { // the sweeps Run would have made before the batch arrived
				clk.Advance(time.Duration(next - clk.Now().UnixNano()))
				_ = a.Sweep(ctx)
				next += int64(time.Second)
			}
			clk.Advance(time.Duration(at - clk.Now().UnixNano()))
			_ = a.Add(ctx, ar.evs...)
		}
	}
	// Two warm-up iterations, untimed: the assembler reaches its steady state (maps grown,
	// closed lists full) before the first timed one.
	run(0)
	run(1)
	dropped := a.Stats()
	b.ReportAllocs()
	b.SetBytes((size[0] + size[1]) / 2)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	n, i := 0, 0
	for b.Loop() {
		run(i)
		n += events[i%2]
		i++
	}
	reportRates(b, n, start, cpu0)
	if st := a.Stats(); st.Emitted == dropped.Emitted {
		b.Fatal("no chain emitted")
	}
}

// BenchmarkAdd measures the buffering path alone (dedup, ordering keys, session facts,
// limits): every chain stays open.
func BenchmarkAdd(b *testing.B) {
	evs, size := fleet(b, 1_000, 20)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(size)
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	for b.Loop() {
		a, _ := New(nopConsumer{}, WithClock(newFakeClock()))
		for i := 0; i < len(evs); i += 64 {
			_ = a.Add(ctx, evs[i:min(i+64, len(evs))]...)
		}
		n += len(evs)
	}
	reportRates(b, n, start, cpu0)
}

// BenchmarkFold measures the batch fold alone.
func BenchmarkFold(b *testing.B) {
	evs, size := fleet(b, 1_000, 20)
	b.ReportAllocs()
	b.SetBytes(size)
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	for b.Loop() {
		Fold(evs)
		n += len(evs)
	}
	reportRates(b, n, start, cpu0)
}

// BenchmarkBytesPerEvent measures the heap the assembler adds per buffered event, beyond the
// decoded events themselves (which the caller already holds).
func BenchmarkBytesPerEvent(b *testing.B) {
	evs, _ := fleet(b, 5_000, 20)
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
		if st := a.Stats(); st.Added+st.Duplicates != int64(len(evs)) || st.Emitted != 0 {
			b.Fatalf("added %d + %d duplicates of %d, emitted %d", st.Added, st.Duplicates, len(evs), st.Emitted)
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
