package collector

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/telemetry"
)

// TestPartialVersionIsRefolded: a version the assembler marks partial (a late event after it
// let the chain's earlier events go) holds only the events since; the collector stores the
// chain folded from all its stored events instead, which closes it.
func TestPartialVersionIsRefolded(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, Config{DataDir: t.TempDir(), Redact: "none", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		QuietPeriod: time.Hour, IdleTimeout: time.Hour}) // the assembler emits nothing by itself
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Shutdown(ctx)) }()

	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var evs []telemetry.Event
	for i, name := range []string{"user_prompt", "api_request", "api_request"} {
		e := telemetry.New(name)
		telemetry.Set(e, telemetry.KeySessionID, telemetry.String("s1"))
		telemetry.Set(e, telemetry.KeyPromptID, telemetry.String("p1"))
		telemetry.Set(e, telemetry.KeySequence, telemetry.Int(int64(i+1)))
		ts := at.Add(time.Duration(i) * time.Second)
		telemetry.Set(e, telemetry.KeyTimestamp, telemetry.String(ts.Format("2006-01-02T15:04:05.000Z")))
		if name == "api_request" {
			telemetry.Set(e, telemetry.KeyCostUSD, telemetry.Double(0.25))
		}
		e.EventRecord().TimeUnixNano = uint64(ts.UnixNano())
		evs = append(evs, e)
	}
	require.NoError(t, c.ConsumeLogs(ctx, telemetry.NewLogs(evs...)))

	// What the assembler emits when the last event comes late, after it forgot the others.
	partial := correlate.Fold(evs[2:])[0]
	partial.Reasons = append(partial.Reasons, correlate.ReasonPartial)
	partial.Version = 2
	require.NoError(t, c.storeChain(ctx, partial))

	require.Eventually(t, func() bool {
		var n int
		return c.store.r.QueryRow(`SELECT count(*) FROM chains`).Scan(&n) == nil && n == 1
	}, 10*time.Second, 10*time.Millisecond)
	var events int
	var cost float64
	require.NoError(t, c.store.r.QueryRow(`SELECT event_count, cost_usd FROM chains WHERE session_id = 's1' AND prompt_id = 'p1'`).Scan(&events, &cost))
	assert.Equal(t, 3, events, "the chain holds every stored event, not the partial version's one")
	assert.InDelta(t, 0.5, cost, 1e-9)
	var open int
	require.NoError(t, c.store.r.QueryRow(`SELECT count(*) FROM open_chains`).Scan(&open))
	assert.Zero(t, open, "the whole chain stored closes it")
}
