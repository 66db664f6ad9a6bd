package realclient

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

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

// Requests returns a copy of the captured OTLP requests in arrival order. The bodies are
// shared; do not modify them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
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
