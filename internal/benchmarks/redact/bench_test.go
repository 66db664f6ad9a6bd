package redact

import (
	"runtime"
	"slices"
	"testing"
	"time"

	cowredact "github.com/coworkgov/cowork/redact"
)

func inputs(tb testing.TB) []input { return []input{realInput(tb), secretInput(tb)} }

// BenchmarkRedact reports each side's throughput on each input. One operation redacts every
// body of the input once; copies are decoded outside the timer, a pool at a time.
func BenchmarkRedact(b *testing.B) {
	for _, in := range inputs(b) {
		sides := map[string]func() impl{
			"cowork":         func() impl { return coworkImpl(b, newCowork(b)) },
			"cowork-nocache": func() impl { return coworkImpl(b, newCowork(b, cowredact.WithCacheSize(0))) },
			"collector":      func() impl { return peerImpl(b, newPeer(b)) },
			// Only the first five patterns (e-mail, card, IBAN, SSN, phone): how the processor
			// scales with fewer rules; it detects far less.
			"collector-5patterns": func() impl { return peerImpl(b, newPeerWith(b, peerPatterns[:5])) },
		}
		for _, name := range []string{"cowork", "cowork-nocache", "collector", "collector-5patterns"} {
			b.Run("input="+in.name+"/impl="+name, func(b *testing.B) {
				im := sides[name]()
				const pool = 32
				im.prepare(in, pool)
				runtime.GC()
				b.SetBytes(in.bytes)
				b.ReportAllocs()
				i := 0
				var busy time.Duration
				for b.Loop() {
					if i == pool {
						b.StopTimer()
						im.prepare(in, pool)
						runtime.GC()
						i = 0
						b.StartTimer()
					}
					st := time.Now()
					im.run(i)
					busy += time.Since(st)
					i++
				}
				b.ReportMetric(float64(in.events*b.N)/busy.Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkRedactRatio measures cowork's throughput relative to the collector's in a way that
// holds on a noisy machine: in each round both sides redact the same number of freshly
// decoded copies of the same input back to back (which goes first alternates) and the ratio
// of their events/s is taken per round. It reports the median ratio ("ratio", above 1 means
// cowork is faster) and each side's median events/s.
//
// Strict reduces prompt and response text to its length without scanning it; the
// policy=balanced runs scan all text (masking what they find), which is the heavier work.
func BenchmarkRedactRatio(b *testing.B) {
	for _, in := range inputs(b) {
		for _, pol := range []cowredact.Policy{cowredact.Strict, cowredact.Balanced} {
			for _, cache := range []bool{true, false} {
				name := "input=" + in.name + "/policy=" + pol.Name
				if !cache {
					name += "/cache=off"
				}
				b.Run(name, func(b *testing.B) { ratioRun(b, in, pol, cache) })
			}
		}
	}
}

func ratioRun(b *testing.B, in input, pol cowredact.Policy, cache bool) {
	var opts []cowredact.Option
	if !cache {
		opts = append(opts, cowredact.WithCacheSize(0))
	}
	cw, pr := coworkImpl(b, newCoworkWith(b, pol, opts...)), peerImpl(b, newPeer(b))
	const iters = 8
	turn := func(im impl) float64 {
		im.prepare(in, iters)
		runtime.GC() // neither side pays for the other's garbage or for decoding
		st := time.Now()
		for i := range iters {
			im.run(i)
		}
		return float64(in.events*iters) / time.Since(st).Seconds()
	}
	var ratios, cws, prs []float64
	for b.Loop() {
		var c, p float64
		if len(ratios)%2 == 0 {
			c, p = turn(cw), turn(pr)
		} else {
			p, c = turn(pr), turn(cw)
		}
		ratios, cws, prs = append(ratios, c/p), append(cws, c), append(prs, p)
	}
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(median(cws), "cowork-events/s")
	b.ReportMetric(median(prs), "collector-events/s")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
