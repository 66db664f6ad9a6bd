// Package load drives an OTLP/HTTP endpoint with a simulated fleet (telemetrytest) over real
// HTTP and measures sustained throughput, acknowledgement latency and loss. It backs
// examples/loadgen and the collector's benchmark and crash test.
package load

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// Payload is one pre-encoded OTLP logs request.
type Payload struct {
	Body   []byte
	Events int
}

// Fleet describes the simulated fleet whose events are sent.
type Fleet struct {
	Seed              uint64
	Users             int // default 50
	SessionsPerUser   int // default 4
	PromptsPerSession int // default 10
	BatchSize         int // events per request, default 200
	JSON              bool
	Gzip              bool
}

// Generate encodes the fleet's batches, ready to send, and returns them with the number of
// distinct events.
func Generate(f Fleet) ([]Payload, int, error) {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&f.Users, 50)
	def(&f.SessionsPerUser, 4)
	def(&f.PromptsPerSession, 10)
	def(&f.BatchSize, 200)
	o := telemetrytest.Realistic(f.Seed)
	o.Users, o.SessionsPerUser, o.PromptsPerSession, o.BatchSize = f.Users, f.SessionsPerUser, f.PromptsPerSession, f.BatchSize
	fl := telemetrytest.NewFleet(o)
	var out []Payload
	total := 0
	for l := range fl.Batches() {
		var b []byte
		var err error
		if f.JSON {
			b, err = telemetry.EncodeLogsJSON(l)
		} else {
			b, err = telemetry.EncodeLogsProto(l)
		}
		if err != nil {
			return nil, 0, err
		}
		if f.Gzip {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(b)
			_ = zw.Close()
			b = buf.Bytes()
		}
		out = append(out, Payload{Body: b, Events: l.Len()})
		total += l.Len()
	}
	return out, total, nil
}

// Options configures [Send].
type Options struct {
	// URL is the OTLP/HTTP base URL, e.g. http://127.0.0.1:4318.
	URL string
	// Token is sent as a bearer token when set.
	Token string
	// Workers is the number of concurrent senders (default 8).
	Workers int
	JSON    bool
	Gzip    bool
	// Rate, when positive, paces the requests (an open loop): request i is due when the
	// events before it, sent at Rate events a second, would have been, and its latency is
	// counted from then, so that a collector falling behind shows as latency rather than as
	// requests sent later (no coordinated omission). Workers bounds how many are in flight;
	// a request waits for a free one past its due time, and that wait counts too. Zero sends
	// each request as soon as a worker is free (a closed loop: latency then includes the
	// queueing of a saturated endpoint).
	Rate float64
	// Client is the HTTP client (default: one with keep-alive for Workers connections).
	Client *http.Client
	// OnAck, when set, is called after each acknowledged request with the payload's index
	// and event count, from the sending goroutine.
	OnAck func(index, events int)
}

// Result is what [Send] measured.
type Result struct {
	Requests, Events int64 // acknowledged
	Retries          int64 // 429/503 answers retried
	Failed           int64 // requests given up (permanent refusals, or ctx ended)
	Elapsed          time.Duration
	// P50, P99 and Max are the acknowledgement latencies: of each request's successful
	// attempt, or with Options.Rate from when the request was due (retries included).
	P50, P99, Max time.Duration
}

// EventsPerSecond is the acknowledged events over the elapsed time.
func (r Result) EventsPerSecond() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// String is the result as one line: events, requests, rate, latencies and failures.
func (r Result) String() string {
	return fmt.Sprintf("%d events in %d requests in %v: %.0f events/s; ack latency p50 %v p99 %v max %v; %d retries, %d failed",
		r.Events, r.Requests, r.Elapsed.Round(time.Millisecond), r.EventsPerSecond(), r.P50, r.P99, r.Max, r.Retries, r.Failed)
}

// ErrRefused reports a request the endpoint refused for good.
var ErrRefused = errors.New("load: request refused")

// Send posts every payload once, in order per worker, retrying 429 and 503 answers after
// their Retry-After, and measures. It returns when all are acknowledged or given up, or ctx
// ends.
func Send(ctx context.Context, o Options, payloads []Payload) (Result, error) {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Workers, MaxConnsPerHost: o.Workers}}
	}
	ct := "application/x-protobuf"
	if o.JSON {
		ct = "application/json"
	}
	var (
		next               atomic.Int64
		res                Result
		mu                 sync.Mutex
		lats               []time.Duration
		errOnce            sync.Once
		firstErr           error
		reqs, evs, retries atomic.Int64
		failed             atomic.Int64
	)
	due := schedule(payloads, o.Rate)
	start := time.Now()
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			defer func() { mu.Lock(); lats = append(lats, mine...); mu.Unlock() }()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(payloads) || ctx.Err() != nil {
					return
				}
				p := payloads[i]
				var at time.Time // when the request is due, with Rate
				if due != nil {
					at = start.Add(due[i])
					if d := time.Until(at); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					}
				}
				for {
					t0 := time.Now()
					if !at.IsZero() {
						t0 = at // retries included: the latency of the request as scheduled
					}
					code, after, err := post(ctx, client, o, ct, p.Body)
					if err == nil && code == http.StatusOK {
						mine = append(mine, time.Since(t0))
						reqs.Add(1)
						evs.Add(int64(p.Events))
						if o.OnAck != nil {
							o.OnAck(i, p.Events)
						}
						break
					}
					if err == nil && (code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable) {
						retries.Add(1)
						select {
						case <-time.After(after):
							continue
						case <-ctx.Done():
						}
					}
					failed.Add(1)
					if err == nil {
						err = fmt.Errorf("%w: HTTP %d", ErrRefused, code)
					}
					errOnce.Do(func() { firstErr = err })
					break
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests, res.Events, res.Retries, res.Failed = reqs.Load(), evs.Load(), retries.Load(), failed.Load()
	slices.Sort(lats)
	if n := len(lats); n > 0 {
		res.P50 = lats[n/2]
		res.P99 = lats[min(n-1, (n*99+99)/100-1)]
		res.Max = lats[n-1]
	}
	return res, firstErr
}

// schedule returns, for a positive rate, when each payload is due after the start: when the
// events before it would have been sent at rate events a second. It returns nil for none.
func schedule(payloads []Payload, rate float64) []time.Duration {
	if rate <= 0 {
		return nil
	}
	due := make([]time.Duration, len(payloads))
	events := 0
	for i, p := range payloads {
		due[i] = time.Duration(float64(events) / rate * float64(time.Second))
		events += p.Events
	}
	return due
}

func post(ctx context.Context, c *http.Client, o Options, ct string, body []byte) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL+"/v1/logs", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", ct)
	if o.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+o.Token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	after := 100 * time.Millisecond
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		after = time.Duration(s) * time.Second
	}
	return resp.StatusCode, after, nil
}
