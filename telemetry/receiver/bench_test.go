package receiver_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/receiver"
)

// BenchmarkServeHTTP measures the receiver alone (no network): read, gunzip, decode and hand
// over one corpus request.
func BenchmarkServeHTTP(b *testing.B) {
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		for _, zipped := range []bool{false, true} {
			name := "format=" + string(enc) + "/gzip=false"
			f := corpus.Logs(enc, "files")[0]
			body := f.Data
			if zipped {
				name = "format=" + string(enc) + "/gzip=true"
				body = gz(b, body)
			}
			b.Run(name, func(b *testing.B) {
				var events int
				r, err := receiver.New(receiver.Funcs{Logs: func(_ context.Context, l *telemetry.Logs) error {
					events += l.Len()
					return nil
				}}, receiver.Options{})
				if err != nil {
					b.Fatal(err)
				}
				ct := "application/x-protobuf"
				if enc == corpus.JSON {
					ct = "application/json"
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				w := httptest.NewRecorder()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
					req.Header.Set("Content-Type", ct)
					if zipped {
						req.Header.Set("Content-Encoding", "gzip")
					}
					w.Body.Reset()
					r.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
				b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
