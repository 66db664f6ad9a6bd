package redact

import (
	"fmt"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// benchBatches decodes n copies of every log file of the corpus, outside the timed loop.
func benchBatches(b *testing.B, n int) ([][]*telemetry.Logs, int64, int) {
	b.Helper()
	var bytes int64
	events := 0
	out := make([][]*telemetry.Logs, n)
	for i := range out {
		for _, f := range corpus.Files(corpus.Protobuf) {
			if f.Signal != "logs" {
				continue
			}
			l, err := telemetry.DecodeLogsProto(f.Data)
			if err != nil {
				b.Fatal(err)
			}
			out[i] = append(out[i], l)
			if i == 0 {
				bytes += int64(len(f.Data))
				events += l.Len()
			}
		}
	}
	return out, bytes, events
}

// BenchmarkLogs redacts the real corpus (one operation = every log batch of the corpus) with
// each preset. Each operation works on a freshly decoded copy: copies are decoded outside
// the timer, a pool at a time.
func BenchmarkLogs(b *testing.B) {
	for _, p := range []Policy{Strict, Balanced} {
		for _, cache := range []int{4096, 0} {
			b.Run(fmt.Sprintf("policy=%s/cache=%d", p.Name, cache), func(b *testing.B) {
				e, err := New(p, WithKey("k1", testKey), WithCacheSize(cache))
				if err != nil {
					b.Fatal(err)
				}
				const pool = 64
				copies, size, events := benchBatches(b, pool)
				b.SetBytes(size)
				b.ReportAllocs()
				i := 0
				var busy time.Duration
				for b.Loop() {
					if i == pool {
						b.StopTimer()
						copies, _, _ = benchBatches(b, pool)
						i = 0
						b.StartTimer()
					}
					st := time.Now()
					for _, l := range copies[i] {
						e.Logs(l)
					}
					busy += time.Since(st)
					i++
				}
				b.ReportMetric(float64(events*b.N)/busy.Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkScan measures the detectors alone on a clean prompt and on one full of secrets.
func BenchmarkScan(b *testing.B) {
	texts := map[string]string{
		"clean":  "scenario:files workdir:~/Documents/competitive-intel Please do the files task and summarise the quarterly numbers for the board.",
		"secret": "use AKIAQWERTYUIOPASDFGH and ghp_0123456789abcdefghijABCDEFGHIJ012345 for jane@acme.example, card 4111 1111 1111 1111, curl -u admin:Hunter2Secret https://x/y?token=abc123 from /Users/jane/x",
	}
	sc := newScanner(allDetectors)
	for name, s := range texts {
		b.Run("text="+name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			var spans []span
			for b.Loop() {
				spans = sc.scan(s, spans)
			}
		})
	}
}

// BenchmarkValue measures one attribute value through Balanced with the cache off: a clean
// prompt (no allocation) and one with several detections.
func BenchmarkValue(b *testing.B) {
	e, err := New(Balanced, WithKey("k1", testKey), WithCacheSize(0))
	if err != nil {
		b.Fatal(err)
	}
	texts := map[string]string{
		"clean":  "Please refactor the payment module and add tests for the edge cases we discussed yesterday.",
		"secret": "use AKIAQWERTYUIOPASDFGH for jane@acme.example, card 4111 1111 1111 1111, curl -u admin:Hunter2Secret https://x/y?token=abc123",
	}
	for name, s := range texts {
		b.Run("text="+name, func(b *testing.B) {
			v := telemetry.String(s)
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				e.Value(telemetry.KeyPrompt, v)
			}
		})
	}
}

// fleetPayloads encodes the batches of a simulated fleet the size of examples/loadgen's
// default (50 users, 4 sessions each, 10 prompts a session, 200 events a request) as the
// protobuf requests the collector receives.
func fleetPayloads(b *testing.B) ([][]byte, int) {
	b.Helper()
	o := telemetrytest.Realistic(1)
	o.Users, o.SessionsPerUser, o.PromptsPerSession, o.BatchSize = 50, 4, 10, 200
	var out [][]byte
	events := 0
	for l := range telemetrytest.NewFleet(o).Batches() {
		p, err := telemetry.EncodeLogsProto(l)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, p)
		events += l.Len()
	}
	return out, events
}

// BenchmarkFleet redacts the simulated fleet's requests the way examples/collector does: one
// long-lived engine (Strict or Balanced, keyed, default cache) and each request decoded
// just before it is redacted with Logs, so the batch is in cache as it is in the collector.
// One operation is one request of up to 200 events, decoded and redacted (ns/op, B/op and
// allocs/op include the decoding). The other figures cover Logs alone: events/s and ns/event
// of wall time, cpu-ns/event of process CPU time (it includes the garbage collector's work
// and holds better on a shared machine), and allocs/event and B/event from runtime/metrics.
func BenchmarkFleet(b *testing.B) {
	payloads, _ := fleetPayloads(b)
	for _, p := range []Policy{Strict, Balanced} {
		b.Run("policy="+p.Name, func(b *testing.B) {
			e, err := New(p, WithKey("k1", testKey))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			samples := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
			next, events := 0, 0
			var busy, cpu time.Duration
			var objects, bytes uint64
			for b.Loop() {
				l, err := telemetry.DecodeLogsProto(payloads[next%len(payloads)])
				if err != nil {
					b.Fatal(err)
				}
				next++
				metrics.Read(samples)
				o0, b0 := samples[0].Value.Uint64(), samples[1].Value.Uint64()
				st, c0 := time.Now(), processCPU()
				e.Logs(l)
				busy += time.Since(st)
				cpu += processCPU() - c0
				metrics.Read(samples)
				objects += samples[0].Value.Uint64() - o0
				bytes += samples[1].Value.Uint64() - b0
				events += l.Len()
			}
			b.ReportMetric(float64(events)/busy.Seconds(), "events/s")
			b.ReportMetric(float64(busy.Nanoseconds())/float64(events), "ns/event")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
			}
			b.ReportMetric(float64(objects)/float64(events), "allocs/event")
			b.ReportMetric(float64(bytes)/float64(events), "B/event")
		})
	}
}
