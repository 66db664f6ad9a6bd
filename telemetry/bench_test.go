package telemetry_test

import (
	"testing"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

func BenchmarkDecodeLogs(b *testing.B) {
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		var files [][]byte
		size, events := 0, 0
		for _, f := range corpus.Files(enc) {
			if f.Signal == "logs" {
				files = append(files, f.Data)
				size += len(f.Data)
			}
		}
		decode := telemetry.DecodeLogsProto
		if enc == corpus.JSON {
			decode = telemetry.DecodeLogsJSON
		}
		for _, f := range files {
			l, _ := decode(f)
			events += l.Len()
		}
		b.Run("format="+string(enc), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				for _, f := range files {
					if _, err := decode(f); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkEncodeLogs(b *testing.B) {
	var logs []*telemetry.Logs
	size, events := 0, 0
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal == "logs" {
			l, _ := telemetry.DecodeLogsProto(f.Data)
			logs = append(logs, l)
			size += len(f.Data)
			events += l.Len()
		}
	}
	for _, format := range []string{"proto", "json"} {
		enc := telemetry.EncodeOptions{}.AppendLogsProto
		if format == "json" {
			enc = telemetry.EncodeOptions{}.AppendLogsJSON
		}
		b.Run("format="+format, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			var buf []byte
			for b.Loop() {
				for _, l := range logs {
					buf, _ = enc(buf[:0], l)
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkDecodeBatch decodes one request holding every record of the corpus, as a busy
// gateway receives it.
func BenchmarkDecodeBatch(b *testing.B) {
	var events []telemetry.Event
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal == "logs" {
			l, _ := telemetry.DecodeLogsProto(f.Data)
			events = append(events, l.Events()...)
		}
	}
	l := telemetry.NewLogs(events...)
	pb, _ := telemetry.EncodeLogsProto(l)
	js, _ := telemetry.EncodeLogsJSON(l)
	for _, c := range []struct {
		name string
		data []byte
		dec  func([]byte) (*telemetry.Logs, error)
	}{{"proto", pb, telemetry.DecodeLogsProto}, {"json", js, telemetry.DecodeLogsJSON}} {
		b.Run("format="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, err := c.dec(c.data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkDetach copies the corpus's events out of their requests, a request at a time, with
// DetachAll and, side by side, by encoding them and decoding the result (the way to get such
// copies without DetachAll).
func BenchmarkDetach(b *testing.B) {
	var reqs [][]telemetry.Event
	events := 0
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal == "logs" {
			l, _ := telemetry.DecodeLogsProto(f.Data)
			reqs = append(reqs, l.Events())
			events += l.Len()
		}
	}
	for _, how := range []string{"detach", "roundtrip"} {
		b.Run("how="+how, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, evs := range reqs {
					if how == "detach" {
						_ = telemetry.DetachAll(evs)
						continue
					}
					p, err := telemetry.EncodeLogsProto(telemetry.NewLogs(evs...))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := telemetry.DecodeLogsProto(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
