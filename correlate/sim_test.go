package correlate

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// simFleet is a fleet with every behaviour switched on and chaotic delivery.
func simFleet(users, sessionsPerUser int) *telemetrytest.Fleet {
	o := telemetrytest.Realistic(42)
	o.Users, o.SessionsPerUser, o.PromptsPerSession = users, sessionsPerUser, 3
	o.SubagentRate, o.ErrorRate, o.RejectRate = 0.3, 0.1, 0.15
	o.Chaos = telemetrytest.Chaos{DuplicateRate: 0.05, ReorderRate: 0.1, LateRate: 0.05}
	return telemetrytest.NewFleet(o)
}

// TestSimulatedFleet streams thousands of sessions through one assembler from several
// goroutines at once, closes chains half-way through every session so that the rest arrives
// late, and checks every chain against the simulator's ground truth and against Fold.
func TestSimulatedFleet(t *testing.T) {
	users, per := 400, 5
	if testing.Short() {
		users = 100
	}
	fl := simFleet(users, per)
	var sessions []*telemetrytest.Session
	for s := range fl.Sessions() {
		sessions = append(sessions, s)
	}
	require.Len(t, sessions, users*per)

	ctx := context.Background()
	clk := newFakeClock()
	col := &collector{}
	a, err := New(col, WithClock(clk), WithRetainClosed(1_000_000), WithShards(16))
	require.NoError(t, err)

	// Phase 1: the first half of every session, from 4 goroutines; phase 2: everything
	// closes; phase 3: the second half arrives late.
	const workers = 4
	feed := func(half int) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(sessions); i += workers {
					evs := sessions[i].Events
					mid := len(evs) / 2
					part := evs[:mid]
					if half == 1 {
						part = evs[mid:]
					}
					for j := 0; j < len(part); j += 20 {
						assert.NoError(t, a.Add(ctx, part[j:min(j+20, len(part))]...))
					}
				}
			}()
		}
		wg.Wait()
	}
	feed(0)
	clk.Advance(time.Hour)
	require.NoError(t, a.Sweep(ctx))
	emittedFirst := a.Stats().Emitted
	feed(1)
	clk.Advance(time.Hour)
	require.NoError(t, a.Sweep(ctx))

	st := a.Stats()
	assert.Zero(t, st.InFlight)
	assert.Positive(t, st.Late, "the second halves arrive after their chains closed")
	assert.Positive(t, st.Amended)
	assert.Greater(t, st.Emitted, emittedFirst)
	dups := 0
	var all []telemetry.Event
	for _, s := range sessions {
		dups += s.Truth.Duplicates
		all = append(all, s.Events...)
	}
	assert.Equal(t, int64(dups), st.Duplicates, "every chaos duplicate is dropped, even after its chain closed")

	latest := col.latest()
	assert.Equal(t, chainJSON(t, Fold(all)), chainJSON(t, latest), "the stream's last versions equal the batch fold")

	// Ground truth, session by session.
	byKey := map[chainKey]*Chain{}
	for _, c := range latest {
		byKey[chainKey{c.SessionID, c.PromptID}] = c
	}
	subagents, parents := 0, 0
	for _, s := range sessions {
		tr := s.Truth
		var micros int64
		for _, p := range tr.Prompts {
			c := byKey[chainKey{tr.SessionID, p.PromptID}]
			require.NotNil(t, c, "chain for prompt %s", p.PromptID)
			assert.Equal(t, p.Events, c.EventCount, p.PromptID)
			assert.Equal(t, p.CostUSDMicros, c.Totals.CostUSDMicros)
			assert.Equal(t, p.APIRequests, c.Totals.APIRequests)
			assert.Equal(t, len(p.ToolCalls), c.Totals.ToolCalls)
			assert.Equal(t, len(p.Rejected), c.Totals.Rejected)
			assert.Equal(t, len(p.Failed), c.Totals.Failed)
			for _, tc := range c.Tools {
				if slices.Contains(p.Rejected, tc.ToolUseID) {
					assert.False(t, tc.HasResult, "a rejected call has no result")
					assert.True(t, tc.Rejected())
				}
			}
			assert.Equal(t, p.TaskNotification, c.Prompt != nil && c.Prompt.TaskNotification)
			if p.TaskNotification {
				parents++
				assert.Equal(t, p.ParentPromptID, c.ParentPromptID, "notification links to its parent")
			}
			subagents += len(p.Subagents)
			if p.Errored {
				assert.Nil(t, c.Response)
				assert.NotEmpty(t, c.APIErrors)
			}
			micros += c.Totals.CostUSDMicros
		}
		assert.Equal(t, tr.CostUSDMicros, micros, "session cost")
		_, preamble := byKey[chainKey{tr.SessionID, ""}]
		assert.Equal(t, tr.Preamble > 0, preamble)
	}
	assert.Positive(t, subagents)
	assert.Positive(t, parents)
	t.Logf("sessions=%d chains=%d emitted=%d late=%d amended=%d duplicates=%d incomplete=%v",
		len(sessions), len(latest), st.Emitted, st.Late, st.Amended, st.Duplicates, st.Incomplete)
}
