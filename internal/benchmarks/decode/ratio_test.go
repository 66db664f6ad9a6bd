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
// back to back (which one goes first alternates, so that each pays for the other's garbage as
// often as the other pays for its own), and the ratio of their events/s is taken per round, so
// that load which comes and goes hits both sides of a ratio alike. It reports the median ratio
// over all rounds by wall-clock time ("ratio", cowork events/s ÷ pdata events/s; above 1 means
// cowork is faster) and by the process's CPU time ("cpu-ratio", which other processes' load does
// not inflate; GC workers on other threads are included), the medians of each side's wall-clock
// events/s, the decodes per turn and the rounds run.
func BenchmarkDecodeRatio(b *testing.B) {
	for _, f := range formats {
		for _, in := range inputs(b, f) {
			b.Run("format="+string(f)+"/input="+in.name, func(b *testing.B) {
				cowork, pdata := impls[0], impls[1]
				iters := calibrate(in, pdata)
				var ratios, cpuRatios, cw, pd []float64
				for b.Loop() {
					for range roundsPerLoop {
						var c, p turnResult
						if len(ratios)%2 == 0 {
							c, p = runTurn(in, cowork, iters), runTurn(in, pdata, iters)
						} else {
							p, c = runTurn(in, pdata, iters), runTurn(in, cowork, iters)
						}
						ratios, cw, pd = append(ratios, c.wall/p.wall), append(cw, c.wall), append(pd, p.wall)
						if c.cpu > 0 && p.cpu > 0 {
							cpuRatios = append(cpuRatios, c.cpu/p.cpu)
						}
					}
				}
				b.ReportMetric(median(ratios), "ratio")
				if len(cpuRatios) > 0 {
					b.ReportMetric(median(cpuRatios), "cpu-ratio")
				}
				b.ReportMetric(median(cw), "cowork-events/s")
				b.ReportMetric(median(pd), "pdata-events/s")
				b.ReportMetric(float64(iters), "decodes/turn")
				b.ReportMetric(float64(len(ratios)), "rounds")
			})
		}
	}
}

// turnResult is one side's throughput in one turn: events per second of wall-clock time and
// per second of process CPU time (0 when unavailable).
type turnResult struct{ wall, cpu float64 }

func runTurn(in input, im impl, iters int) turnResult {
	cpu0, okCPU := processCPU()
	start := time.Now()
	for range iters {
		sink = im.decode(in.format, in.bodies)
	}
	wall := time.Since(start)
	cpu1, _ := processCPU()
	events := float64(in.events * iters)
	r := turnResult{wall: events / wall.Seconds()}
	if okCPU && cpu1 > cpu0 {
		r.cpu = events / (float64(cpu1-cpu0) / 1e9)
	}
	return r
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
