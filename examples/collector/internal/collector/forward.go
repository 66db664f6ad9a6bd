package collector

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coworkgov/cowork/internal/payload"
)

// forwarder sends stored batches, in storage order, to an OTLP/HTTP endpoint. The queue is the
// batches table itself: a cursor (meta.forward_cursor) marks the last batch delivered, so the
// queue survives restarts and crashes and costs no extra writes on the ingest path. Order is
// global, hence also per session. Retryable failures are retried with exponential backoff on
// the same batches; ingestion never waits for the forwarder. When the backlog exceeds the
// bound, the oldest batches are skipped (counted and logged; they stay in the store).
type forwarder struct {
	url     string
	headers map[string]string
	client  *http.Client
	st      *store
	max     int64
	log     *slog.Logger

	cursor                              atomic.Int64
	sentEvents, sentBatches, failures   atomic.Int64
	skippedEvents, rejectedBatches, lag atomic.Int64
}

const (
	forwardMaxEvents  = 5000
	forwardMaxBytes   = 4 << 20
	forwardIdle       = 200 * time.Millisecond
	forwardMinBackoff = 200 * time.Millisecond
	forwardMaxBackoff = 30 * time.Second
)

func newForwarder(cfg Config, st *store) (*forwarder, error) {
	u, err := url.Parse(cfg.Forward)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("collector: -forward %q is not an http(s) URL", cfg.Forward)
	}
	target := strings.TrimSuffix(cfg.Forward, "/")
	if !strings.HasSuffix(target, "/v1/logs") {
		target += "/v1/logs"
	}
	f := &forwarder{url: target, headers: cfg.ForwardHeaders, client: &http.Client{Timeout: 30 * time.Second},
		st: st, max: int64(cfg.ForwardQueue), log: cfg.Logger}
	var v string
	switch err := st.w.QueryRow(`SELECT value FROM meta WHERE key = 'forward_cursor'`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		// First run with forwarding: start with what arrives from now on.
		var maxID int64
		if err := st.w.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM batches`).Scan(&maxID); err != nil {
			return nil, err
		}
		f.cursor.Store(maxID)
		if err := f.save(context.Background()); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("collector: meta.forward_cursor %q: %w", v, err)
		}
		f.cursor.Store(n)
	}
	return f, nil
}

func (f *forwarder) save(ctx context.Context) error {
	_, err := f.st.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('forward_cursor', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.FormatInt(f.cursor.Load(), 10))
	return err
}

func (f *forwarder) run(ctx context.Context) {
	backoff := forwardMinBackoff
	for ctx.Err() == nil {
		upto := f.bound(ctx)
		ids, events, body, err := f.next(ctx, upto)
		if err != nil || len(ids) == 0 {
			sleep(ctx, forwardIdle)
			continue
		}
		if len(body) == 0 { // nothing to send in them (unreadable, or emptied by retention)
			f.advance(ctx, ids)
			continue
		}
		retry, wait, perr := f.post(ctx, body)
		switch {
		case perr == nil:
			f.sentBatches.Add(int64(len(ids)))
			f.sentEvents.Add(events)
			backoff = forwardMinBackoff
		case !retry:
			f.rejectedBatches.Add(int64(len(ids)))
			f.log.Error("collector: forward target refused batches for good; skipping them", "batches", len(ids), "events", events, "err", perr)
		default:
			f.failures.Add(1)
			if wait < backoff {
				wait = backoff
			}
			f.log.Warn("collector: forwarding failed; retrying", "in", wait.String(), "err", perr)
			sleep(ctx, wait)
			backoff = min(backoff*2, forwardMaxBackoff)
			continue
		}
		f.advance(ctx, ids)
	}
}

// advance moves the cursor past the batches ids, done with, and saves it.
func (f *forwarder) advance(ctx context.Context, ids []int64) {
	f.cursor.Store(ids[len(ids)-1])
	if err := f.save(ctx); err != nil && ctx.Err() == nil {
		f.log.Warn("collector: saving the forward cursor", "err", err)
	}
}

// next returns the batches after the cursor, up to the batch upto (the newest that bound
// counted, so that batches stored since then wait for the next round and a request never
// holds more than the bound) and the size limits, as one gzip-compressed
// request: stored gzip members (stores of schema 1 and 2) concatenate into one gzip stream
// as they are; other payloads are decompressed (S2, schema 4) or taken as they are (schema
// 3), and the OTLP protobuf requests concatenate into one whose resourceLogs are the union,
// in order, which is gzip-compressed here (off the ingest path): gzip is the one compression
// every OTLP/HTTP receiver takes.
func (f *forwarder) next(ctx context.Context, upto int64) (ids []int64, events int64, body []byte, err error) {
	rows, err := f.st.r.QueryContext(ctx, `SELECT id, events, payload FROM batches WHERE id > ? AND id <= ? ORDER BY id LIMIT 256`, f.cursor.Load(), upto)
	if err != nil {
		return nil, 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var p []byte
		if err := rows.Scan(&id, &n, &p); err != nil {
			return nil, 0, nil, err
		}
		if f.st.payloads != payload.Gzip {
			if p, err = payload.Decompress(p); err != nil {
				// Not sent, and not waited for: the cursor moves past it with the others.
				f.rejectedBatches.Add(1)
				f.log.Error("collector: a stored batch is unreadable; not forwarded", "batch", id, "err", err)
				ids = append(ids, id)
				continue
			}
		}
		if len(ids) > 0 && (events+n > forwardMaxEvents || len(body)+len(p) > forwardMaxBytes) {
			break
		}
		ids, events, body = append(ids, id), events+n, append(body, p...)
	}
	if err := rows.Err(); err != nil || f.st.payloads == payload.Gzip || len(body) == 0 {
		return ids, events, body, err
	}
	body, err = payload.Compress(body, payload.Gzip)
	return ids, events, body, err
}

// bound skips the oldest batches when more than max events wait, and returns the newest
// batch it counted (the cursor when none waits, or it could not read them). It reads at most
// the newest max events' batches.
func (f *forwarder) bound(ctx context.Context) (upto int64) {
	cursor := f.cursor.Load()
	upto = cursor
	// Whatever fails here sends nothing this round (sending unbounded could exceed the bound):
	// it is logged, and the next round tries again.
	failed := func(err error) int64 {
		if ctx.Err() == nil {
			f.log.Warn("collector: reading the forward queue", "err", err)
		}
		return cursor
	}
	rows, err := f.st.r.QueryContext(ctx, `SELECT id, events FROM batches WHERE id > ? ORDER BY id DESC`, cursor)
	if err != nil {
		return failed(err)
	}
	var total int64
	var cut int64 = -1
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return failed(err)
		}
		upto = max(upto, id)
		if total+n > f.max {
			cut = id // this batch and everything older is skipped
			break
		}
		total += n
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return failed(err) // the loop ended early: total is not the queue's
	}
	f.lag.Store(total)
	if cut < 0 {
		return upto
	}
	var skipped int64
	if err := f.st.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(events), 0) FROM batches WHERE id > ? AND id <= ?`, cursor, cut).Scan(&skipped); err != nil {
		return failed(err) // nothing skipped
	}
	f.cursor.Store(cut)
	f.skippedEvents.Add(skipped)
	f.log.Error("collector: forward queue full; skipped the oldest events (still in the store)", "events", skipped, "bound", f.max)
	_ = f.save(ctx)
	return upto
}

// post sends body; it reports whether a failure is worth retrying and the server's Retry-After.
func (f *forwarder) post(ctx context.Context, body []byte) (retry bool, wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "gzip") // see next
	for k, v := range f.headers {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return true, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return false, 0, nil
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = min(time.Duration(s)*time.Second, forwardMaxBackoff)
	}
	err = fmt.Errorf("forward target answered %s", resp.Status)
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return false, 0, err
	}
	return true, wait, err
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
