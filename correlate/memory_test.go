package correlate

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// TestRememberedChainsKeepNoRequest checks that what the assembler keeps of a chain after its
// events are released (its key, its session, the agents it saw) holds none of the memory those
// events came in. A decoded event's strings are substrings of its whole request, so a key
// kept as it was decoded would keep every request a remembered chain ever had an event in:
// here 1 MiB each, 48 MiB in all, where copies take a few kilobytes.
func TestRememberedChainsKeepNoRequest(t *testing.T) {
	const requests, pad = 48, 1 << 20
	ctx := context.Background()
	clk := newFakeClock()
	a, err := New(nopConsumer{}, WithClock(clk), WithRetainClosed(0), WithRememberClosed(1_000))
	require.NoError(t, err)
	at := clk.Now()
	add := func(i int) {
		// One request of one event, made large by an attribute the chain never reads.
		e := ev("api_request", fmt.Sprintf("sess-%03d", i), fmt.Sprintf("prompt-%03d", i), 1, at,
			"model", "claude-test", "agent_id", fmt.Sprintf("agent-%03d", i), "padding", strings.Repeat("x", pad))
		b, err := telemetry.EncodeLogsProto(telemetry.NewLogs(e))
		require.NoError(t, err)
		l, err := telemetry.DecodeLogsProto(b)
		require.NoError(t, err)
		require.NoError(t, a.Add(ctx, l.Events()...))
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for i := range requests {
		add(i)
	}
	clk.Advance(time.Hour)
	require.NoError(t, a.Sweep(ctx))
	st := a.Stats()
	require.EqualValues(t, requests, st.Emitted)
	require.Zero(t, st.InFlight)
	kept := int64(heap()) - int64(before)
	assert.Less(t, kept, int64(requests*pad/8), "the remembered chains keep %d bytes", kept)
	runtime.KeepAlive(a)
}
