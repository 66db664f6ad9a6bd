package telemetrytest_test

import (
	"testing"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// BenchmarkFleet measures how fast the simulator produces events, alone and encoded, as a load
// generator would use it.
func BenchmarkFleet(b *testing.B) {
	opts := telemetrytest.Realistic(1)
	opts.Users, opts.SessionsPerUser = 4, 4
	fl := telemetrytest.NewFleet(opts)
	b.Run("stage=generate", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			for range fl.Events() {
				n++
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
	for _, enc := range []telemetrytest.Encoding{telemetrytest.EncodingProtobuf, telemetrytest.EncodingJSON} {
		b.Run("stage=encode/format="+enc.String(), func(b *testing.B) {
			perRun := 0
			for range fl.Events() {
				perRun++
			}
			b.ReportAllocs()
			n, size := 0, 0
			for b.Loop() {
				for p, err := range fl.Payloads(enc) {
					if err != nil {
						b.Fatal(err)
					}
					size += len(p)
				}
				n += perRun
			}
			b.SetBytes(int64(size / max(1, b.N)))
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkFactory measures building one typed event.
func BenchmarkFactory(b *testing.B) {
	f := telemetrytest.NewFactory(1)
	f.UserPrompt()
	b.ReportAllocs()
	var ev telemetry.Event
	for b.Loop() {
		ev = f.APIRequest()
	}
	_ = ev
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
