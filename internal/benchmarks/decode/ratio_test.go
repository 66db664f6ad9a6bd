package decode

import (
	"slices"
	"testing"
	"time"
)

const (
	// turnTarget is roughly how long one side decodes per turn; the number of decodes per turn
	// is calibrated to it once per input, so both sides always run the same count.
	turnTarget = 5 * time.Millisecond
	// roundsPerLoop is how many rounds one b.Loop iteration runs.
	roundsPerLoop = 10
)

// BenchmarkDecodeRatio measures cowork's throughput relative to pdata's in a way that holds on
// a noisy machine: in each round both decoders run the same number of decodes of the same input
// back to back (which one goes first alternates), and the ratio of their events/s is taken per
// round, so that load which comes and goes hits both sides of a ratio alike. It reports the
// median ratio over all rounds ("ratio", cowork events/s ÷ pdata events/s; above 1 means cowork
// is faster), the medians of each side's events/s, the decodes per turn and the rounds run.
func BenchmarkDecodeRatio(b *testing.B) {
	for _, f := range formats {
		for _, in := range inputs(b, f) {
			b.Run("format="+string(f)+"/input="+in.name, func(b *testing.B) {
				cowork, pdata := impls[0], impls[1]
				iters := calibrate(in, pdata)
				turn := func(im impl) float64 {
					start := time.Now()
					for range iters {
						sink = im.decode(in.format, in.bodies)
					}
					return float64(in.events*iters) / time.Since(start).Seconds()
				}
				var ratios, cw, pd []float64
				for b.Loop() {
					for range roundsPerLoop {
						var c, p float64
						if len(ratios)%2 == 0 {
							c, p = turn(cowork), turn(pdata)
						} else {
							p, c = turn(pdata), turn(cowork)
						}
						ratios, cw, pd = append(ratios, c/p), append(cw, c), append(pd, p)
					}
				}
				b.ReportMetric(median(ratios), "ratio")
				b.ReportMetric(median(cw), "cowork-events/s")
				b.ReportMetric(median(pd), "pdata-events/s")
				b.ReportMetric(float64(iters), "decodes/turn")
				b.ReportMetric(float64(len(ratios)), "rounds")
			})
		}
	}
}

// calibrate returns how many decodes of in by im take about turnTarget (at least one).
func calibrate(in input, im impl) int {
	const probe = 5
	start := time.Now()
	for range probe {
		sink = im.decode(in.format, in.bodies)
	}
	per := time.Since(start) / probe
	return max(1, int(turnTarget/max(per, 1)))
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
