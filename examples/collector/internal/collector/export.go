package collector

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/coworkgov/cowork/telemetry"
)

// Export formats of GET /api/export.
const (
	exportJSONL = "jsonl"
	exportOTLP  = "otlp"
)

// export serves GET /api/export?since=&until=&format=jsonl|otlp (admin): the stored, redacted
// events whose time is in [since, until), in storage order, re-encoded from their stored
// batches (resource and scope included).
//
//   - jsonl (default, application/x-ndjson): one line per event, each an OTLP/JSON logs
//     request holding that event alone, readable by any OTLP tool and line by line by jq.
//   - otlp (application/x-protobuf): one OTLP/protobuf ExportLogsServiceRequest. It is
//     streamed as one request per stored batch, concatenated, which protobuf reads as a
//     single request holding them all.
//
// since defaults to no lower bound and until to no upper bound. An error after the first
// bytes aborts the connection, so a truncated export never looks complete.
func (c *Collector) export(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = exportJSONL
	}
	if format != exportJSONL && format != exportOTLP {
		apiError(w, http.StatusBadRequest, `bad format: use jsonl or otlp`)
		return
	}
	since, until, err := window(r, 0)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	batches, err := c.store.exportBatches(r.Context(), since, until)
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	ct, ext := "application/x-ndjson", "jsonl"
	if format == exportOTLP {
		ct, ext = "application/x-protobuf", "pb"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="cowork-export.`+ext+`"`)
	e := &exporter{c: c, w: w, format: format, batch: -1}
	err = c.store.exportEvents(r.Context(), batches, since, until, func(b, idx int64) {
		if b != e.batch {
			e.flush(r.Context())
			e.batch, e.idx = b, e.idx[:0]
		}
		e.idx = append(e.idx, idx)
	})
	if err != nil {
		e.fail(err)
	}
	e.flush(r.Context())
	if e.missing > 0 {
		c.cfg.Logger.Warn("collector: export skipped events whose batch retention had deleted", "events", e.missing)
	}
	c.cfg.Logger.Info("collector: export", "format", format, "events", e.events)
}

// exporter writes the events of one batch at a time.
type exporter struct {
	c       *Collector
	w       http.ResponseWriter
	format  string
	batch   int64
	idx     []int64
	buf     []byte
	events  int
	missing int
}

func (e *exporter) fail(err error) {
	e.c.cfg.Logger.Error("collector: export failed; connection aborted", "err", err)
	panic(http.ErrAbortHandler)
}

func (e *exporter) flush(ctx context.Context) {
	if len(e.idx) == 0 {
		return
	}
	var payload []byte
	err := e.c.store.r.QueryRowContext(ctx, `SELECT payload FROM batches WHERE id = ?`, e.batch).Scan(&payload)
	if errors.Is(err, sql.ErrNoRows) {
		e.missing += len(e.idx)
		return
	}
	if err != nil {
		e.fail(err)
	}
	logs, err := decodePayload(payload)
	if err != nil {
		e.fail(fmt.Errorf("batch %d: %w", e.batch, err))
	}
	all := logs.Events()
	var sel []telemetry.Event
	for _, i := range e.idx {
		if i >= 0 && int(i) < len(all) {
			sel = append(sel, all[i])
		}
	}
	if e.format == exportOTLP {
		if e.buf, err = (telemetry.EncodeOptions{}).AppendLogsProto(e.buf[:0], telemetry.NewLogs(sel...)); err != nil {
			e.fail(err)
		}
		e.write()
	} else {
		for _, ev := range sel {
			if e.buf, err = (telemetry.EncodeOptions{}).AppendLogsJSON(e.buf[:0], telemetry.NewLogs(ev)); err != nil {
				e.fail(err)
			}
			if bytes.IndexByte(e.buf, '\n') >= 0 {
				e.fail(errors.New("a newline in an OTLP/JSON line"))
			}
			e.buf = append(e.buf, '\n')
			e.write()
		}
	}
	e.events += len(sel)
}

func (e *exporter) write() {
	if _, err := e.w.Write(e.buf); err != nil {
		panic(http.ErrAbortHandler) // the client went away
	}
}

// exportBatches returns the ids, in order, of the batches that may hold events whose time is
// in [since, until): those whose times overlap it (index batches_time). Without a lower bound
// (since is "", which events without a time match too) it returns nil: every event is read.
func (s *store) exportBatches(ctx context.Context, since, until string) ([]int64, error) {
	if since == "" {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM batches INDEXED BY batches_time
		WHERE min_time <> '' AND min_time < ? AND max_time >= ? ORDER BY id`, until, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// exportEvents calls f with (batch_id, idx) of each event whose time is in [since, until), in
// storage order: of the given batches (from exportBatches), or when they are nil of every
// event, in id order, which is storage order (batch ids grow with event ids; a batch's events
// are in id order).
func (s *store) exportEvents(ctx context.Context, batches []int64, since, until string, f func(batch, idx int64)) error {
	scan := func(rows *sql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b, idx int64
			if err := rows.Scan(&b, &idx); err != nil {
				return err
			}
			f(b, idx)
		}
		return rows.Err()
	}
	if batches == nil {
		return scan(s.r.QueryContext(ctx, `SELECT batch_id, idx FROM events WHERE time < ? ORDER BY id`, until))
	}
	for _, b := range batches {
		err := scan(s.r.QueryContext(ctx, `SELECT events.batch_id, events.idx FROM batches, events
			WHERE batches.id = ? AND `+batchEvents+` AND time >= ? AND time < ? ORDER BY events.id`, b, since, until))
		if err != nil {
			return err
		}
	}
	return nil
}
