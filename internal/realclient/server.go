package realclient

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is the stand-in for the Anthropic Messages API and, on the same address, an OTLP/HTTP
// receiver that captures every export as received. It is the Go port of mock_anthropic.py and
// answers as that script does; see [Server.ServeHTTP].
//
// A Server must be created with NewServer (or NewHandler for use with httptest) and is safe
// for concurrent use.
type Server struct {
	scen table
	log  *slog.Logger

	mu       sync.Mutex
	counter  int // POSTs so far, the python mock's arrival counter
	requests []Request
	calls    []Call
	changed  chan struct{} // closed and replaced on every capture

	srv *http.Server
	ln  net.Listener
}

// Request is one captured OTLP/HTTP export.
type Request struct {
	// Index is the request's arrival number among all POSTs the server has answered, from 1,
	// as mock_anthropic.py numbers its files (model calls use numbers too).
	Index int
	// Signal is "logs", "metrics" or "traces", from the path.
	Signal string
	// Path is the request path, e.g. "/v1/logs".
	Path string
	// ContentType is the Content-Type header, e.g. "application/json" or
	// "application/x-protobuf".
	ContentType string
	// ContentEncoding is the Content-Encoding header as sent ("gzip" or empty).
	ContentEncoding string
	// Body is the request body as sent, gunzipped when the header said gzip.
	Body []byte
	// Received is when the request was read.
	Received time.Time
}

// Ext is "json" for a JSON content type and "pb" otherwise, the mock's file extension.
func (r Request) Ext() string {
	if strings.Contains(r.ContentType, "json") {
		return "json"
	}
	return "pb"
}

// Name is the file name record.sh gives the request, e.g. "0007-logs.json".
func (r Request) Name() string { return fmt.Sprintf("%04d-%s.%s", r.Index, r.Signal, r.Ext()) }

// Call records one Messages API call the stand-in model answered.
type Call struct {
	Index    int      // arrival number among all POSTs, also in the reply's ids
	Scenario string   // from "scenario:NAME", empty when absent
	Model    string   // the requested model
	Tools    []string // names of the tools the CLI offered, in request order
	Done     int      // tool results in the conversation
	Stream   bool     // whether the reply was streamed
	Status   int      // HTTP status of the reply
	Reply    string   // the tool asked for, or "text" for a closing text, or "error"
	Received time.Time
}

// NewHandler returns a Server that is not listening, for use as an http.Handler (for example
// with httptest.NewServer). extra scenarios are added to the built-in ones, replacing any of
// the same name.
func NewHandler(extra ...Scenario) *Server {
	return &Server{scen: newTable(extra), log: slog.Default(), changed: make(chan struct{})}
}

// NewServer starts a Server listening on 127.0.0.1 on a free port. extra scenarios are added to
// the built-in ones, replacing any of the same name. Call Close when done.
func NewServer(extra ...Scenario) (*Server, error) {
	s := NewHandler(extra...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("realclient: listen: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("realclient: serve", "err", err)
		}
	}()
	return s, nil
}

// URL is the server's base URL, e.g. "http://127.0.0.1:41234", or "" when not listening. It
// serves as both ANTHROPIC_BASE_URL and OTEL_EXPORTER_OTLP_ENDPOINT.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops the server, closing its connections.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Close(); err != nil {
		return fmt.Errorf("realclient: close: %w", err)
	}
	return nil
}

// Requests returns a copy of the captured OTLP requests in arrival order. The bodies are
// shared; do not modify them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns a copy of the Messages API calls answered so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ServeHTTP answers as mock_anthropic.py does: GET anything gives 200 "{}"; a POST to
// /v1/logs, /v1/metrics or /v1/traces is captured and answered 200 with "{}" (JSON) or an
// empty body (protobuf); a POST whose path contains count_tokens gives {"input_tokens": 42};
// any other POST is a Messages API call answered from the scenario. Every POST, of any kind,
// advances the arrival counter.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		reply(w, http.StatusOK, "application/json", []byte("{}"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err == nil && strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		body, err = gunzip(body)
	}
	s.mu.Lock()
	s.counter++
	k := s.counter
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("realclient: bad request body", "path", r.URL.Path, "err", err)
		reply(w, http.StatusBadRequest, "application/json", []byte(`{}`))
		return
	}
	p := r.URL.RequestURI()
	if strings.HasPrefix(p, "/v1/logs") || strings.HasPrefix(p, "/v1/metrics") || strings.HasPrefix(p, "/v1/traces") {
		s.capture(w, k, r, p, body)
		return
	}
	if strings.Contains(p, "count_tokens") {
		reply(w, http.StatusOK, "application/json", []byte(`{"input_tokens": 42}`))
		return
	}
	s.messages(w, k, body)
}

// capture records an OTLP export and answers it as the python mock does.
func (s *Server) capture(w http.ResponseWriter, k int, r *http.Request, p string, body []byte) {
	sig := strings.Split(p, "/")[2]
	sig, _, _ = strings.Cut(sig, "?")
	req := Request{
		Index:           k,
		Signal:          sig,
		Path:            p,
		ContentType:     r.Header.Get("Content-Type"),
		ContentEncoding: r.Header.Get("Content-Encoding"),
		Body:            body,
		Received:        time.Now(),
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	ct, data := req.ContentType, []byte("{}")
	if ct == "" {
		ct = "application/json"
	}
	if req.Ext() != "json" {
		data = nil
	}
	reply(w, http.StatusOK, ct, data)
}

func reply(w http.ResponseWriter, code int, ct string, data []byte) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("realclient: gunzip: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("realclient: gunzip: %w", err)
	}
	return out, nil
}

// Wait blocks until the capture holds at least one logs and one metrics request and nothing
// new has arrived for quiet, or until ctx is done. It reports whether both signals arrived.
func (s *Server) Wait(ctx context.Context, quiet time.Duration) bool {
	for {
		s.mu.Lock()
		var logs, metrics bool
		var last time.Time
		for _, r := range s.requests {
			logs = logs || r.Signal == "logs"
			metrics = metrics || r.Signal == "metrics"
			last = r.Received
		}
		ch := s.changed
		s.mu.Unlock()
		wait := quiet
		if logs && metrics {
			d := time.Since(last)
			if d >= quiet {
				return true
			}
			wait = quiet - d
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return logs && metrics
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}
