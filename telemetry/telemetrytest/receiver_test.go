package telemetrytest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func post(t *testing.T, url, path, ctype string, gzipped bool, body []byte) *http.Response {
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", ctype)
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func TestReceiverCorpus(t *testing.T) {
	rcv := telemetrytest.NewReceiver()
	defer rcv.Close()
	want := 0
	for _, tc := range []struct {
		enc   corpus.Encoding
		ctype string
		gzip  bool
	}{
		{corpus.Protobuf, "application/x-protobuf", false},
		{corpus.JSON, "application/json; charset=utf-8", true},
	} {
		for _, f := range corpus.Files(tc.enc) {
			body := f.Data
			if tc.gzip {
				body = gz(t, body)
			}
			resp := post(t, rcv.URL(), "/v1/"+f.Signal, tc.ctype, tc.gzip, body)
			require.Equal(t, http.StatusOK, resp.StatusCode, f.Path())
			if f.Signal == "logs" {
				l, err := telemetry.DecodeLogsProto(f.Data)
				if tc.enc == corpus.JSON {
					l, err = telemetry.DecodeLogsJSON(f.Data)
				}
				require.NoError(t, err)
				want += l.Len()
			}
		}
	}
	require.NoError(t, rcv.Errors())
	assert.Equal(t, want, rcv.Len())
	assert.Len(t, rcv.Events(), want)
	assert.NotEmpty(t, rcv.Metrics())
	logFiles := 0
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		for _, f := range corpus.Files(enc) {
			if f.Signal == "logs" {
				logFiles++
			}
		}
	}
	assert.Len(t, rcv.Logs(), logFiles, "one decoded Logs per request")
	reqs := rcv.Requests()
	require.NotEmpty(t, reqs)
	assert.True(t, reqs[len(reqs)-1].Gzip)
	assert.Equal(t, "application/json", reqs[len(reqs)-1].ContentType)

	rcv.Reset()
	assert.Zero(t, rcv.Len())
	assert.Empty(t, rcv.Requests())
}

func TestReceiverRefuses(t *testing.T) {
	rcv := telemetrytest.NewReceiver()
	defer rcv.Close()
	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		want                      int
	}{
		{"path", http.MethodPost, "/v1/traces", "application/x-protobuf", nil, http.StatusNotFound},
		{"method", http.MethodGet, "/v1/logs", "application/x-protobuf", nil, http.StatusMethodNotAllowed},
		{"content type", http.MethodPost, "/v1/logs", "text/plain", []byte("hi"), http.StatusUnsupportedMediaType},
		{"malformed protobuf", http.MethodPost, "/v1/logs", "application/x-protobuf", []byte{0x0a, 0xff}, http.StatusBadRequest},
		{"malformed json", http.MethodPost, "/v1/logs", "application/json", []byte(`{"resourceLogs":[`), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, rcv.URL()+tt.path, bytes.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", tt.ctype)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
	assert.Error(t, rcv.Errors())
	assert.Zero(t, rcv.Len())
	reqs := rcv.Requests()
	require.Len(t, reqs, len(tests))
	assert.ErrorIs(t, reqs[3].Err, telemetry.ErrMalformed)
}

func TestReceiverWait(t *testing.T) {
	rcv := telemetrytest.NewReceiver()
	defer rcv.Close()
	f := telemetrytest.NewFactory(9)
	b, err := telemetry.EncodeLogsProto(f.Logs(f.UserPrompt(), f.APIRequest(), f.AssistantResponse()))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	got, err := rcv.WaitForEvents(ctx, 1)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, got)

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			status, err := rcv.Post(context.Background(), "/v1/logs", "application/x-protobuf", b)
			assert.NoError(t, err)
			assert.Equal(t, http.StatusOK, status)
		})
	}
	got, err = rcv.WaitForEvents(context.Background(), 12)
	require.NoError(t, err)
	assert.Len(t, got, 12)
	wg.Wait()
}
