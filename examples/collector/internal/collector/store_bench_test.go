package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/payload"
	"github.com/coworkgov/cowork/redact"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// storeWork is one simulated fleet as the writer receives it: redacted requests (rows and
// payload), then the fleet's chains, as the assembler emits them once they close.
type storeWork struct {
	logs   []*logsWrite
	chains []*chainWrite
	events int
}

func newStoreWork(b *testing.B, seed uint64, form payload.Form) storeWork {
	b.Helper()
	o := telemetrytest.Realistic(seed)
	o.Users, o.SessionsPerUser, o.PromptsPerSession, o.BatchSize = 20, 2, 10, 200
	e, err := redact.New(redact.Strict, redact.WithKey("k1", []byte("0123456789abcdef0123456789abcdef")))
	require.NoError(b, err)
	var w storeWork
	var all []telemetry.Event
	for l := range telemetrytest.NewFleet(o).Batches() {
		e.Logs(l)
		p, err := encodePayload(l, form)
		require.NoError(b, err)
		evs := l.Events()
		rows, _ := newEventRows(evs, 0)
		w.logs = append(w.logs, &logsWrite{payload: p, rows: rows, done: make(chan logsResult, 1)})
		w.events += len(rows)
		all = append(all, evs...)
	}
	for _, ch := range correlate.Fold(all) {
		js, err := ch.AppendJSON(nil)
		require.NoError(b, err)
		w.chains = append(w.chains, newChainWrite(ch, js))
	}
	return w
}

// BenchmarkStoreWrite measures the store's single writer alone, the collector's serial
// bottleneck: the requests of a simulated fleet (strict redaction, 200 events a request, 8
// requests queued at a time as from 8 connections), and the chains those events make, all
// committed by group commit into one store that grows across iterations as a collector's does.
// chains=off leaves the chains out, to tell their share. cpu-µs/event is the process's CPU per
// stored event, which here is almost all the writer's.
func BenchmarkStoreWrite(b *testing.B) {
	for _, c := range []struct {
		form   payload.Form
		chains bool
	}{
		{payload.S2, true},
		{payload.Gzip, true},
		{payload.Raw, true},
		{payload.S2, false},
	} {
		name := fmt.Sprintf("payload=%v/chains=%s", c.form, map[bool]string{false: "off", true: "on"}[c.chains])
		b.Run(name, func(b *testing.B) {
			s, err := openStore(b.TempDir(), storeOptions{rawPayloads: c.form == payload.Raw}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(b, err)
			defer s.Close()
			ctx := context.Background()
			var seed uint64
			var events int64
			var busy, cpu time.Duration
			var written int64
			for b.Loop() {
				b.StopTimer()
				seed++
				w := newStoreWork(b, seed, c.form)
				runtime.GC() // the set-up's garbage is not the writer's
				b.StartTimer()
				start, cpu0, w0 := time.Now(), cpuTime(), bytesWritten()
				const inFlight = 8
				for i, lw := range w.logs {
					ok, err := s.send(ctx, lw, 0)
					require.NoError(b, err)
					require.True(b, ok)
					if i >= inFlight {
						require.NoError(b, (<-w.logs[i-inFlight].done).err)
					}
				}
				for _, lw := range w.logs[max(0, len(w.logs)-inFlight):] {
					require.NoError(b, (<-lw.done).err)
				}
				chains := w.chains
				if !c.chains {
					chains = nil
				}
				for _, cw := range chains {
					_, err := s.send(ctx, cw, 0)
					require.NoError(b, err)
				}
				// A metrics write waits for its commit: by then every chain queued before it
				// is committed too (the writer takes chains in order).
				for s.depth() > 0 {
					time.Sleep(time.Millisecond)
				}
				mw := &metricsWrite{done: make(chan error, 1)}
				_, err := s.send(ctx, mw, 0)
				require.NoError(b, err)
				require.NoError(b, <-mw.done)
				busy += time.Since(start)
				cpu += cpuTime() - cpu0
				written += bytesWritten() - w0
				events += int64(w.events)
			}
			b.ReportMetric(float64(events)/busy.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
			b.ReportMetric(float64(written)/float64(events), "written-B/event")
		})
	}
}

// CPUTime is cpuTime for the external test package (BenchmarkIngest).
var CPUTime = cpuTime
