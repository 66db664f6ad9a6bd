package collector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults for [Retention] and how often it is enforced.
const (
	DefaultRetainEvents  = 30 * 24 * time.Hour
	DefaultRetainChains  = 400 * 24 * time.Hour
	DefaultRetainMetrics = 90 * 24 * time.Hour
	DefaultRetentionRun  = time.Minute
)

// ErrRetention reports a malformed retention specification.
var ErrRetention = errors.New("collector: bad retention")

// Retention is how long each class of data is kept. A zero field takes its default.
//
//   - Events: rows of events by the event's time, and batches (the stored requests, which the
//     forwarder and restarts read) by the time they were received, except the newest batch.
//     A batch received before the cut that still holds events of later times (a client's
//     clock ahead) keeps its row, with its times and without its payload, until they expire.
//   - Chains: rows of chains by the chain's start.
//   - Metrics: rows of metric_points by the point's time.
//
// access_log rows are never deleted by retention.
type Retention struct {
	Events, Chains, Metrics time.Duration
}

func (r Retention) withDefaults() Retention {
	if r.Events <= 0 {
		r.Events = DefaultRetainEvents
	}
	if r.Chains <= 0 {
		r.Chains = DefaultRetainChains
	}
	if r.Metrics <= 0 {
		r.Metrics = DefaultRetainMetrics
	}
	return r
}

// ParseRetention reads the -retain flag: "class=duration" items separated by commas, classes
// events, chains and metrics, durations in days ("30d"), hours ("12h") or any Go duration
// ("90m"). Classes not named keep their defaults.
func ParseRetention(s string) (Retention, error) {
	var r Retention
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		class, val, ok := strings.Cut(item, "=")
		if !ok {
			return Retention{}, fmt.Errorf("%w: %q is not class=duration", ErrRetention, item)
		}
		d, err := parseDays(strings.TrimSpace(val))
		if err != nil {
			return Retention{}, fmt.Errorf("%w: %s: %w", ErrRetention, class, err)
		}
		switch strings.TrimSpace(class) {
		case "events":
			r.Events = d
		case "chains":
			r.Chains = d
		case "metrics":
			r.Metrics = d
		default:
			return Retention{}, fmt.Errorf("%w: unknown class %q (want events, chains or metrics)", ErrRetention, class)
		}
	}
	return r, nil
}

func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		// At most 100,000 days: time.Duration holds about 292 years.
		if v, err := strconv.ParseFloat(n, 64); err == nil && v > 0 && v <= 100_000 {
			return time.Duration(v * float64(24*time.Hour)), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("bad duration %q: use e.g. 30d or 12h", s)
}

// RetentionResult counts what one retention run deleted.
type RetentionResult struct {
	Events        int64 `json:"events"`
	Batches       int64 `json:"batches"`
	Chains        int64 `json:"chains"`
	MetricPoints  int64 `json:"metric_points"`
	PagesFreed    int64 `json:"pages_freed"`
	DurationMilli int64 `json:"duration_ms"`
}

// retainChunk is the number of rows one DELETE removes: each is its own short transaction,
// so the writer never waits long for the lock.
const retainChunk = 500

// RunRetention deletes the rows older than the configured retention now, in short
// transactions beside the writer, and returns the space to the file system (on stores
// created with incremental auto-vacuum). Runs are serialised; it is safe for concurrent use.
func (c *Collector) RunRetention(ctx context.Context) (RetentionResult, error) {
	c.retainMu.Lock()
	defer c.retainMu.Unlock()
	start := time.Now()
	now := c.cfg.Now()
	r := c.cfg.Retention
	var res RetentionResult
	var err error
	del := func(dst *int64, q string, args ...any) {
		if err != nil {
			return
		}
		for {
			var n int64
			if n, err = c.store.execChunk(ctx, q, args...); err != nil {
				return
			}
			*dst += n
			if n < retainChunk {
				return
			}
		}
	}
	chunk := strconv.Itoa(retainChunk)
	evCut, chCut, mtCut := fmtTime(now.Add(-r.Events)), fmtTime(now.Add(-r.Chains)), fmtTime(now.Add(-r.Metrics))
	if err == nil {
		err = c.store.expireEvents(ctx, evCut, &res.Events)
	}
	// received_at grows with id: the expired batches are the oldest ids. The newest batch is
	// always kept: SQLite numbers a new row max(id)+1, and the forwarder's cursor relies on
	// ids never going back. A batch with events left (all of them later than the cut, once
	// expireEvents has run) loses its payload but keeps its times, by which a later run finds
	// them.
	expired := `SELECT id FROM batches WHERE id < COALESCE(
		(SELECT id FROM batches WHERE received_at >= ?1 ORDER BY id LIMIT 1), (SELECT max(id) FROM batches))`
	del(&res.Batches, `DELETE FROM batches WHERE id IN (`+expired+` AND min_time = '' ORDER BY id LIMIT `+chunk+`)`, evCut)
	var emptied int64
	del(&emptied, `UPDATE batches SET payload = x'' WHERE id IN (`+expired+` AND min_time <> '' AND length(payload) > 0 ORDER BY id LIMIT `+chunk+`)`, evCut)
	res.Batches += emptied
	del(&res.Chains, `DELETE FROM chains WHERE (prompt_id, session_id) IN (SELECT prompt_id, session_id FROM chains WHERE started_at < ? AND started_at <> '' LIMIT `+chunk+`)`, chCut)
	del(&res.MetricPoints, `DELETE FROM metric_points WHERE id IN (SELECT id FROM metric_points WHERE time < ? AND time <> '' LIMIT `+chunk+`)`, mtCut)
	if err == nil && res.Events+res.Batches+res.Chains+res.MetricPoints > 0 {
		res.PagesFreed, err = c.store.vacuum(ctx)
	}
	res.DurationMilli = time.Since(start).Milliseconds()
	if err != nil {
		c.cfg.Logger.Warn("collector: retention run failed", "err", err)
		return res, err
	}
	if res.Events+res.Batches+res.Chains+res.MetricPoints > 0 {
		c.cfg.Logger.Info("collector: retention", "events", res.Events, "batches", res.Batches, "chains", res.Chains,
			"metric_points", res.MetricPoints, "pages_freed", res.PagesFreed, "duration_ms", res.DurationMilli)
	}
	return res, nil
}

// retainLoop enforces retention every RetentionEvery until ctx ends.
func (c *Collector) retainLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.RetentionEvery)
	defer t.Stop()
	for {
		if _, err := c.RunRetention(ctx); err != nil && ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expireBatches is the number of batches whose expired events one transaction of
// expireEvents deletes: a few hundred events (a request holds up to a few thousand).
const expireBatches = 4

// expireEvents deletes the events with a time before cut, adding their number to n. It finds
// them by their batches' times: each transaction takes the batches with an event before the
// cut, deletes those events, and sets the batches' times to those of the events left (empty
// when none is left), so that no batch is visited twice.
func (s *store) expireEvents(ctx context.Context, cut string, n *int64) error {
	for {
		tx, err := s.rt.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		deleted, found, err := expireSome(tx, cut)
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			tx.Rollback()
			return err
		}
		*n += deleted
		if found < expireBatches {
			return nil
		}
	}
}

// expireSome is one transaction of expireEvents: the expired events of at most
// expireBatches batches. It returns the events deleted and the batches found.
func expireSome(tx *sql.Tx, cut string) (deleted int64, found int, err error) {
	rows, err := tx.Query(`SELECT id FROM batches WHERE min_time <> '' AND min_time < ? ORDER BY min_time LIMIT `+strconv.Itoa(expireBatches), cut)
	if err != nil {
		return 0, 0, err
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, 0, err
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(ids) == 0 {
		return 0, 0, err
	}
	in := "?" + strings.Repeat(", ?", len(ids)-1)
	res, err := tx.Exec(`DELETE FROM events WHERE id IN (SELECT events.id FROM batches, events
		WHERE batches.id IN (`+in+`) AND `+batchEvents+` AND time <> '' AND time < ?)`, append(ids, cut)...)
	if err != nil {
		return 0, 0, err
	}
	if deleted, err = res.RowsAffected(); err != nil {
		return 0, 0, err
	}
	_, err = tx.Exec(`UPDATE batches SET `+setBatchTimes+` WHERE id IN (`+in+`)`, ids...)
	return deleted, len(ids), err
}

// execChunk runs one DELETE as its own transaction on the retention connection.
func (s *store) execChunk(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.rt.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// vacuum returns free pages to the file system, a bounded number per transaction. Stores
// created before incremental auto-vacuum (schema version 1) keep their free pages for reuse.
func (s *store) vacuum(ctx context.Context) (int64, error) {
	var mode int
	if err := s.rt.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		return 0, err
	}
	var freed int64
	for range 1000 {
		var before, after int64
		if err := s.rt.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&before); err != nil {
			return freed, err
		}
		if before == 0 {
			return freed, nil
		}
		if _, err := s.rt.ExecContext(ctx, `PRAGMA incremental_vacuum(1024)`); err != nil {
			return freed, err
		}
		if err := s.rt.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&after); err != nil {
			return freed, err
		}
		freed += before - after
		if after >= before {
			return freed, nil
		}
	}
	return freed, nil
}

// runRetention serves POST /api/retention/run (admin): one retention run now.
func (c *Collector) runRetention(w http.ResponseWriter, r *http.Request) {
	res, err := c.RunRetention(r.Context())
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	writeJSON(w, fmt.Appendf(nil, `{"events":%d,"batches":%d,"chains":%d,"metric_points":%d,"pages_freed":%d,"duration_ms":%d}`,
		res.Events, res.Batches, res.Chains, res.MetricPoints, res.PagesFreed, res.DurationMilli))
}
