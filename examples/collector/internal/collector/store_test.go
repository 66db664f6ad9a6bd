package collector

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/payload"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

func testRow(idx int, session, prompt string, seq int64) eventRow {
	return eventRow{idx: idx, session: session, prompt: prompt, name: "tool_result", seq: seq, tun: 1_000 + seq,
		time: "2026-11-24T09:00:00.000Z", attributes: "{}"}
}

func writeRows(t *testing.T, s *store, rows []eventRow) logsResult {
	t.Helper()
	w := &logsWrite{payload: []byte{}, rows: rows, done: make(chan logsResult, 1)}
	ok, err := s.send(context.Background(), w, 0)
	require.NoError(t, err)
	require.True(t, ok)
	res := <-w.done
	require.NoError(t, res.err)
	return res
}

// TestStoreFresh checks which rows of a request the store reports as new: a duplicate inside
// one request and the rows of a partly retried request are not, the others are, in any
// position of a multi-row INSERT.
func TestStoreFresh(t *testing.T) {
	s, err := openStore(t.TempDir(), storeOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer s.Close()

	var first []eventRow
	for i := range insertChunk + 10 {
		first = append(first, testRow(i, "s1", "p1", int64(i)))
	}
	first = append(first, testRow(len(first), "s1", "p1", 3)) // a copy of row 3 in the same request
	res := writeRows(t, s, first)
	for i, f := range res.fresh {
		assert.Equal(t, i < insertChunk+10, f, "row %d", i)
	}

	// A retry of part of the first request with new events around it.
	second := []eventRow{testRow(0, "s1", "p1", 100), testRow(1, "s1", "p1", 5), testRow(2, "s2", "p1", 5), testRow(3, "s1", "p1", insertChunk+9)}
	res = writeRows(t, s, second)
	assert.Equal(t, []bool{true, false, true, false}, res.fresh)

	// Everything again: nothing is new, and no second batch is kept.
	res = writeRows(t, s, second)
	assert.Equal(t, []bool{false, false, false, false}, res.fresh)
	assert.Equal(t, int64(insertChunk+10+2), s.eventsStored.Load())
	assert.Equal(t, int64(1+2+4), s.eventsDuplicate.Load())
	var batches int
	require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM batches`).Scan(&batches))
	assert.Equal(t, 2, batches)
}

// TestPayloadForms: a new store keeps its payloads S2-compressed (schema 4), one created with
// raw payloads as OTLP protobuf (schema 3), and stores of schema 1 and 2 gzip-compressed,
// whatever the option says when they are reopened; each form reads back as the request.
func TestPayloadForms(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	version := func(s *store) string {
		var v string
		require.NoError(t, s.w.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v))
		return v
	}
	f := telemetrytest.NewFactory(1)
	l := telemetry.NewLogs(f.UserPrompt(), f.APIRequest(), f.ToolResult())
	want, err := telemetry.EncodeLogsProto(l)
	require.NoError(t, err)
	for _, c := range []struct {
		name    string
		raw     bool
		set     string // the version an older build gave the store
		version string
		form    payload.Form
	}{
		{"new", false, "", "4", payload.S2},
		{"raw", true, "", "3", payload.Raw},
		{"schema 2", false, "2", "2", payload.Gzip},
		{"schema 1", false, "1", "1", payload.Gzip},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := openStore(dir, storeOptions{rawPayloads: c.raw}, log)
			require.NoError(t, err)
			if c.set != "" {
				_, err := s.w.Exec(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, c.set)
				require.NoError(t, err)
			}
			require.NoError(t, s.Close())
			for _, opt := range []bool{c.raw, !c.raw} {
				s, err := openStore(dir, storeOptions{rawPayloads: opt}, log)
				require.NoError(t, err)
				assert.Equal(t, c.form, s.payloads)
				assert.Equal(t, c.version, version(s))
				p, err := encodePayload(l, s.payloads)
				require.NoError(t, err)
				assert.Equal(t, c.form, payload.FormOf(p))
				got, err := decodePayload(p)
				require.NoError(t, err)
				b, err := telemetry.EncodeLogsProto(got)
				require.NoError(t, err)
				assert.Equal(t, want, b)
				require.NoError(t, s.Close())
			}
		})
	}
	empty, err := decodePayload(nil)
	require.NoError(t, err)
	assert.Zero(t, empty.Len())
	_, err = decodePayload([]byte("\x1f\x8bnot gzip"))
	assert.ErrorContains(t, err, "collector: stored payload")
}

// TestStoreOpenChains follows open_chains, which the writer keeps in memory and writes to
// when a chain opens or shuts, through a chain's life: opened by its events, kept open while the stored
// version has fewer events than arrived, shut by a full version, reopened by a late event
// (reported, with every stored event counted), and the same after the store is reopened.
func TestStoreOpenChains(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	chain := func(s *store, session, prompt string, events int) {
		t.Helper()
		c := &correlate.Chain{ID: correlate.ChainID(session, prompt), SessionID: session, PromptID: prompt, Version: 1, EventCount: events}
		ok, err := s.send(context.Background(), newChainWrite(c, []byte(`{"version":1}`)), 0)
		require.NoError(t, err)
		require.True(t, ok)
		writeRows(t, s, nil) // a request commits after the chains queued before it
	}
	a, b := chainKey{"s1", "p1"}, chainKey{"s1", "p2"}

	res := writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 1), testRow(1, "s1", "p1", 2), testRow(2, "s1", "p2", 3)})
	assert.Empty(t, res.reopen)
	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 4)})
	assert.Equal(t, map[chainKey]int64{a: 3, b: 1}, openChains(t, s))

	chain(s, "s1", "p1", 2) // a version older than the events stored: a stays open
	chain(s, "s1", "p2", 1)
	assert.Equal(t, map[chainKey]int64{a: 3}, openChains(t, s))
	chain(s, "s1", "p1", 3)
	assert.Empty(t, openChains(t, s))

	res = writeRows(t, s, []eventRow{testRow(0, "s1", "p2", 9)}) // late, after b was stored
	assert.Equal(t, []chainKey{b}, res.reopen)
	assert.Equal(t, map[chainKey]int64{b: 2}, openChains(t, s))
	writeRows(t, s, []eventRow{testRow(0, "s1", "p2", 10)})
	assert.Equal(t, map[chainKey]int64{b: 3}, openChains(t, s))

	require.NoError(t, s.Close())
	s, err = openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, map[chainKey]int64{b: 3}, openCounts(s), "loaded on open")
	writeRows(t, s, []eventRow{testRow(0, "s1", "p2", 11)})
	assert.Equal(t, map[chainKey]int64{b: 4}, openChains(t, s))
	chain(s, "s1", "p2", 4)
	assert.Empty(t, openChains(t, s))
	assert.Empty(t, openCounts(s))
}

// TestStoreChainVersions: the chain upsert keeps the fullest version and numbers versions on
// from the stored one (the assembler counts from 1 again after a restart), in the column and
// the JSON alike, in new stores and in stores whose chains table has an older layout (a
// rowid table with a unique id, or WITHOUT ROWID keyed by id), which gain the chains_key
// index when opened.
func TestStoreChainVersions(t *testing.T) {
	const columns = `session_id TEXT NOT NULL, prompt_id TEXT NOT NULL, parent_prompt_id TEXT NOT NULL,
		account_uuid TEXT NOT NULL, account_id TEXT NOT NULL, email TEXT NOT NULL, product TEXT NOT NULL,
		started_at TEXT NOT NULL, ended_at TEXT NOT NULL, complete INTEGER NOT NULL, version INTEGER NOT NULL,
		event_count INTEGER NOT NULL, cost_usd REAL NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
		api_requests INTEGER NOT NULL, api_errors INTEGER NOT NULL, tool_calls INTEGER NOT NULL, rejected INTEGER NOT NULL,
		json TEXT NOT NULL, stored_at TEXT NOT NULL`
	for _, tc := range []struct{ name, ddl string }{
		{"new", ""},
		{"rowid with unique id", `CREATE TABLE chains (id TEXT NOT NULL UNIQUE, ` + columns + `); CREATE INDEX chains_prompt ON chains (prompt_id);`},
		{"without rowid", `CREATE TABLE chains (id TEXT PRIMARY KEY, ` + columns + `) WITHOUT ROWID; CREATE INDEX chains_prompt ON chains (prompt_id);`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.ddl != "" {
				db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db"))
				require.NoError(t, err)
				_, err = db.Exec(tc.ddl)
				require.NoError(t, err)
				require.NoError(t, db.Close())
			}
			s, err := openStore(dir, storeOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			defer s.Close()
			put := func(version, events int) {
				t.Helper()
				c := &correlate.Chain{ID: correlate.ChainID("s1", "p1"), SessionID: "s1", PromptID: "p1", Version: version, EventCount: events}
				js, err := json.Marshal(c)
				require.NoError(t, err)
				ok, err := s.send(context.Background(), newChainWrite(c, js), 0)
				require.NoError(t, err)
				require.True(t, ok)
				writeRows(t, s, nil) // commits after the chain
			}
			stored := func() (version, events, jsonVersion int) {
				t.Helper()
				var js string
				require.NoError(t, s.r.QueryRow(`SELECT version, event_count, json FROM chains WHERE prompt_id = 'p1' AND session_id = 's1'`).Scan(&version, &events, &js))
				var c correlate.Chain
				require.NoError(t, json.Unmarshal([]byte(js), &c))
				return version, events, c.Version
			}
			check := func(version, events int) {
				t.Helper()
				v, e, jv := stored()
				assert.Equal(t, []int{version, events, version}, []int{v, e, jv}, "version, events, JSON version")
			}
			put(1, 3)
			check(1, 3)
			put(1, 3) // the same chain rebuilt after a restart: a new version
			check(2, 3)
			put(1, 2) // an older, partial version arriving late: kept out
			check(2, 3)
			put(5, 4)
			check(5, 4)
			put(2, 6)
			check(6, 6)
			var n int
			require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM chains`).Scan(&n))
			assert.Equal(t, 1, n)
			require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'chains_prompt'`).Scan(&n))
			assert.Zero(t, n, "chains_key covers the old prompt index")
		})
	}
}

// TestHashesAreFNV1a: ckey and chash are stored, so their values must stay hash/fnv's
// FNV-1a whatever computes them.
func TestHashesAreFNV1a(t *testing.T) {
	for _, k := range []chainKey{{"", ""}, {"s1", "p1"}, {"ad0823ce-2503-46f9-825a-f7d6764ca89f", "79d0fb8f-1ee9-495f-afbf-495b966923d8"}, {"é\x00", "\xff"}} {
		h := fnv.New64a()
		_, _ = h.Write([]byte(k.session))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(k.prompt))
		assert.Equal(t, int64(h.Sum64()), chainHash(k.session, k.prompt), "%q", k)
		h.Reset()
		_, _ = h.Write([]byte(k.session))
		assert.Equal(t, h.Sum64(), fnv1a(fnvOffset, []byte(k.session)))
	}
}

// TestStoreOpenChainsRollback: a transaction that fails after it changed the writer's mirror
// of open_chains leaves no trace of those changes; the next transaction starts from the table.
func TestStoreOpenChainsRollback(t *testing.T) {
	s, err := openStore(t.TempDir(), storeOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer s.Close()
	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 1)})

	// One transaction of two requests, as group commit makes them: the first opens b and adds
	// to a, the second fails (a request without a payload breaks a NOT NULL constraint).
	first := &logsWrite{payload: []byte{}, rows: []eventRow{testRow(0, "s1", "p1", 2), testRow(1, "s2", "p1", 1)}, done: make(chan logsResult, 1)}
	second := &logsWrite{payload: nil, rows: []eventRow{testRow(0, "s9", "p9", 1)}, done: make(chan logsResult, 1)}
	s.commit([]any{first, second}) // the writer is idle: nothing else is queued
	require.Error(t, (<-first.done).err)
	require.ErrorContains(t, (<-second.done).err, "NOT NULL")

	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 3)})
	// Events 1 and 3 of s1/p1; event 2 and all of s2/p1 were rolled back.
	want := map[chainKey]int64{{"s1", "p1"}: 2}
	assert.Equal(t, want, openChains(t, s))
	assert.Equal(t, want, openCounts(s))
}

// openCounts is the writer's mirror of open_chains, its event counts.
func openCounts(s *store) map[chainKey]int64 {
	got := map[chainKey]int64{}
	for k, oc := range s.open {
		got[k] = oc.n
	}
	return got
}

// openChains reads the open_chains table, each chain with its stored events counted (the
// table keeps the count a chain opened with: the writer counts in memory; see openCounts),
// and checks that the writer's mirror holds the same chains and counts.
func openChains(t *testing.T, s *store) map[chainKey]int64 {
	t.Helper()
	got := chainValues(t, s, `SELECT session_id, prompt_id,
		(SELECT count(*) FROM events e WHERE e.ckey = o.ckey AND e.session_id = o.session_id AND e.prompt_id = o.prompt_id)
		FROM open_chains o`)
	writeRows(t, s, nil) // the writer is idle after a commit: its mirror can be read
	assert.Equal(t, got, openCounts(s), "the writer's mirror")
	return got
}

// chainValues reads rows of (session_id, prompt_id, a number) by chain, one row a chain.
func chainValues(t *testing.T, s *store, query string) map[chainKey]int64 {
	t.Helper()
	got := map[chainKey]int64{}
	rows, err := s.r.Query(query)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var k chainKey
		var v int64
		require.NoError(t, rows.Scan(&k.session, &k.prompt, &v))
		_, dup := got[k]
		require.False(t, dup, "one row for %v", k)
		got[k] = v
	}
	require.NoError(t, rows.Err())
	return got
}

// TestStorePragmas checks the settings a new store is created with, as SQLite reports them:
// the driver runs its _pragma list in its own order, which once created every store with
// 4 KiB pages whatever the list said.
func TestStorePragmas(t *testing.T) {
	s, err := openStore(t.TempDir(), storeOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer s.Close()
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"page_size", "16384"},
		{"journal_mode", "wal"},
		{"auto_vacuum", "2"}, // incremental
		{"cache_size", "1024"},
		{"wal_autocheckpoint", "0"},
		{"synchronous", "1"}, // NORMAL
	} {
		var got string
		require.NoError(t, s.w.QueryRow("PRAGMA "+c.pragma).Scan(&got), c.pragma)
		assert.Equal(t, c.want, got, c.pragma)
	}
}

// TestStoreWALRewinds writes without pause, so that the writer always commits while the
// background checkpoint runs: with the writer copying the tail the log rewinds and stays
// short; without it (the tail threshold out of reach) it grows by what was written, less
// what the rare pass that ends between two commits lets it rewind. Both sides write the same
// 36 MB, however long that takes (under -race, or beside other work, much longer than here). The store syncs nothing: on a disk slower to sync than the writer
// is to write (CI's, once: two tails in a second) no checkpointing keeps up, and that is not
// what this tests.
func TestStoreWALRewinds(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 72 MB")
	}
	rewinding, rewinds := walPeak(t, 32)
	growing, none := walPeak(t, 1<<40)
	t.Logf("WAL file peak: %d MB rewinding (%d tails), %d MB without", rewinding>>20, rewinds, growing>>20)
	assert.Positive(t, rewinds)
	assert.Zero(t, none)
	assert.Less(t, rewinding, int64(12<<20), "a third of what was written")
	// Alone, the store without tails grows to 48-52 MB against 4-5 MB; beside other packages'
	// tests (CI's), its writer pauses between commits often enough to rewind by itself down to
	// 14 MB, against 8: the absolute bound above is what holds everywhere.
	assert.Less(t, rewinding, growing)
}

// walPeak writes 36 MB of events into a new store whose checkpointer asks the writer for the
// tail of a log past reset frames, and reports the WAL file's peak size and the number of
// tails the writer copied.
func walPeak(t *testing.T, reset int64) (peak, tails int64) {
	dir := t.TempDir()
	wt := walTuning{every: 10 * time.Millisecond, tail: 16, reset: reset, restartMax: 1 << 40}
	s, err := openStore(dir, storeOptions{wal: wt, noSync: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer s.Close()
	attrs := strings.Repeat("x", 2000)
	seq := int64(0)
	// 360 requests of 50 events of 2 KB, sent 8 at a time so that the writer always has the
	// next one queued: a writer pausing between commits lets the log rewind by itself.
	for range 45 {
		var ws []*logsWrite
		for range 8 {
			rows := make([]eventRow, 50)
			for i := range rows {
				seq++
				rows[i] = testRow(i, "s", fmt.Sprint("p", seq/100), seq)
				rows[i].attributes = attrs
			}
			w := &logsWrite{payload: []byte{}, rows: rows, done: make(chan logsResult, 1)}
			ok, err := s.send(context.Background(), w, 0)
			require.NoError(t, err)
			require.True(t, ok)
			ws = append(ws, w)
		}
		for _, w := range ws {
			require.NoError(t, (<-w.done).err)
		}
		fi, err := os.Stat(filepath.Join(dir, "cowork.db-wal"))
		require.NoError(t, err)
		peak = max(peak, fi.Size())
	}
	return peak, s.walTails.Load()
}

// TestStoreChainNumbers: events are keyed by their chain's number, which follows arrival
// (a later request's new chains number higher, a request's new chains in order), stays the
// chain's across requests, its stored row, a late event and a restart; chains stored by
// builds before numbers (ckey 0: the hash) keep working, duplicates included.
func TestStoreChainNumbers(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	ckeys := func(s *store) map[chainKey]int64 {
		t.Helper()
		return chainValues(t, s, `SELECT DISTINCT session_id, prompt_id, ckey FROM events`)
	}
	a, b, c := chainKey{"s1", "p1"}, chainKey{"s1", "p2"}, chainKey{"s2", "p1"}
	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 1), testRow(1, "s1", "p2", 2), testRow(2, "s1", "p1", 3)})
	writeRows(t, s, []eventRow{testRow(0, "s2", "p1", 1), testRow(1, "s1", "p1", 4)})
	n := ckeys(s)
	require.Len(t, n, 3)
	assert.GreaterOrEqual(t, n[a], int64(1)<<chainBits)
	assert.Equal(t, n[a]+1, n[b], "the next new chain of the same request")
	assert.Greater(t, n[c], n[b], "a later request's")
	var open int64
	require.NoError(t, s.r.QueryRow(`SELECT ckey FROM open_chains WHERE session_id = 's2' AND prompt_id = 'p1'`).Scan(&open))
	assert.Equal(t, n[c], open)

	// a is stored: its row keeps the number, and a late event of a is stored under it.
	ch := &correlate.Chain{ID: correlate.ChainID("s1", "p1"), SessionID: "s1", PromptID: "p1", Version: 1, EventCount: 3}
	ok, err := s.send(context.Background(), newChainWrite(ch, []byte(`{"version":1}`)), 0)
	require.NoError(t, err)
	require.True(t, ok)
	writeRows(t, s, nil)
	var stored int64
	require.NoError(t, s.r.QueryRow(`SELECT ckey FROM chains WHERE prompt_id = 'p1' AND session_id = 's1'`).Scan(&stored))
	assert.Equal(t, n[a], stored)
	// One request: a late event of a, and the first of another session's chain with a's
	// prompt id, which is new (looked up together, told apart by session).
	other := chainKey{"s9", "p1"}
	res := writeRows(t, s, []eventRow{testRow(0, "s9", "p1", 1), testRow(1, "s1", "p1", 9)})
	assert.Equal(t, []chainKey{a}, res.reopen)
	got := ckeys(s)
	assert.Greater(t, got[other], n[c], "a new chain, numbered by this request")
	delete(got, other)
	assert.Equal(t, n, got)
	assert.Equal(t, int64(4), openChains(t, s)[a], "every stored event of a counted")

	// A build before chain numbers stored s3/p1 keyed by its hash, and left it open.
	legacy := chainKey{"s3", "p1"}
	_, err = s.w.Exec(`INSERT INTO events (batch_id, idx, session_id, prompt_id, name, seq, time_unix_nano, chash, ckey, time, account_uuid, email, attributes)
		VALUES (0, 0, 's3', 'p1', 'tool_result', 1, 1001, 0, ?, '', '', '', '{}')`, chainHash("s3", "p1"))
	require.NoError(t, err)
	_, err = s.w.Exec(`INSERT INTO open_chains (session_id, prompt_id, n) VALUES ('s3', 'p1', 1)`)
	require.NoError(t, err)

	require.NoError(t, s.Close())
	s, err = openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, n[b], s.open[b].ckey, "loaded on open")
	assert.Equal(t, chainHash("s3", "p1"), s.open[legacy].ckey)
	res = writeRows(t, s, []eventRow{testRow(0, "s1", "p2", 2), testRow(1, "s3", "p1", 1), testRow(2, "s3", "p1", 2)})
	assert.Equal(t, []bool{false, false, true}, res.fresh, "retried events are duplicates, in both forms")
	assert.Equal(t, chainHash("s3", "p1"), ckeys(s)[legacy], "the old chain's new event joins its old ones")
	ck, err := s.chainNumberOf(context.Background(), legacy)
	require.NoError(t, err)
	assert.Equal(t, chainHash("s3", "p1"), ck)
	ck, err = s.chainNumberOf(context.Background(), a)
	require.NoError(t, err)
	assert.Equal(t, n[a], ck)
}

// TestStoreChainLookupKeys: the stored chains of a request's late events are found by their
// whole key, whatever the key holds (a session's preamble, with no prompt id, shared by every
// session; bytes that are not UTF-8; a NUL; what JSON escapes), and the lookup probes
// chains_key instead of reading every chain with the same prompt id.
func TestStoreChainLookupKeys(t *testing.T) {
	s, err := openStore(t.TempDir(), storeOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer s.Close()
	keys := []chainKey{{"s1", ""}, {"s2", ""}, {"s\xff", "p\xfe"}, {"s4", "p\x00x"},
		{"s6", "p\"\\/\t\x01\u2028\U0001F600"}, {"s5", "p5"}}
	var first []eventRow
	for i, k := range keys {
		first = append(first, testRow(i, k.session, k.prompt, 1))
	}
	writeRows(t, s, first)
	for i := range 20 { // other sessions' preambles, which the lookup must not read
		writeRows(t, s, []eventRow{testRow(0, fmt.Sprintf("other%d", i), "", 1)})
	}
	before := chainValues(t, s, `SELECT DISTINCT session_id, prompt_id, ckey FROM events`)
	for _, k := range keys[:len(keys)-1] { // s5/p5 stays open
		ch := &correlate.Chain{ID: correlate.ChainID(k.session, k.prompt), SessionID: k.session, PromptID: k.prompt, Version: 1, EventCount: 1}
		ok, err := s.send(context.Background(), newChainWrite(ch, []byte(`{"version":1}`)), 0)
		require.NoError(t, err)
		require.True(t, ok)
	}
	writeRows(t, s, nil)
	var late []eventRow
	for i, k := range keys {
		late = append(late, testRow(i, k.session, k.prompt, 2))
	}
	res := writeRows(t, s, late)
	assert.ElementsMatch(t, keys[:len(keys)-1], res.reopen, "every stored chain found, none taken for new")
	assert.Equal(t, before, chainValues(t, s, `SELECT DISTINCT session_id, prompt_id, ckey FROM events`),
		"late events stored under their chains' numbers")

	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+storedChainsQuery, `[["","s1"]]`)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	assert.Contains(t, strings.Join(plan, "; "), "(prompt_id=? AND session_id=?)", "one index probe a key: %q", plan)
}

// TestStoreBatchTimes: each batch records the range of its events' times ("" for events
// without one), and a store of a build that indexed every event's time instead (events_time,
// batches without times, written by that build after this one too) gets its batches' times
// filled in and loses that index when it is opened.
func TestStoreBatchTimes(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	at := func(idx int, session, time string) eventRow {
		r := testRow(idx, session, "p", 1)
		r.time = time
		return r
	}
	writeRows(t, s, []eventRow{at(0, "a", "2026-11-24T09:00:00.000Z"), at(1, "b", "2026-11-20T09:00:00.000Z"), at(2, "c", ""), at(3, "d", "2026-12-01T00:00:00.000Z")})
	writeRows(t, s, []eventRow{at(0, "e", "")})
	writeRows(t, s, []eventRow{at(0, "f", "2026-11-25T10:00:00.000Z")})
	times := func(db *sql.DB) [][2]string {
		t.Helper()
		rows, err := db.Query(`SELECT min_time, max_time FROM batches ORDER BY id`)
		require.NoError(t, err)
		defer rows.Close()
		var out [][2]string
		for rows.Next() {
			var r [2]string
			require.NoError(t, rows.Scan(&r[0], &r[1]))
			out = append(out, r)
		}
		require.NoError(t, rows.Err())
		return out
	}
	want := [][2]string{{"2026-11-20T09:00:00.000Z", "2026-12-01T00:00:00.000Z"}, {"", ""}, {"2026-11-25T10:00:00.000Z", "2026-11-25T10:00:00.000Z"}}
	assert.Equal(t, want, times(s.r))
	indexes := func(db *sql.DB) []string {
		return queryStrings(t, db, `SELECT name FROM sqlite_schema WHERE name IN ('events_time', 'batches_time', 'events_batch') ORDER BY name`)
	}
	assert.Equal(t, []string{"batches_time"}, indexes(s.r))
	require.NoError(t, s.Close())

	// The store as the older build left it: no times or event ranges on batches (columns
	// added later, after the payload), an index of event times, and a batch that build wrote
	// after this one.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db"))
	require.NoError(t, err)
	_, err = db.Exec(`DROP INDEX batches_time; ALTER TABLE batches DROP COLUMN min_time; ALTER TABLE batches DROP COLUMN max_time;
		ALTER TABLE batches DROP COLUMN first_event; ALTER TABLE batches DROP COLUMN last_event;
		CREATE INDEX events_time ON events (time);
		INSERT INTO batches (received_at, events, payload) VALUES ('2026-12-01T00:00:00.000Z', 1, x'');
		INSERT INTO events (batch_id, idx, session_id, prompt_id, name, seq, time_unix_nano, chash, ckey, time, account_uuid, email, attributes)
		VALUES (last_insert_rowid(), 0, 'g', 'p', 'tool_result', 1, 5, 0, 7, '2026-11-26T00:00:00.000Z', '', '', '{}')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err = openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	defer s.Close()
	want = append(want, [2]string{"2026-11-26T00:00:00.000Z", "2026-11-26T00:00:00.000Z"})
	assert.Equal(t, want, times(s.r))
	assert.Equal(t, []string{"batches_time"}, indexes(s.r), "events_time dropped")
	assertBatchRanges(t, s.r)
	writeRows(t, s, []eventRow{at(0, "h", "2026-11-27T00:00:00.000Z")})
	assert.Equal(t, append(want, [2]string{"2026-11-27T00:00:00.000Z", "2026-11-27T00:00:00.000Z"}), times(s.r), "a migrated store's new batches")
}

// TestStoreBatchRanges: a batch records the ids of its first and last stored events, and its
// events are exactly those of its id between them, with duplicates skipped (in one chunk, and
// across requests) and chunks of several statements; a request of duplicates only stores no
// batch. A store last written by a build with the index events_batch, whose batches have no
// ranges, gets them on open and loses the index.
func TestStoreBatchRanges(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	var big []eventRow // three statements' worth of rows
	for i := range 2*insertChunk + 5 {
		big = append(big, testRow(i, "s-big", "p", int64(i)))
	}
	writeRows(t, s, big)
	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 1), testRow(1, "s1", "p1", 2), testRow(2, "s1", "p1", 1), testRow(3, "s1", "p1", 3)})
	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 2), testRow(1, "s1", "p1", 4)}) // one duplicate
	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 3)})                            // duplicates only
	counts := assertBatchRanges(t, s.r)
	assert.Equal(t, []int64{2*insertChunk + 5, 3, 1}, counts)
	require.NoError(t, s.Close())

	// An older build's batch: no range, found through events_batch.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db"))
	require.NoError(t, err)
	_, err = db.Exec(`CREATE INDEX events_batch ON events (batch_id);
		INSERT INTO batches (received_at, events, payload) VALUES ('2026-12-01T00:00:00.000Z', 2, x'');
		INSERT INTO events (batch_id, idx, session_id, prompt_id, name, seq, time_unix_nano, chash, ckey, time, account_uuid, email, attributes)
		SELECT max(id), 0, 'g', 'p', 'tool_result', 1, 5, 0, 7, '', '', '', '{}' FROM batches
		UNION ALL SELECT max(id), 1, 'g', 'p', 'tool_result', 2, 5, 0, 7, '', '', '', '{}' FROM batches`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	s, err = openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, append(counts, 2), assertBatchRanges(t, s.r))
	assert.Empty(t, queryStrings(t, s.r, `SELECT name FROM sqlite_schema WHERE name = 'events_batch'`))
	writeRows(t, s, []eventRow{testRow(0, "s2", "p", 1)})
	assert.Equal(t, append(counts, 2, 1), assertBatchRanges(t, s.r))
}

// assertBatchRanges checks that every event is in its batch's range and every batch's range
// holds its events only, and returns the number of events of each batch, in id order.
func assertBatchRanges(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	var outside int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM events LEFT JOIN batches ON batches.id = events.batch_id
		WHERE batches.id IS NULL OR events.id NOT BETWEEN batches.first_event AND batches.last_event`).Scan(&outside))
	assert.Zero(t, outside, "events outside their batch's range")
	rows, err := db.Query(`SELECT (SELECT count(*) FROM events WHERE ` + batchEvents + `),
		last_event - first_event + 1 FROM batches ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var counts []int64
	for rows.Next() {
		var n, span int64
		require.NoError(t, rows.Scan(&n, &span))
		assert.Equal(t, span, n, "a batch's range holds its events only")
		counts = append(counts, n)
	}
	require.NoError(t, rows.Err())
	return counts
}

// TestStoreWriteback: the store syncs its database file in the background while it is open,
// and Close waits for that goroutine to end.
func TestStoreWriteback(t *testing.T) {
	s, err := openStore(t.TempDir(), storeOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	writeRows(t, s, []eventRow{testRow(0, "s1", "p1", 1)})
	require.Eventually(t, func() bool { return s.writebacks.Load() >= 2 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, s.Close())
	select {
	case <-s.wbDone:
	default:
		t.Fatal("Close returned before writeback ended")
	}
	n := s.writebacks.Load()
	time.Sleep(3 * writebackEvery)
	assert.Equal(t, n, s.writebacks.Load(), "no sync after Close")
}

// TestStoreChainLookup: a request with many chains that are not open finds every stored one
// and numbers the new ones in order after them, one with a stored chain's prompt id in
// another session included.
func TestStoreChainLookup(t *testing.T) {
	s, err := openStore(t.TempDir(), storeOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer s.Close()
	const n = 67
	var first []eventRow
	for i := range n {
		first = append(first, testRow(i, "s", fmt.Sprint("p", i), int64(i+1)))
	}
	writeRows(t, s, first)
	want := chainValues(t, s, `SELECT DISTINCT session_id, prompt_id, ckey FROM events`)
	require.Len(t, want, n)
	// Every chain but the last is stored, and so no longer open.
	for i := range n - 1 {
		k := chainKey{"s", fmt.Sprint("p", i)}
		ch := &correlate.Chain{ID: correlate.ChainID(k.session, k.prompt), SessionID: k.session, PromptID: k.prompt, Version: 1, EventCount: 1}
		ok, err := s.send(context.Background(), newChainWrite(ch, []byte(`{"version":1}`)), 0)
		require.NoError(t, err)
		require.True(t, ok)
	}
	writeRows(t, s, nil)
	require.Len(t, openChains(t, s), 1)

	// Late events of all of them, a new chain between them and one after.
	var late []eventRow
	for i := range n {
		late = append(late, testRow(len(late), "s", fmt.Sprint("p", i), int64(100+i)))
		if i == 32 {
			late = append(late, testRow(len(late), "s", "new1", 1))
		}
	}
	late = append(late, testRow(len(late), "s", "new2", 1))
	late = append(late, testRow(len(late), "other", "p0", 1)) // a stored chain's prompt id, another session
	res := writeRows(t, s, late)
	assert.Len(t, res.reopen, n-1)
	got := chainValues(t, s, `SELECT DISTINCT session_id, prompt_id, ckey FROM events`)
	require.Len(t, got, n+3, "one number a chain")
	for k, v := range want {
		assert.Equal(t, v, got[k], "%v keeps its number", k)
	}
	a, b, c := got[chainKey{"s", "new1"}], got[chainKey{"s", "new2"}], got[chainKey{"other", "p0"}]
	assert.Greater(t, a, want[chainKey{"s", fmt.Sprint("p", n-1)}])
	assert.Equal(t, a+1, b, "the request's new chains in order")
	assert.Equal(t, b+1, c, "a new chain, whatever its prompt id")
}

// TestStoreChainIndexes: the chains table has the indexes its queries use and no other (each
// costs an insert per chain); a store made with chains_user, which none used, loses it on open.
func TestStoreChainIndexes(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	indexes := func(s *store) []string {
		return queryStrings(t, s.r, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'chains' AND sql IS NOT NULL ORDER BY name`)
	}
	want := []string{"chains_key", "chains_session", "chains_started"}
	s, err := openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	assert.Equal(t, want, indexes(s))
	_, err = s.w.Exec(`CREATE INDEX chains_user ON chains (account_uuid, started_at)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	s, err = openStore(dir, storeOptions{}, log)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, want, indexes(s))
}

// QueryStrings is queryStrings for the external test package.
var QueryStrings = queryStrings

// queryStrings runs a query of one text column and returns its values in order.
func queryStrings(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	return out
}
