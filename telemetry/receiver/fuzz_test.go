package receiver_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/receiver"
)

// FuzzServeHTTP posts arbitrary bodies as OTLP/HTTP logs and checks the contract: the answer
// is 200, 400 or 413, never a panic or a 5xx; a 200 hands the consumer exactly the records
// the decoder accepts (so nothing acknowledged is lost and nothing refused is consumed), and
// a refusal hands it nothing.
func FuzzServeHTTP(f *testing.F) {
	for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
		for _, file := range corpus.Logs(enc, "deny") {
			f.Add(file.Data, enc == corpus.JSON, false)
			f.Add(gz(f, file.Data), enc == corpus.JSON, true)
		}
	}
	f.Add([]byte(badRecordJSON), true, false)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00}, false, false)
	f.Fuzz(func(t *testing.T, body []byte, asJSON, gzipped bool) {
		var got int
		r, err := receiver.New(receiver.Funcs{Logs: func(_ context.Context, l *telemetry.Logs) error {
			got += l.Len()
			return nil
		}}, receiver.Options{MaxBodyBytes: 1 << 20, MaxDecompressedBytes: 1 << 20})
		require.NoError(t, err)
		ct := "application/x-protobuf"
		if asJSON {
			ct = "application/json"
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			if gzipped {
				return // the decompressed body is not at hand; the counts below need it
			}
			var l *telemetry.Logs
			if asJSON {
				l, _ = telemetry.DecodeLogsJSON(body)
			} else {
				l, _ = telemetry.DecodeLogsProto(body)
			}
			assert.Equal(t, l.Len(), got)
			assert.Equal(t, int64(got), r.Stats().Accepted)
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			assert.Zero(t, got)
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
