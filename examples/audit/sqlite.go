package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/payload"
	"github.com/coworkgov/cowork/telemetry"
)

// storeFile is the collector's SQLite store inside its data directory.
const storeFile = "cowork.db"

// storeVersions are the collector's meta.schema_version values this source reads: version 2
// differs from 1 only in auto-vacuum and retention indexes, versions 3 (-raw-payloads) and 4
// from 2 only in the form of their payloads (uncompressed, and S2-compressed), which
// payload.Decode tells from their bytes.
var storeVersions = map[string]bool{"1": true, "2": true, "3": true, "4": true}

// storeTime is how the collector writes times in TEXT columns (UTC, milliseconds), so that
// they compare as strings.
const storeTime = "2006-01-02T15:04:05.000Z"

// skew is how much earlier than the window a batch may have been received and still hold
// events inside it (clients' clocks run ahead of the collector's).
const skew = time.Hour

// store reads the collector's SQLite store read-only (mode=ro, query_only), so it can run
// beside a live collector: SQLite's WAL lets readers and the writer proceed together.
//
// It reads the tables the collector documents in examples/collector/README.md: batches
// (payload: the redacted OTLP/protobuf request, compressed with S2 or gzip, or as it is), chains (json: the correlate.Chain) and
// events (one row per stored event, for retention), and batches' min_time and max_time (the
// range of their events' times) where the store has them.
type store struct {
	db   *sql.DB
	path string
}

var _ Source = (*store)(nil)

var errSchema = errors.New("audit: not a collector store")

func openStore(ctx context.Context, path string) (*store, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "query_only(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	var v string
	if err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %s: %v", errSchema, path, err)
	}
	if !storeVersions[v] {
		db.Close()
		return nil, fmt.Errorf("%w: %s has schema version %s, this report reads versions 1 and 2", errSchema, path, v)
	}
	return &store{db: db, path: path}, nil
}

func (s *store) Chains(ctx context.Context, since time.Time) ([]*correlate.Chain, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT json FROM chains WHERE started_at >= ? ORDER BY started_at, id`, since.UTC().Format(storeTime))
	if err != nil {
		return nil, fmt.Errorf("audit: chains: %w", err)
	}
	defer rows.Close()
	var out []*correlate.Chain
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return nil, err
		}
		c := new(correlate.Chain)
		if err := json.Unmarshal([]byte(js), c); err != nil {
			return nil, fmt.Errorf("audit: chain row: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Events decodes the stored batches received since the window opened (less skew) and keeps
// the events inside the window. The payloads are the collector's redacted copies.
func (s *store) Events(ctx context.Context, since time.Time) ([]telemetry.Event, error) {
	from := ""
	if !since.IsZero() {
		from = since.Add(-skew).UTC().Format(storeTime)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, payload FROM batches WHERE received_at >= ? ORDER BY id`, from)
	if err != nil {
		return nil, fmt.Errorf("audit: batches: %w", err)
	}
	defer rows.Close()
	var out []telemetry.Event
	for rows.Next() {
		var id int64
		var p []byte
		if err := rows.Scan(&id, &p); err != nil {
			return nil, err
		}
		l, err := payload.Decode(p)
		if err != nil {
			return nil, fmt.Errorf("audit: batch %d: %w", id, err)
		}
		for _, ev := range l.Events() {
			if !ev.EventRecord().Time().Before(since) {
				out = append(out, ev)
			}
		}
	}
	return out, rows.Err()
}

func (s *store) Retained(ctx context.Context) (Retention, error) {
	r := Retention{Store: s.path}
	var oldest, newest sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&r.Events); err != nil {
		return r, fmt.Errorf("audit: events: %w", err)
	}
	// The range of the stored events' times: from their batches' times (index batches_time)
	// in stores of collectors since December 2026, which have no index of events by time,
	// else from the events (index events_time).
	q := `SELECT min(time), max(time) FROM events WHERE time <> ''`
	var timed int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('batches') WHERE name = 'min_time'`).Scan(&timed); err != nil {
		return r, fmt.Errorf("audit: batches: %w", err)
	}
	if timed > 0 {
		q = `SELECT min(min_time), max(max_time) FROM batches WHERE min_time <> ''`
	}
	if err := s.db.QueryRowContext(ctx, q).Scan(&oldest, &newest); err != nil {
		return r, fmt.Errorf("audit: event times: %w", err)
	}
	for _, t := range []sql.NullString{oldest, newest} {
		if tt, err := time.Parse(storeTime, t.String); t.Valid && err == nil {
			r.observe(tt)
		}
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM chains`).Scan(&r.Chains); err != nil {
		return r, fmt.Errorf("audit: chains: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&r.Sessions); err != nil {
		return r, fmt.Errorf("audit: sessions: %w", err)
	}
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			r.Bytes += fi.Size()
		}
	}
	return r, nil
}

func (s *store) Describe() string { return "collector store " + s.path }
func (s *store) Close() error     { return s.db.Close() }
