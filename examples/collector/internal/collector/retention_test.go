package collector_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
	"github.com/coworkgov/cowork/telemetry"
)

func TestParseRetention(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want collector.Retention
	}{
		{"", collector.Retention{}},
		{"events=30d,chains=400d,metrics=90d", collector.Retention{Events: 30 * 24 * time.Hour, Chains: 400 * 24 * time.Hour, Metrics: 90 * 24 * time.Hour}},
		{" events=12h , metrics=1.5d", collector.Retention{Events: 12 * time.Hour, Metrics: 36 * time.Hour}},
		{"chains=90m", collector.Retention{Chains: 90 * time.Minute}},
	} {
		got, err := collector.ParseRetention(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"logs=30d", "events", "events=", "events=-3d", "events=0d", "events=soon"} {
		_, err := collector.ParseRetention(bad)
		require.ErrorIs(t, err, collector.ErrRetention, bad)
	}
}

// prompts builds one user prompt per session, at t.
func prompts(t time.Time, sessions ...string) *telemetry.Logs {
	var evs []telemetry.Event
	for _, s := range sessions {
		ev := telemetry.New(telemetry.NameUserPrompt)
		telemetry.Set(ev, telemetry.KeySessionID, telemetry.String(s))
		telemetry.Set(ev, telemetry.KeyPromptID, telemetry.String("p-"+s))
		telemetry.Set(ev, telemetry.KeyTimestamp, telemetry.String(t.UTC().Format(time.RFC3339Nano)))
		telemetry.Set(ev, telemetry.KeySequence, telemetry.Int(1))
		ev.EventRecord().TimeUnixNano = uint64(t.UnixNano())
		evs = append(evs, ev)
	}
	return telemetry.NewLogs(evs...)
}

func points(ts ...time.Time) *telemetry.Metrics {
	m := telemetry.Metric{Name: "claude_code.cost.usage", Type: telemetry.MetricTypeSum}
	for _, t := range ts {
		m.Points = append(m.Points, telemetry.Point{TimeUnixNano: uint64(t.UnixNano()), Value: 1})
	}
	return &telemetry.Metrics{ResourceMetrics: []telemetry.ResourceMetrics{{ScopeMetrics: []telemetry.ScopeMetrics{{Metrics: []telemetry.Metric{m}}}}}}
}

// TestRetention stores events, chains and metric points of several ages, then runs retention
// (through the admin endpoint) while other events keep arriving: the expired rows disappear,
// the others, and everything ingested meanwhile, stay; then the clock moves on and the rest
// expires, batches included, and the file's pages are freed.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	cfg := fastChains(dir)
	cfg.Token = adminTok
	cfg.Tokens = []collector.Token{{Role: collector.RoleRead, Value: readTok}}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var skew atomic.Int64
	cfg.Now = func() time.Time { return now.Add(time.Duration(skew.Load())) }
	cfg.Retention = collector.Retention{Events: 30 * 24 * time.Hour, Chains: 400 * 24 * time.Hour, Metrics: 90 * 24 * time.Hour}
	cfg.RetentionEvery = time.Hour
	c, url := start(t, cfg)
	ctx := context.Background()

	require.NoError(t, c.ConsumeLogs(ctx, prompts(now.Add(-500*24*time.Hour), "ancient")))
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now.Add(-40*24*time.Hour), "old")))
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now.Add(-time.Hour), "new")))
	require.NoError(t, c.ConsumeMetrics(ctx, points(now.Add(-100*24*time.Hour), now.Add(-89*24*time.Hour), now.Add(-time.Minute))))
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	count := func(q string, args ...any) int {
		var n int
		require.NoError(t, db.QueryRow(q, args...).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool {
		return count(`SELECT count(*) FROM chains`) == 3 && count(`SELECT count(*) FROM open_chains`) == 0
	}, 20*time.Second, 20*time.Millisecond)
	var mode int
	require.NoError(t, db.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode))
	assert.Equal(t, 2, mode, "new stores use incremental auto-vacuum")
	var version string
	require.NoError(t, db.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&version))
	assert.Equal(t, "4", version)

	// Ingest keeps going, with current events, while retention runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 40 {
			select {
			case <-stop:
				return
			default:
			}
			var ss []string
			for j := range 50 {
				ss = append(ss, fmt.Sprintf("live-%d-%d", i, j))
			}
			if err := c.ConsumeLogs(ctx, prompts(now.Add(-time.Minute), ss...)); err != nil {
				t.Error(err)
				return
			}
			sent.Add(50)
		}
	}()
	run := func(tok string) (int, collector.RetentionResult) {
		req, err := http.NewRequest(http.MethodPost, url+"/api/retention/run", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var res collector.RetentionResult
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
		}
		return resp.StatusCode, res
	}
	code, _ := run(readTok)
	assert.Equal(t, http.StatusForbidden, code, "retention is for admins")
	var total collector.RetentionResult
	for range 5 {
		code, res := run(adminTok)
		require.Equal(t, http.StatusOK, code)
		total.Events += res.Events
		total.Chains += res.Chains
		total.MetricPoints += res.MetricPoints
		total.Batches += res.Batches
	}
	// Enough live events that deleting them later frees whole pages (16 KiB each): with only
	// the first iteration's 50, under -race, they could all fit in pages that stay.
	require.Eventually(t, func() bool { return sent.Load() >= 400 }, 60*time.Second, 10*time.Millisecond)
	close(stop)
	wg.Wait()

	// The loop at start may have run after the first ingests; count by what is left.
	assert.Equal(t, 0, count(`SELECT count(*) FROM events WHERE session_id IN ('ancient', 'old')`))
	assert.Equal(t, 1, count(`SELECT count(*) FROM events WHERE session_id = 'new'`))
	assert.Equal(t, int(sent.Load()), count(`SELECT count(*) FROM events WHERE session_id LIKE 'live-%'`), "events ingested during retention stay")
	assert.Equal(t, 0, count(`SELECT count(*) FROM chains WHERE session_id = 'ancient'`))
	assert.Equal(t, 1, count(`SELECT count(*) FROM chains WHERE session_id = 'old'`), "chains outlive their events")
	assert.Equal(t, 1, count(`SELECT count(*) FROM chains WHERE session_id = 'new'`))
	assert.Equal(t, 2, count(`SELECT count(*) FROM metric_points`))
	assert.Equal(t, 3, count(`SELECT count(*) FROM batches WHERE events = 1`), "batches expire by time received")
	assert.Zero(t, total.Batches)

	// Every live chain is stored before the clock moves: a chain written during the last run
	// would take the pages its deletions free, and none would be left to return.
	require.Eventually(t, func() bool {
		return count(`SELECT count(*) FROM chains WHERE session_id LIKE 'live-%'`) == int(sent.Load()) &&
			count(`SELECT count(*) FROM open_chains`) == 0
	}, 60*time.Second, 20*time.Millisecond)

	// 31 days later everything but the chains has expired; its space is freed.
	maxBatch := count(`SELECT max(id) FROM batches`)
	skew.Store(int64(31 * 24 * time.Hour))
	code, res := run(adminTok)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, int64(1+sent.Load()), res.Events)
	assert.Positive(t, res.Batches)
	assert.Positive(t, res.PagesFreed)
	assert.Equal(t, 0, count(`SELECT count(*) FROM events`))
	assert.Equal(t, 1, count(`SELECT count(*) FROM batches`), "the newest batch stays: ids must never go back")
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now, "after")))
	assert.Greater(t, count(`SELECT max(id) FROM batches`), maxBatch, "batch ids go on after retention")
	assert.Equal(t, 1, count(`SELECT count(*) FROM metric_points`))
	assert.Positive(t, count(`SELECT count(*) FROM chains WHERE session_id = 'old'`))
}

// TestRetentionByBatchTimes: retention finds events by their batches' times, so it deletes
// exactly the expired events of a batch that mixes times (and never those without a time);
// a batch received before the cut whose events are not all expired keeps its row, without
// its payload, until they are; and the batch's times follow what is left.
func TestRetentionByBatchTimes(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var skew atomic.Int64
	cfg := fastChains(dir)
	cfg.Now = func() time.Time { return now.Add(time.Duration(skew.Load())) }
	cfg.RetentionEvery = time.Hour
	c, err := collector.New(context.Background(), cfg)
	require.NoError(t, err)
	defer c.Shutdown(context.Background())
	ctx := context.Background()
	mixed := prompts(now.Add(-40*24*time.Hour), "old")
	future := prompts(now.Add(10*24*time.Hour), "future").Events()[0]
	untimed := prompts(now, "untimed").Events()[0]
	untimed.EventRecord().TimeUnixNano = 0
	telemetry.Delete(untimed, telemetry.KeyTimestamp)
	mixed = telemetry.NewLogs(append(mixed.Events(), future, untimed)...)
	require.NoError(t, c.ConsumeLogs(ctx, mixed))
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now, "later")))

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	sessions := func() []string {
		t.Helper()
		return collector.QueryStrings(t, db, `SELECT session_id FROM events ORDER BY session_id`)
	}
	first := func() (minTime string, payload int) {
		t.Helper()
		err := db.QueryRow(`SELECT min_time, length(payload) FROM batches WHERE id = (SELECT min(id) FROM batches)`).Scan(&minTime, &payload)
		if errors.Is(err, sql.ErrNoRows) {
			return "gone", 0
		}
		require.NoError(t, err)
		return minTime, payload
	}
	futureTime := now.Add(10 * 24 * time.Hour).Format("2006-01-02T15:04:05.000Z")

	res, err := c.RunRetention(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Events)
	assert.Equal(t, []string{"future", "later", "untimed"}, sessions())
	mt, size := first()
	assert.Equal(t, futureTime, mt, "the batch's times follow its events left")
	assert.Positive(t, size)

	skew.Store(int64(31 * 24 * time.Hour)) // the batch was received before the cut; "future" is not expired
	res, err = c.RunRetention(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Events, "later")
	assert.Equal(t, int64(1), res.Batches, "the first batch's payload")
	assert.Equal(t, []string{"future", "untimed"}, sessions())
	mt, size = first()
	assert.Equal(t, futureTime, mt)
	assert.Zero(t, size, "its payload is gone")

	skew.Store(int64(41 * 24 * time.Hour))
	res, err = c.RunRetention(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Events)
	assert.Equal(t, int64(1), res.Batches)
	assert.Equal(t, []string{"untimed"}, sessions(), "events without a time are never expired by time")
	mt, _ = first()
	assert.Equal(t, "", mt, "the newest batch stays")
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM batches`).Scan(&n))
	assert.Equal(t, 1, n)
}

// TestSchemaVersions: stores of version 1 (created before incremental auto-vacuum) keep
// working and retention runs on them; unknown versions are refused.
func TestSchemaVersions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	setVersion := func(v string) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db"))
		require.NoError(t, err)
		defer db.Close()
		_, err = db.Exec(`PRAGMA auto_vacuum = NONE; VACUUM; UPDATE meta SET value = ? WHERE key = 'schema_version'`, v)
		require.NoError(t, err)
	}
	c, err := collector.New(ctx, collector.Config{DataDir: dir})
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(ctx))

	setVersion("1")
	now := time.Now()
	c, err = collector.New(ctx, collector.Config{DataDir: dir, Now: func() time.Time { return now }})
	require.NoError(t, err)
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now.Add(-40*24*time.Hour), "old")))
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now.Add(-time.Hour), "new")))
	res, err := c.RunRetention(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Events)
	assert.Zero(t, res.PagesFreed, "no auto-vacuum on a version 1 store")
	assert.Equal(t, int64(1), storedEvents(t, c))
	require.NoError(t, c.Shutdown(ctx))

	setVersion("9")
	_, err = collector.New(ctx, collector.Config{DataDir: dir})
	require.ErrorIs(t, err, collector.ErrSchema)
}
