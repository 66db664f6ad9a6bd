package receiver_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/receiver"
)

// sink is a consumer that counts what it is given, or fails with err.
type sink struct {
	mu      sync.Mutex
	events  int
	points  int
	err     error
	block   chan struct{}
	entered chan struct{}
}

func (s *sink) ConsumeLogs(ctx context.Context, l *telemetry.Logs) error {
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.events += l.Len()
	return nil
}

func (s *sink) ConsumeMetrics(ctx context.Context, m *telemetry.Metrics) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.points += m.Len()
	return nil
}

func corpusFile(t testing.TB, enc corpus.Encoding, signal string) corpus.File {
	t.Helper()
	for _, f := range corpus.Files(enc) {
		if f.Signal == signal && f.Scenario == "mcp" {
			return f
		}
	}
	t.Fatalf("no %s %s file in the corpus", enc, signal)
	return corpus.File{}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

const ctJSON, ctProto = "application/json", "application/x-protobuf"

func post(t *testing.T, h http.Handler, path, ct, enc, auth string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return send(t, h, http.MethodPost, path, ct, enc, auth, body)
}

// send serves one request with the given headers (each left out when empty).
func send(t *testing.T, h http.Handler, method, path, ct, enc, auth string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHTTPAccepts(t *testing.T) {
	logsJSON := corpusFile(t, corpus.JSON, "logs")
	logsProto := corpusFile(t, corpus.Protobuf, "logs")
	metJSON := corpusFile(t, corpus.JSON, "metrics")
	metProto := corpusFile(t, corpus.Protobuf, "metrics")
	nLogs := func(f corpus.File) int {
		l, err := telemetry.DecodeLogsJSON(f.Data)
		if f.Encoding == corpus.Protobuf {
			l, err = telemetry.DecodeLogsProto(f.Data)
		}
		require.NoError(t, err)
		return l.Len()
	}
	nPoints := func(f corpus.File) int {
		m, err := telemetry.DecodeMetricsJSON(f.Data)
		if f.Encoding == corpus.Protobuf {
			m, err = telemetry.DecodeMetricsProto(f.Data)
		}
		require.NoError(t, err)
		return m.Len()
	}
	tests := []struct {
		name, path, ct, enc string
		body                []byte
		events, points      int
	}{
		{"logs json", "/v1/logs", ctJSON, "", logsJSON.Data, nLogs(logsJSON), 0},
		{"logs proto", "/v1/logs", ctProto, "", logsProto.Data, nLogs(logsProto), 0},
		{"logs proto alias", "/v1/logs", "application/protobuf", "", logsProto.Data, nLogs(logsProto), 0},
		{"logs json gzip", "/v1/logs", ctJSON + "; charset=utf-8", "gzip", gz(t, logsJSON.Data), nLogs(logsJSON), 0},
		{"logs proto gzip", "/v1/logs", ctProto, "gzip", gz(t, logsProto.Data), nLogs(logsProto), 0},
		{"metrics json", "/v1/metrics", ctJSON, "", metJSON.Data, 0, nPoints(metJSON)},
		{"metrics proto gzip", "/v1/metrics", ctProto, "gzip", gz(t, metProto.Data), 0, nPoints(metProto)},
		{"mounted under a prefix", "/otlp/v1/logs", ctProto, "", logsProto.Data, nLogs(logsProto), 0},
		{"coding in upper case", "/v1/logs", ctProto, "GZIP", gz(t, logsProto.Data), nLogs(logsProto), 0},
		{"codings listed", "/v1/logs", ctProto, "identity, gzip", gz(t, logsProto.Data), nLogs(logsProto), 0},
		{"media type in upper case", "/v1/logs", "Application/X-Protobuf", "", logsProto.Data, nLogs(logsProto), 0},
		{"a parameter that does not parse", "/v1/logs", ctJSON + "; charset", "", logsJSON.Data, nLogs(logsJSON), 0},
		{"empty json body", "/v1/logs", ctJSON, "", nil, 0, 0},
		{"empty protobuf body", "/v1/metrics", ctProto, "", nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			r, err := receiver.New(s, receiver.Options{})
			require.NoError(t, err)
			w := post(t, r, tt.path, tt.ct, tt.enc, "", tt.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tt.events, s.events)
			assert.Equal(t, tt.points, s.points)
			if strings.HasPrefix(tt.ct, ctJSON) {
				assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
				assert.JSONEq(t, `{}`, w.Body.String())
			} else {
				assert.Equal(t, ctProto, w.Header().Get("Content-Type"))
				assert.Empty(t, w.Body.Bytes())
			}
			st := r.Stats()
			assert.Equal(t, int64(1), st.Requests)
			assert.Equal(t, int64(tt.events+tt.points), st.Accepted)
		})
	}
}

// badRecordJSON has three records; the second has a malformed timeUnixNano.
const badRecordJSON = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[
 {"timeUnixNano":"1","attributes":[{"key":"event.name","value":{"stringValue":"user_prompt"}}]},
 {"timeUnixNano":"abc"},
 {"timeUnixNano":"3","attributes":[{"key":"event.name","value":{"stringValue":"api_request"}}]}]}]}]}`

func TestHTTPPartialSuccess(t *testing.T) {
	t.Run("decoder rejects one record", func(t *testing.T) {
		s := &sink{}
		r, err := receiver.New(s, receiver.Options{})
		require.NoError(t, err)
		w := post(t, r, "/v1/logs", ctJSON, "", "", []byte(badRecordJSON))
		require.Equal(t, http.StatusOK, w.Code)
		rejected, msg := parsePartialJSON(t, w.Body.Bytes(), "rejectedLogRecords")
		assert.Equal(t, "1", rejected)
		assert.Contains(t, msg, "logRecords[1]")
		assert.Equal(t, 2, s.events)
		assert.Equal(t, int64(1), r.Stats().Rejected)
	})
	t.Run("consumer rejects some records, protobuf answer", func(t *testing.T) {
		f := corpusFile(t, corpus.Protobuf, "logs")
		c := receiver.Funcs{Logs: func(context.Context, *telemetry.Logs) error {
			return &receiver.PartialError{Rejected: 2, Message: "2 records lack session.id"}
		}}
		r, err := receiver.New(c, receiver.Options{})
		require.NoError(t, err)
		w := post(t, r, "/v1/logs", ctProto, "", "", f.Data)
		require.Equal(t, http.StatusOK, w.Code)
		rejected, msg := parsePartial(t, w.Body.Bytes())
		assert.Equal(t, int64(2), rejected)
		assert.Equal(t, "2 records lack session.id", msg)
	})
	t.Run("a consumer's count outside the batch is clamped", func(t *testing.T) {
		f := corpusFile(t, corpus.Protobuf, "logs")
		l, err := telemetry.DecodeLogsProto(f.Data)
		require.NoError(t, err)
		for _, tc := range []struct{ says, want int64 }{{1000, int64(l.Len())}, {-1, 0}} {
			c := receiver.Funcs{Logs: func(context.Context, *telemetry.Logs) error {
				return &receiver.PartialError{Rejected: tc.says, Message: "some"}
			}}
			r, err := receiver.New(c, receiver.Options{})
			require.NoError(t, err)
			w := post(t, r, "/v1/logs", ctProto, "", "", f.Data)
			require.Equal(t, http.StatusOK, w.Code)
			rejected, _ := parsePartial(t, w.Body.Bytes())
			assert.Equal(t, tc.want, rejected)
			st := r.Stats()
			assert.Equal(t, tc.want, st.Rejected)
			assert.Equal(t, int64(l.Len())-tc.want, st.Accepted)
		}
	})
	t.Run("a bad data point costs only itself", func(t *testing.T) {
		s := &sink{}
		r, err := receiver.New(s, receiver.Options{})
		require.NoError(t, err)
		body := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"a","sum":{"dataPoints":[{"asInt":"1"}]}},
			{"name":"b","sum":{"dataPoints":[{"asInt":"1"},{"asInt":"2"},{"asInt":"x"}]}},
			{"name":"c","sum":{"aggregationTemporality":"SOON","dataPoints":[{"asInt":"1"},{"asInt":"2"}]}}]}]}]}`
		w := post(t, r, "/v1/metrics", ctJSON, "", "", []byte(body))
		require.Equal(t, http.StatusOK, w.Code)
		rejected, msg := parsePartialJSON(t, w.Body.Bytes(), "rejectedDataPoints")
		assert.Equal(t, "3", rejected, "b's bad point and c's two, dropped with c")
		assert.Contains(t, msg, "metrics[1].sum.dataPoints[2]")
		assert.Contains(t, msg, "metrics[2]")
		assert.Equal(t, 3, s.points, "a's point and b's good ones")
	})
}

// parsePartialJSON reads a JSON export response's partialSuccess: its count, the member
// named count (rejectedLogRecords or rejectedDataPoints), and its errorMessage.
func parsePartialJSON(t *testing.T, b []byte, count string) (rejected, msg string) {
	t.Helper()
	var resp struct {
		PartialSuccess map[string]string `json:"partialSuccess"`
	}
	require.NoError(t, json.Unmarshal(b, &resp), string(b))
	return resp.PartialSuccess[count], resp.PartialSuccess["errorMessage"]
}

// parsePartial reads an ExportLogsServiceResponse's partial_success.
func parsePartial(t *testing.T, b []byte) (int64, string) {
	t.Helper()
	num, typ, n := protowire.ConsumeTag(b)
	require.Positive(t, n)
	require.Equal(t, protowire.Number(1), num)
	require.Equal(t, protowire.BytesType, typ)
	inner, m := protowire.ConsumeBytes(b[n:])
	require.Positive(t, m)
	var rejected int64
	var msg string
	for len(inner) > 0 {
		num, typ, n := protowire.ConsumeTag(inner)
		require.Positive(t, n)
		inner = inner[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(inner)
			require.Positive(t, m)
			rejected, inner = int64(v), inner[m:]
		case num == 2 && typ == protowire.BytesType:
			v, m := protowire.ConsumeString(inner)
			require.Positive(t, m)
			msg, inner = v, inner[m:]
		default:
			t.Fatalf("unexpected field %d", num)
		}
	}
	return rejected, msg
}

func TestHTTPRefusals(t *testing.T) {
	logs := corpusFile(t, corpus.Protobuf, "logs").Data
	bomb := gz(t, make([]byte, 2<<20)) // 2 MiB of zeros, a few KiB compressed
	tests := []struct {
		name       string
		opts       receiver.Options
		consumer   error
		method     string
		path       string
		ct, enc    string
		auth       string
		body       []byte
		want       int
		retryAfter string
	}{
		{name: "malformed protobuf", ct: ctProto, body: []byte{0xff, 0xff, 0xff}, want: 400},
		{name: "malformed json", ct: ctJSON, body: []byte(`{"resourceLogs":[`), want: 400},
		{name: "every record bad", ct: ctJSON, body: []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"x"}]}]}]}`), want: 400},
		{name: "invalid gzip", ct: ctProto, enc: "gzip", body: []byte("not gzip"), want: 400},
		{name: "body over the limit", opts: receiver.Options{MaxBodyBytes: 100}, ct: ctProto, body: logs, want: 413},
		{name: "gzip bomb", opts: receiver.Options{MaxDecompressedBytes: 1 << 20}, ct: ctProto, enc: "gzip", body: bomb, want: 413},
		{name: "unsupported content type", ct: "text/plain", body: logs, want: 415},
		{name: "missing content type", ct: "", body: logs, want: 415},
		{name: "unsupported encoding", ct: ctProto, enc: "br", body: logs, want: 415},
		{name: "gzip twice", ct: ctProto, enc: "gzip, gzip", body: gz(t, gz(t, logs)), want: 415},
		{name: "no token", opts: receiver.Options{Token: "s3cret"}, ct: ctProto, body: logs, want: 401},
		{name: "wrong token", opts: receiver.Options{Token: "s3cret"}, ct: ctProto, auth: "Bearer s3creT", body: logs, want: 401},
		{name: "token without scheme", opts: receiver.Options{Token: "s3cret"}, ct: ctProto, auth: "s3cret", body: logs, want: 401},
		{name: "right token", opts: receiver.Options{Token: "s3cret"}, ct: ctProto, auth: "Bearer s3cret", body: logs, want: 200},
		{name: "scheme is case-insensitive", opts: receiver.Options{Token: "s3cret"}, ct: ctProto, auth: "bearer s3cret", body: logs, want: 200},
		{name: "saturated consumer", consumer: receiver.ErrSaturated, ct: ctProto, body: logs, want: 429, retryAfter: "1"},
		{name: "unavailable consumer", consumer: receiver.ErrUnavailable, ct: ctProto, body: logs, want: 503, retryAfter: "1"},
		{name: "retry error sets the delay", consumer: &receiver.RetryError{Err: receiver.ErrSaturated, After: 2500 * time.Millisecond}, ct: ctProto, body: logs, want: 429, retryAfter: "3"},
		{name: "failing consumer is retryable", consumer: assert.AnError, ct: ctProto, body: logs, want: 503, retryAfter: "1"},
		{name: "consumer refuses for good", consumer: receiver.ErrInvalid, ct: ctProto, body: logs, want: 400},
		{name: "a retry error is retried whatever its cause", consumer: &receiver.RetryError{Err: receiver.ErrInvalid, After: 2 * time.Second}, ct: ctProto, body: logs, want: 503, retryAfter: "2"},
		{name: "GET", method: http.MethodGet, ct: ctProto, want: 405},
		{name: "unknown path", path: "/v1/traces", ct: ctProto, body: logs, want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{err: tt.consumer}
			r, err := receiver.New(s, tt.opts)
			require.NoError(t, err)
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/v1/logs"
			}
			w := send(t, r, method, path, tt.ct, tt.enc, tt.auth, tt.body)
			assert.Equal(t, tt.want, w.Code, w.Body.String())
			assert.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			if tt.want == 401 {
				assert.NotEmpty(t, w.Header().Get("WWW-Authenticate"))
			}
			if tt.want != 200 {
				assert.Zero(t, s.events, "a refused request must not reach the consumer's storage")
				assert.Zero(t, r.Stats().Accepted)
				assert.Zero(t, r.Stats().Rejected, "Rejected counts records of successful requests only")
				assert.NotEmpty(t, r.Stats().Refused)
			}
		})
	}
}

// TestHTTPRefusalsInRequestEncoding: a refusal is in the request's encoding too, whatever
// refuses it: a JSON request gets a JSON google.rpc.Status.
func TestHTTPRefusalsInRequestEncoding(t *testing.T) {
	r, err := receiver.New(&sink{}, receiver.Options{Token: "s3cret"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name, method, path, enc, auth string
		want, code                    int
	}{
		{"no token", http.MethodPost, "/v1/logs", "", "", 401, 16},
		{"GET", http.MethodGet, "/v1/logs", "", "Bearer s3cret", 405, 12},
		{"unknown path", http.MethodPost, "/v1/traces", "", "Bearer s3cret", 404, 5},
		{"unsupported encoding", http.MethodPost, "/v1/logs", "br", "Bearer s3cret", 415, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := send(t, r, tc.method, tc.path, ctJSON+"; charset=utf-8", tc.enc, tc.auth, []byte(`{}`))
			require.Equal(t, tc.want, w.Code)
			assert.Equal(t, ctJSON, w.Header().Get("Content-Type"))
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &st), w.Body.String())
			assert.Equal(t, tc.code, st.Code)
			assert.NotEmpty(t, st.Message)
		})
	}
}

func TestHTTPConcurrencyLimit(t *testing.T) {
	logs := corpusFile(t, corpus.Protobuf, "logs").Data
	s := &sink{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	r, err := receiver.New(s, receiver.Options{MaxConcurrent: 1})
	require.NoError(t, err)
	done := make(chan int)
	go func() { done <- post(t, r, "/v1/logs", ctProto, "", "", logs).Code }()
	<-s.entered // the first request holds the only slot
	w := post(t, r, "/v1/logs", ctProto, "", "", logs)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	close(s.block)
	assert.Equal(t, http.StatusOK, <-done)
	assert.Equal(t, int64(1), r.Stats().Refused["unavailable"])
}

func TestHTTPReadTimeout(t *testing.T) {
	var consumed atomic.Int64
	r, err := receiver.New(receiver.Funcs{Logs: func(_ context.Context, l *telemetry.Logs) error {
		consumed.Add(int64(l.Len()))
		return nil
	}}, receiver.Options{ReadTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	// Promise 1000 bytes, send one, then stall.
	_, err = conn.Write([]byte("POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\n\x0a"))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	// 503 with Retry-After, which exporters retry (they drop a batch answered 408).
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Zero(t, consumed.Load())
	assert.Equal(t, int64(1), r.Stats().Refused["timeout"])
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := receiver.New(&sink{}, receiver.Options{MaxConcurrent: -1})
	require.ErrorIs(t, err, receiver.ErrInvalidOption)
	_, err = receiver.New(nil, receiver.Options{})
	require.ErrorIs(t, err, receiver.ErrInvalidOption)
}
