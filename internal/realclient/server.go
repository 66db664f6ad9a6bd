package realclient

import (
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
	changed  chan struct{}            // closed and replaced on every capture
	closing  map[string]chan struct{} // per scenario, closed once its closing text is asked for

	srv *http.Server
	ln  net.Listener
}

// Call records one Messages API call the stand-in model answered.
type Call struct {
	Index    int       // arrival number among all POSTs, also in the reply's ids
	Scenario string    // from "scenario:NAME", empty when absent
	Model    string    // the requested model
	Tools    []string  // names of the tools the CLI offered, in request order
	Done     int       // tool results in the conversation
	Stream   bool      // whether the reply was streamed
	Status   int       // HTTP status of the reply
	Reply    string    // the tool asked for, or "text" for a closing text, or "error"
	Received time.Time // when the call was answered
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
	return listen(slog.Default(), extra)
}

// listen starts a Server that logs to log.
func listen(log *slog.Logger, extra []Scenario) (*Server, error) {
	s := NewHandler(extra...)
	s.log = log
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
	s.messages(r.Context(), w, k, body)
}

// closed returns the channel that is closed once scenario name's conversation has asked for
// its closing text.
func (s *Server) closed(name string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing == nil {
		s.closing = map[string]chan struct{}{}
	}
	ch, ok := s.closing[name]
	if !ok {
		ch = make(chan struct{})
		s.closing[name] = ch
	}
	return ch
}

// markClosed records that scenario name's conversation asked for its closing text.
func (s *Server) markClosed(name string) {
	ch := s.closed(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// awaitClosed waits, at most AfterWait, for scenario name's closing text to be asked for.
func (s *Server) awaitClosed(ctx context.Context, name string) {
	t := time.NewTimer(AfterWait)
	defer t.Stop()
	select {
	case <-s.closed(name):
	case <-ctx.Done():
	case <-t.C:
		s.log.Warn("realclient: gave up waiting for a scenario's closing text", "scenario", name, "wait", AfterWait)
	}
}

func reply(w http.ResponseWriter, code int, ct string, data []byte) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
