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
