package collector_test

import (
	"compress/gzip"
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
	"github.com/coworkgov/cowork/examples/loadgen/load"
	"github.com/coworkgov/cowork/telemetry"
)

// downstream is an OTLP/HTTP endpoint that fails while down is set.
type downstream struct {
	down     atomic.Bool
	failures atomic.Int64
	mu       sync.Mutex
	events   []telemetry.Event
	auth     []string
}

func (d *downstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.down.Load() {
		d.failures.Add(1)
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	l, err := telemetry.DecodeLogsProto(b)
	if err != nil || r.URL.Path != "/v1/logs" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	d.events = append(d.events, l.Events()...)
	d.auth = append(d.auth, r.Header.Get("Authorization"))
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (d *downstream) got() ([]telemetry.Event, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]telemetry.Event(nil), d.events...), append([]string(nil), d.auth...)
}

// TestForwardSurvivesOutage forwards through a downstream outage: ingestion goes on, and once
// the target is back every event arrives once, redacted, in order within each session.
func TestForwardSurvivesOutage(t *testing.T) {
	for _, form := range []string{"s2", "gzip", "raw"} {
		t.Run(form, func(t *testing.T) { forwardSurvivesOutage(t, form) })
	}
}

// forwardSurvivesOutage runs TestForwardSurvivesOutage on a store of S2-compressed (new
// stores), gzip-compressed (schema 2) or raw payloads.
func forwardSurvivesOutage(t *testing.T, form string) {
	d := &downstream{}
	d.down.Store(true)
	srv := httptest.NewServer(d)
	defer srv.Close()
	cfg := fastChains(t.TempDir())
	cfg.RawPayloads = form == "raw"
	if form == "gzip" {
		setSchemaVersion(t, cfg.DataDir, "2")
	}
	cfg.Forward, cfg.ForwardHeaders = srv.URL, map[string]string{"Authorization": "Bearer siem"}
	c, url := start(t, cfg)

	payloads, total, err := load.Generate(load.Fleet{Seed: 11, Users: 5, SessionsPerUser: 2, PromptsPerSession: 3, BatchSize: 25})
	require.NoError(t, err)
	res, err := load.Send(context.Background(), load.Options{URL: url, Workers: 1}, payloads)
	require.NoError(t, err, "ingestion does not wait for the forwarder")
	require.Equal(t, int64(total), res.Events)
	require.Eventually(t, func() bool { return d.failures.Load() > 0 }, 10*time.Second, 10*time.Millisecond)
	d.down.Store(false)
	require.Eventually(t, func() bool { evs, _ := d.got(); return len(evs) >= total }, 60*time.Second, 20*time.Millisecond)

	evs, auth := d.got()
	assert.Len(t, evs, total, "each event once")
	assert.Equal(t, "Bearer siem", auth[0])
	last := map[string]int64{}
	for _, ev := range evs {
		r := ev.EventRecord()
		prev, seen := last[r.SessionID]
		assert.True(t, !seen || r.Sequence > prev, "session %s out of order", r.SessionID)
		last[r.SessionID] = r.Sequence
		if up, ok := ev.(*telemetry.UserPrompt); ok {
			assert.NotContains(t, up.UserEmail, "@", "forwarded events are redacted")
		}
	}
	_ = c
}

// TestForwardQueueIsBounded keeps the target down past the queue bound: the oldest batches
// are skipped and counted, ingestion never blocks.
func TestForwardQueueIsBounded(t *testing.T) {
	d := &downstream{}
	d.down.Store(true)
	srv := httptest.NewServer(d)
	defer srv.Close()
	cfg := fastChains(t.TempDir())
	cfg.Forward, cfg.ForwardQueue = srv.URL, 100
	c, url := start(t, cfg)
	payloads, total, err := load.Generate(load.Fleet{Seed: 12, Users: 5, SessionsPerUser: 2, PromptsPerSession: 3, BatchSize: 25})
	require.NoError(t, err)
	require.Greater(t, total, 300)
	res, err := load.Send(context.Background(), load.Options{URL: url, Workers: 2}, payloads)
	require.NoError(t, err)
	require.Equal(t, int64(total), res.Events)
	// Two more failed attempts: the second one began (and bounded the queue) after every
	// batch was stored, so what is sent after the outage is what the bound kept.
	f0 := d.failures.Load()
	require.Eventually(t, func() bool { return d.failures.Load() >= f0+2 }, 20*time.Second, 10*time.Millisecond)
	d.down.Store(false)
	require.Eventually(t, func() bool {
		evs, _ := d.got()
		return len(evs) > 0 && storedEvents(t, c) == int64(total)
	}, 30*time.Second, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	evs, _ := d.got()
	assert.LessOrEqual(t, len(evs), 100, "at most the bound is delivered after the outage")
	assert.NotEmpty(t, evs)
	_ = collector.DefaultForwardQueue
}

// setSchemaVersion creates a store in dir and gives it the schema version v, as an older
// build would have created it (versions 1 and 2 keep gzip-compressed payloads).
func setSchemaVersion(t *testing.T, dir, v string) {
	t.Helper()
	ctx := context.Background()
	c, err := collector.New(ctx, collector.Config{DataDir: dir})
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(ctx))
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db"))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, v)
	require.NoError(t, err)
}

// TestForwardSkipsUnreadable: a stored batch whose payload cannot be read (damaged on disk)
// does not stop a restart (the open chains of its events resume without them), and the
// forwarder counts it as refused and sends the batches after it.
func TestForwardSkipsUnreadable(t *testing.T) {
	d := &downstream{}
	d.down.Store(true)
	srv := httptest.NewServer(d)
	defer srv.Close()
	ctx := context.Background()
	cfg := fastChains(t.TempDir())
	cfg.Forward = srv.URL
	c, err := collector.New(ctx, cfg)
	require.NoError(t, err)
	now := time.Now()
	for _, s := range []string{"a", "b", "c"} {
		require.NoError(t, c.ConsumeLogs(ctx, prompts(now, s+"1", s+"2")))
	}
	require.NoError(t, c.Shutdown(ctx))
	db, err := sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "cowork.db"))
	require.NoError(t, err)
	// The second batch: an S2 stream header, then garbage.
	_, err = db.Exec(`UPDATE batches SET payload = x'ff06000053327354774f' || x'00ff0000deadbeef' WHERE id = (SELECT min(id) + 1 FROM batches)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	d.down.Store(false)
	c, _ = start(t, cfg)
	require.Eventually(t, func() bool { evs, _ := d.got(); return len(evs) == 4 }, 10*time.Second, 10*time.Millisecond)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	w := httptest.NewRecorder()
	c.Handler().ServeHTTP(w, req)
	assert.Contains(t, w.Body.String(), "cowork_collector_forward_rejected_batches_total 1\n")
	time.Sleep(200 * time.Millisecond)
	evs, _ := d.got()
	var sessions []string
	for _, ev := range evs {
		sessions = append(sessions, ev.EventRecord().SessionID)
	}
	assert.Equal(t, []string{"a1", "a2", "c1", "c2"}, sessions)
}
