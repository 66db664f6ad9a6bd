package correlate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// propertyEvents is every corpus scenario plus a subagent scenario.
func propertyEvents(t testing.TB) []telemetry.Event {
	evs := allCorpusEvents(t)
	return append(evs, subagentScenario("sub", time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC))...)
}

// withDuplicates returns evs shuffled by seed with about a third of them repeated, as
// retried exports would deliver them (the same decoded values again).
func withDuplicates(evs []telemetry.Event, seed uint64) []telemetry.Event {
	out := append([]telemetry.Event(nil), evs...)
	for i, e := range evs {
		if (uint64(i)*2654435761+seed)%3 == 0 {
			out = append(out, e)
		}
	}
	return shuffled(out, seed)
}

func TestPropertyPermutationsAndDuplicates(t *testing.T) {
	ctx := context.Background()
	base := propertyEvents(t)
	want := exactJSON(t, Fold(base))
	wantStream := chainJSON(t, Fold(base))
	for seed := uint64(1); seed <= 25; seed++ {
		evs := withDuplicates(base, seed)
		require.Equal(t, want, exactJSON(t, Fold(evs)), "batch, seed %d", seed)

		a, col, clk := newTestAssembler(t)
		for i := 0; i < len(evs); i += 5 {
			require.NoError(t, a.Add(ctx, evs[i:min(i+5, len(evs))]...))
		}
		clk.Advance(time.Hour)
		require.NoError(t, a.Sweep(ctx))
		require.Equal(t, wantStream, chainJSON(t, col.latest()), "stream, seed %d", seed)
		assert.Equal(t, int64(len(evs)-len(base)), a.Stats().Duplicates)
	}
}

func TestPropertyPartitionedAssemblersMerge(t *testing.T) {
	ctx := context.Background()
	base := propertyEvents(t)
	want := chainJSON(t, Fold(base))
	for seed := uint64(1); seed <= 10; seed++ {
		evs := withDuplicates(base, seed)
		var as [2]*Assembler
		var cols [2]*collector
		clk := newFakeClock()
		for i := range as {
			cols[i] = &collector{}
			a, err := New(cols[i], WithClock(clk))
			require.NoError(t, err)
			as[i] = a
		}
		seen := [2]bool{}
		for _, e := range evs {
			p := Partition(e, 2)
			seen[p] = true
			require.NoError(t, as[p].Add(ctx, e))
		}
		require.Equal(t, [2]bool{true, true}, seen, "both partitions get sessions")
		clk.Advance(time.Hour)
		var merged []*Chain
		for i := range as {
			require.NoError(t, as[i].Sweep(ctx))
			merged = append(merged, cols[i].chains...)
		}
		require.Equal(t, want, chainJSON(t, latestVersions(merged)), "seed %d", seed)
	}
}

func TestPartitionKey(t *testing.T) {
	e := ev("user_prompt", "sess-1", "p", 1, time.Unix(0, 0))
	assert.Equal(t, "sess-1", PartitionKey(e))
	assert.Equal(t, 0, Partition(e, 1))
	for n := 2; n < 9; n++ {
		p := Partition(e, n)
		assert.True(t, p >= 0 && p < n)
		assert.Equal(t, p, Partition(ev("api_request", "sess-1", "q", 9, time.Unix(5, 0)), n), "same session, same partition")
	}
}
