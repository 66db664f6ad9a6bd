package decode

import (
	"testing"
)

var sink int

// BenchmarkDecode decodes the same bytes with cowork and with pdata, per format and input.
// Besides ns/op, B/op and allocs/op it reports MB/s of input, events/s and allocs/event.
func BenchmarkDecode(b *testing.B) {
	for _, f := range formats {
		for _, in := range inputs(b, f) {
			for _, im := range impls {
				b.Run("format="+string(f)+"/input="+in.name+"/impl="+im.name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(in.bytes)
					allocs := testing.AllocsPerRun(20, func() { sink = im.decode(in.format, in.bodies) })
					if sink != in.events {
						b.Fatalf("%s decoded %d records, want %d", im.name, sink, in.events)
					}
					for b.Loop() {
						sink = im.decode(in.format, in.bodies)
					}
					b.ReportMetric(float64(in.events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
					b.ReportMetric(allocs/float64(in.events), "allocs/event")
				})
			}
		}
	}
}
