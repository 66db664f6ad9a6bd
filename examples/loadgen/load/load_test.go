package load_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/examples/loadgen/load"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/receiver"
)

// TestSend streams a generated fleet at a receiver that refuses some requests with 429 first,
// and checks every event is acknowledged exactly once and counted.
func TestSend(t *testing.T) {
	for _, tc := range []struct {
		name       string
		json, gzip bool
	}{{"protobuf", false, false}, {"json+gzip", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			payloads, total, err := load.Generate(load.Fleet{Seed: 5, Users: 3, SessionsPerUser: 2, PromptsPerSession: 2, BatchSize: 20, JSON: tc.json, Gzip: tc.gzip})
			require.NoError(t, err)
			require.NotEmpty(t, payloads)
			var got, calls atomic.Int64
			r, err := receiver.New(receiver.Funcs{Logs: func(_ context.Context, l *telemetry.Logs) error {
				if calls.Add(1)%3 == 0 {
					return &receiver.RetryError{Err: receiver.ErrSaturated, After: 1}
				}
				got.Add(int64(l.Len()))
				return nil
			}}, receiver.Options{})
			require.NoError(t, err)
			srv := httptest.NewServer(r)
			defer srv.Close()
			var acked atomic.Int64
			res, err := load.Send(context.Background(), load.Options{URL: srv.URL, Workers: 3, JSON: tc.json, Gzip: tc.gzip,
				OnAck: func(_, n int) { acked.Add(int64(n)) }}, payloads)
			require.NoError(t, err)
			assert.Equal(t, int64(total), res.Events)
			assert.Equal(t, int64(total), got.Load())
			assert.Equal(t, int64(total), acked.Load())
			assert.Equal(t, int64(len(payloads)), res.Requests)
			assert.Positive(t, res.Retries)
			assert.Zero(t, res.Failed)
			assert.Positive(t, res.P99)
		})
	}
	t.Run("permanent refusal", func(t *testing.T) {
		payloads, _, err := load.Generate(load.Fleet{Seed: 6, Users: 1, SessionsPerUser: 1, PromptsPerSession: 1})
		require.NoError(t, err)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
		defer srv.Close()
		res, err := load.Send(context.Background(), load.Options{URL: srv.URL}, payloads)
		require.ErrorIs(t, err, load.ErrRefused)
		assert.Equal(t, int64(len(payloads)), res.Failed)
	})
}

// TestSendRate: with a rate, requests leave on schedule, not as fast as they are answered,
// and an endpoint slower than the rate shows as latency counted from each request's due
// time (the queue behind it), not as requests sent later.
func TestSendRate(t *testing.T) {
	payloads, total, err := load.Generate(load.Fleet{Seed: 7, Users: 2, SessionsPerUser: 2, PromptsPerSession: 3, BatchSize: 20})
	require.NoError(t, err)
	require.Greater(t, len(payloads), 10)
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer fast.Close()
	rate := float64(total) / 0.5 // the whole fleet in half a second
	res, err := load.Send(context.Background(), load.Options{URL: fast.URL, Workers: 4, Rate: rate}, payloads)
	require.NoError(t, err)
	assert.Equal(t, int64(total), res.Events)
	last := payloads[len(payloads)-1].Events
	assert.GreaterOrEqual(t, res.Elapsed, time.Duration(float64(total-last)/rate*float64(time.Second)), "paced, not as fast as answered")

	// One worker and an endpoint that takes 20 ms a request, paced at ten times what it can
	// answer: each request waits for those before it.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { time.Sleep(20 * time.Millisecond) }))
	defer slow.Close()
	few := payloads[:10]
	n := 0
	for _, p := range few {
		n += p.Events
	}
	res, err = load.Send(context.Background(), load.Options{URL: slow.URL, Workers: 1, Rate: float64(n) / 0.02}, few)
	require.NoError(t, err)
	assert.Greater(t, res.Max, 150*time.Millisecond, "the last request was due at about 20 ms and answered after about 200")
	assert.Greater(t, res.P50, 60*time.Millisecond)
}
