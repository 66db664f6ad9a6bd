package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/internal/payload"
	"github.com/coworkgov/cowork/telemetry"
)

// collectorSchema reads the collector's DDL and schema version from its source, so that this
// test breaks when the store it reads changes shape.
func collectorSchema(t *testing.T) (ddl, version string) {
	t.Helper()
	src, err := os.ReadFile("../collector/internal/collector/schema.go")
	require.NoError(t, err, "the collector's schema is the contract this source reads")
	m := regexp.MustCompile("(?s)const schema = `(.*?)`").FindSubmatch(src)
	require.NotNil(t, m, "const schema not found")
	v := regexp.MustCompile(`const schemaVersion = "([^"]*)"`).FindSubmatch(src)
	require.NotNil(t, v, "const schemaVersion not found")
	return string(m[1]), string(v[1])
}

// writeStore builds a collector store in dir the way the collector fills it: each corpus
// request redacted (strict) and stored as a batch of OTLP/protobuf (in each form of
// internal/payload in turn), one row per event, and the chains folded from the redacted
// events with their JSON. It returns the redacted events.
func writeStore(t *testing.T, dir string) []telemetry.Event {
	t.Helper()
	ddl, version := collectorSchema(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, storeFile))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(ddl)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`, version)
	require.NoError(t, err)

	red, err := newRedactor("strict")
	require.NoError(t, err)
	var events []telemetry.Event
	for bi, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		l, err := telemetry.DecodeLogsProto(f.Data)
		require.NoError(t, err)
		red.apply(l)
		// Each form a collector store may hold (S2 in stores of its schema version, gzip and
		// raw in older ones), in turn.
		p, err := payload.Encode(l, []payload.Form{payload.S2, payload.Gzip, payload.Raw}[bi%3])
		require.NoError(t, err)
		evs := l.Events()
		received := evs[len(evs)-1].EventRecord().Time().Add(time.Second)
		var lo, hi string // the range of the events' times, as the collector keeps it
		for _, ev := range evs {
			tm := ev.EventRecord().Time().UTC().Format(storeTime)
			if lo == "" || tm < lo {
				lo = tm
			}
			hi = max(hi, tm)
		}
		res, err := db.Exec(`INSERT INTO batches (received_at, events, min_time, max_time, payload) VALUES (?, ?, ?, ?, ?)`,
			received.Format(storeTime), len(evs), lo, hi, p)
		require.NoError(t, err)
		batch, err := res.LastInsertId()
		require.NoError(t, err)
		for i, ev := range evs {
			r := ev.EventRecord()
			_, err := db.Exec(`INSERT INTO events (batch_id, idx, session_id, prompt_id, name, seq, time_unix_nano, chash, ckey, time, account_uuid, email, attributes)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')`, batch, i, r.SessionID, r.PromptID, ev.Name(), r.Sequence,
				int64(r.TimeUnixNano), bi*1000+i, bi*1000+i, r.Time().UTC().Format(storeTime), r.AccountUUID, r.UserEmail)
			require.NoError(t, err)
		}
		events = append(events, evs...)
	}
	for _, c := range correlate.Fold(events) {
		js, err := json.Marshal(c)
		require.NoError(t, err)
		_, err = db.Exec(`INSERT INTO chains (id, session_id, prompt_id, parent_prompt_id, account_uuid, account_id, email, product,
			started_at, ended_at, complete, version, event_count, cost_usd, input_tokens, output_tokens, api_requests, api_errors,
			tool_calls, rejected, json, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.SessionID, c.PromptID, c.ParentPromptID, c.User.AccountUUID, c.User.AccountID, c.User.Email, c.Product,
			c.StartedAt.UTC().Format(storeTime), c.EndedAt.UTC().Format(storeTime), c.Complete, c.Version, c.EventCount,
			c.Totals.CostUSD, c.Totals.InputTokens, c.Totals.OutputTokens, c.Totals.APIRequests, c.Totals.APIErrors,
			c.Totals.ToolCalls, c.Totals.Rejected, string(js), testNow.Format(storeTime))
		require.NoError(t, err)
	}
	// sessions is a view over chains in the collector's schema: nothing to write.
	return events
}

// TestStoreSource reads a collector store and gets the report the same events give in
// memory.
func TestStoreSource(t *testing.T) {
	dir := t.TempDir()
	events := writeStore(t, dir)
	ctx := context.Background()
	src, err := openSource(ctx, dir, nil)
	require.NoError(t, err)
	defer src.Close()
	st, ok := src.(*store)
	require.True(t, ok, "a directory with cowork.db is read as the collector's store")

	snap := loadPolicy(t)
	for _, since := range []time.Time{{}, time.Date(2026, 11, 24, 10, 8, 15, 0, time.UTC)} {
		got, err := build(ctx, src, options{since: since, now: testNow, snap: snap})
		require.NoError(t, err)
		want, err := build(ctx, newMemory("memory", events, 0), options{since: since, now: testNow, snap: snap})
		require.NoError(t, err)
		assert.Equal(t, want.Totals, got.Totals, since)
		assert.Equal(t, want.Users, got.Users)
		assert.Equal(t, want.Groups, got.Groups)
		assert.Equal(t, want.Models, got.Models)
		assert.Equal(t, want.Days, got.Days)
		assert.Equal(t, want.Tools, got.Tools)
		assert.Equal(t, want.Rejected, got.Rejected)
		assert.Equal(t, want.APIErrors, got.APIErrors)
		assert.Equal(t, want.Files, got.Files)
		assert.Equal(t, want.Drift, got.Drift)
	}

	ret, err := st.Retained(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(events), ret.Events)
	assert.Equal(t, 14, ret.Chains, "7 prompts and 7 session preambles")
	assert.Equal(t, 7, ret.Sessions)
	assert.Equal(t, time.Date(2026, 11, 24, 10, 8, 3, 256e6, time.UTC), ret.Oldest)
	assert.Positive(t, ret.Bytes)

	// Read-only: the store refuses writes through this connection.
	_, err = st.db.Exec(`DELETE FROM events`)
	assert.Error(t, err)

	// A store of a collector before December 2026: no times on batches, events indexed by
	// time. The same range, from the events.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, storeFile))
	require.NoError(t, err)
	_, err = db.Exec(`DROP INDEX IF EXISTS batches_time; ALTER TABLE batches DROP COLUMN min_time; ALTER TABLE batches DROP COLUMN max_time;
		CREATE INDEX events_time ON events (time)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	old, err := openStore(ctx, filepath.Join(dir, storeFile))
	require.NoError(t, err)
	defer old.Close()
	oldRet, err := old.Retained(ctx)
	require.NoError(t, err)
	assert.Equal(t, ret.Oldest, oldRet.Oldest)
	assert.Equal(t, ret.Newest, oldRet.Newest)
	assert.False(t, ret.Newest.IsZero())
}

func TestStoreVersion(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir)
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"1", true}, {"2", true}, {"3", true}, {"4", true}, {"99", false}} {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, storeFile))
		require.NoError(t, err)
		_, err = db.Exec(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, tc.version)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		st, err := openStore(context.Background(), filepath.Join(dir, storeFile))
		if !tc.ok {
			require.ErrorIs(t, err, errSchema, tc.version)
			continue
		}
		require.NoError(t, err, tc.version)
		require.NoError(t, st.Close())
	}

	empty := filepath.Join(t.TempDir(), storeFile)
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err := openStore(context.Background(), empty)
	require.ErrorIs(t, err, errSchema)
}
