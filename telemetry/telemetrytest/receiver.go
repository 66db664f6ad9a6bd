package telemetrytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/coworkgov/cowork/telemetry"
)

// MaxRequestBytes is the largest request body (after gunzip) a Receiver accepts.
const MaxRequestBytes = telemetry.DefaultMaxBytes

// Request is one export request a Receiver accepted or refused.
type Request struct {
	Path        string      // /v1/logs or /v1/metrics
	ContentType string      // application/x-protobuf or application/json
	Gzip        bool        // whether the body was gzip-compressed
	Header      http.Header // the request headers
	Body        []byte      // the body after gunzip
	Status      int         // the HTTP status the Receiver answered
	Err         error       // why the request was refused or only partly decoded
}

// Receiver is an in-memory OTLP/HTTP receiver for tests: an httptest server on 127.0.0.1 that
// accepts POST /v1/logs and /v1/metrics with protobuf or JSON bodies (by Content-Type),
// optionally gzip-compressed, decodes them with the telemetry package and records them.
//
// It answers 200 with an empty ExportLogsServiceResponse (or ExportMetricsServiceResponse) in
// the request's encoding; 400 when the body does not decode (what decoded is still recorded),
// 404 for other paths, 405 for other methods, 413 for bodies over [MaxRequestBytes] and 415 for
// other content types. It is not the production receiver: no auth, no back-pressure.
//
// A Receiver must be created with [NewReceiver] and closed with [Receiver.Close]. Its methods
// are safe for concurrent use.
type Receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever something is recorded
	logs     []*telemetry.Logs
	events   []telemetry.Event
	metrics  []*telemetry.Metrics
	requests []Request
}

// NewReceiver starts a Receiver on a free port of 127.0.0.1. Like httptest.NewServer, it panics
// if it cannot listen.
func NewReceiver() *Receiver {
	r := &Receiver{changed: make(chan struct{})}
	r.srv = httptest.NewServer(r)
	return r
}

var _ http.Handler = (*Receiver)(nil)

// URL returns the base URL, http://127.0.0.1:port, to use as an OTLP endpoint.
func (r *Receiver) URL() string { return r.srv.URL }

// Addr returns host:port.
func (r *Receiver) Addr() string { return r.srv.Listener.Addr().String() }

// Close shuts the server down, blocking until its requests are done. Recorded data stays
// readable.
func (r *Receiver) Close() { r.srv.Close() }

// ServeHTTP handles one OTLP/HTTP export request as described on [Receiver]; the Receiver's
// own server calls it, and tests may mount it elsewhere.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rec := Request{Path: req.URL.Path, Header: req.Header.Clone(), Gzip: req.Header.Get("Content-Encoding") == "gzip"}
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	rec.ContentType = mt
	status, err := r.handle(req, &rec)
	rec.Status, rec.Err = status, err
	r.mu.Lock()
	r.requests = append(r.requests, rec)
	r.notifyLocked()
	r.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	w.Header().Set("Content-Type", rec.ContentType)
	w.WriteHeader(http.StatusOK)
	if rec.ContentType == "application/json" {
		_, _ = w.Write([]byte("{}"))
	}
}

func (r *Receiver) handle(req *http.Request, rec *Request) (int, error) {
	if req.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, fmt.Errorf("telemetrytest: method %s not allowed", req.Method)
	}
	if rec.Path != "/v1/logs" && rec.Path != "/v1/metrics" {
		return http.StatusNotFound, fmt.Errorf("telemetrytest: no OTLP signal at %s", rec.Path)
	}
	json := rec.ContentType == "application/json"
	if !json && rec.ContentType != "application/x-protobuf" {
		return http.StatusUnsupportedMediaType, fmt.Errorf("telemetrytest: unsupported content type %q", rec.ContentType)
	}
	var body io.Reader = req.Body
	if rec.Gzip {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return http.StatusBadRequest, fmt.Errorf("telemetrytest: gzip: %w", err)
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, MaxRequestBytes+1))
	if err != nil {
		return http.StatusBadRequest, fmt.Errorf("telemetrytest: read body: %w", err)
	}
	if len(b) > MaxRequestBytes {
		return http.StatusRequestEntityTooLarge, telemetry.ErrTooLarge
	}
	rec.Body = b
	if rec.Path == "/v1/metrics" {
		var m *telemetry.Metrics
		if json {
			m, err = telemetry.DecodeMetricsJSON(b)
		} else {
			m, err = telemetry.DecodeMetricsProto(b)
		}
		if m != nil {
			r.mu.Lock()
			r.metrics = append(r.metrics, m)
			r.mu.Unlock()
		}
	} else {
		var l *telemetry.Logs
		if json {
			l, err = telemetry.DecodeLogsJSON(b)
		} else {
			l, err = telemetry.DecodeLogsProto(b)
		}
		if l != nil {
			r.mu.Lock()
			r.logs = append(r.logs, l)
			r.events = append(r.events, l.Events()...)
			r.mu.Unlock()
		}
	}
	if err != nil {
		return http.StatusBadRequest, err
	}
	return http.StatusOK, nil
}

func (r *Receiver) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Events returns every log event received so far, in arrival order.
func (r *Receiver) Events() []telemetry.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]telemetry.Event(nil), r.events...)
}

// Len returns the number of log events received so far.
func (r *Receiver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Logs returns the decoded log requests, one per request, in arrival order.
func (r *Receiver) Logs() []*telemetry.Logs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*telemetry.Logs(nil), r.logs...)
}

// Metrics returns the decoded metric requests, in arrival order.
func (r *Receiver) Metrics() []*telemetry.Metrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*telemetry.Metrics(nil), r.metrics...)
}

// Requests returns every request received, including refused ones, in arrival order.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Errors returns the errors of refused or partly decoded requests, joined, or nil.
func (r *Receiver) Errors() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, q := range r.requests {
		errs = append(errs, q.Err)
	}
	return errors.Join(errs...)
}

// WaitForEvents blocks until at least n log events have arrived, and returns them all; or
// until ctx is done, and returns what arrived with ctx's error.
func (r *Receiver) WaitForEvents(ctx context.Context, n int) ([]telemetry.Event, error) {
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			out := append([]telemetry.Event(nil), r.events...)
			r.mu.Unlock()
			return out, nil
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return r.Events(), ctx.Err()
		}
	}
}

// Reset forgets everything received so far.
func (r *Receiver) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs, r.events, r.metrics, r.requests = nil, nil, nil, nil
	r.notifyLocked()
}

// Post sends body to the Receiver as an exporter would, for tests of the Receiver's users that
// have bytes rather than an exporter: path is /v1/logs or /v1/metrics, contentType
// application/x-protobuf or application/json. It returns the HTTP status.
func (r *Receiver) Post(ctx context.Context, path, contentType string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
