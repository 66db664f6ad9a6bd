package correlate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSweepDueTimes checks that a Sweep which found nothing due (and so lets later sweeps pass
// over the shard until its due time) still closes chains whose due time an event brings
// forward: a later prompt of the session ending an earlier one, the result that leaves a
// terminal chain with nothing pending, a new chain in a shard already swept.
func TestSweepDueTimes(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	a, col, clk := newTestAssembler(t, WithShards(1))
	closed := func() map[string]Trigger {
		m := map[string]Trigger{}
		for _, c := range col.latest() {
			m[c.PromptID] = c.ClosedBy
		}
		return m
	}

	// p1 has no terminal event; p2's decision waits for its result.
	require.NoError(t, a.Add(ctx,
		ev("user_prompt", "s", "p1", 1, t0),
		ev("api_request", "s", "p1", 2, t0),
		ev("user_prompt", "s2", "p2", 1, t0),
		ev("tool_decision", "s2", "p2", 2, t0, "tool_name", "Bash", "tool_use_id", "t1", "decision", "accept", "source", "config"),
		ev("assistant_response", "s2", "p2", 3, t0),
	))
	clk.Advance(10 * time.Second)
	require.NoError(t, a.Sweep(ctx)) // nothing due before the idle timeout
	require.Empty(t, closed())

	// p2's result leaves nothing pending; p4 is a new chain, at once terminal.
	require.NoError(t, a.Add(ctx,
		ev("tool_result", "s2", "p2", 4, t0.Add(10*time.Second), "tool_name", "Bash", "tool_use_id", "t1", "success", "true"),
		ev("user_prompt", "s4", "p4", 1, t0.Add(10*time.Second)),
		ev("assistant_response", "s4", "p4", 2, t0.Add(10*time.Second)),
	))
	clk.Advance(6 * time.Second)
	require.NoError(t, a.Sweep(ctx))
	assert.Equal(t, map[string]Trigger{"p2": TriggerTerminal, "p4": TriggerTerminal}, closed())

	// A later prompt of s ends p1, quiet for long enough already.
	require.NoError(t, a.Add(ctx, ev("user_prompt", "s", "p3", 3, t0.Add(16*time.Second))))
	require.NoError(t, a.Sweep(ctx))
	assert.Equal(t, map[string]Trigger{"p1": TriggerTerminal, "p2": TriggerTerminal, "p4": TriggerTerminal}, closed())

	clk.Advance(2 * time.Minute)
	require.NoError(t, a.Sweep(ctx))
	assert.Equal(t, TriggerIdle, closed()["p3"])
	assert.Zero(t, a.Stats().InFlight)
}
