package correlate

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkChainJSON encodes the chains of a simulated fleet (simChains: ~1,900 chains with
// every behaviour on, 2.3 KB of JSON each) with encoding/json and with AppendJSON; each op
// encodes them all, from an empty slice as the collector does. chains/cpu-s and MB/cpu-s are
// per core (CPU time of the process, GC included), steadier than the wall-clock figures on a
// loaded machine.
func BenchmarkChainJSON(b *testing.B) {
	cs := simChains(b, 2, 100)
	var size int64
	for _, c := range cs {
		js, err := json.Marshal(c)
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(js))
	}
	run := func(b *testing.B, enc func(*Chain) ([]byte, error)) {
		b.SetBytes(size)
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		for b.Loop() {
			for _, c := range cs {
				if _, err := enc(c); err != nil {
					b.Fatal(err)
				}
			}
		}
		sec, cpu := time.Since(start).Seconds(), (cpuTime() - cpu0).Seconds()
		b.ReportMetric(float64(b.N)*float64(len(cs))/sec, "chains/s")
		b.ReportMetric(float64(b.N)*float64(len(cs))/cpu, "chains/cpu-s")
		b.ReportMetric(float64(b.N)*float64(size)/1e6/cpu, "MB/cpu-s")
		b.ReportMetric(float64(size)/float64(len(cs)), "B/chain")
	}
	b.Run("encoding/json", func(b *testing.B) {
		run(b, func(c *Chain) ([]byte, error) { return json.Marshal(c) })
	})
	b.Run("AppendJSON", func(b *testing.B) {
		run(b, func(c *Chain) ([]byte, error) { return c.AppendJSON(nil) })
	})
}
