package correlate

import (
	"context"
	"fmt"
	"slices"
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

// streamAll adds evs to a new assembler n at a time, lets every chain close, and returns the
// assembler and the latest version of each chain it emitted.
func streamAll(t *testing.T, evs []telemetry.Event, n int) (*Assembler, []*Chain) {
	t.Helper()
	ctx := context.Background()
	a, col, clk := newTestAssembler(t)
	for i := 0; i < len(evs); i += n {
		require.NoError(t, a.Add(ctx, evs[i:min(i+n, len(evs))]...))
	}
	clk.Advance(time.Hour)
	require.NoError(t, a.Sweep(ctx))
	return a, col.latest()
}

func TestPropertyPermutationsAndDuplicates(t *testing.T) {
	base := propertyEvents(t)
	want := exactJSON(t, Fold(base))
	wantStream := chainJSON(t, Fold(base))
	for seed := uint64(1); seed <= 25; seed++ {
		evs := withDuplicates(base, seed)
		require.Equal(t, want, exactJSON(t, Fold(evs)), "batch, seed %d", seed)

		a, got := streamAll(t, evs, 5)
		require.Equal(t, wantStream, chainJSON(t, got), "stream, seed %d", seed)
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

// longChain is one prompt with n tool calls, several events sharing each millisecond, and a
// few negative sequence numbers, so that ties in time and the gap check's order matter.
func longChain(session string, n int) []telemetry.Event {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i/3) * time.Millisecond) }
	p := session + "-p"
	evs := []telemetry.Event{ev("user_prompt", session, p, 1, at(0), "prompt", "go", "prompt_length", "2")}
	for i := range n {
		id := fmt.Sprintf("toolu_%d", i)
		seq := int64(2 + 3*i)
		if i%17 == 5 {
			seq = -seq
		}
		evs = append(evs,
			ev("api_request", session, p, seq, at(3*i+1), "model", "m", "cost_usd", 0.1, "input_tokens", i),
			ev("tool_decision", session, p, seq+1, at(3*i+2), "tool_name", "Bash", "tool_use_id", id, "decision", "accept", "source", "config", "tool_parameters", `{"command":"ls"}`),
			ev("tool_result", session, p, seq+2, at(3*i+3), "tool_name", "Bash", "tool_use_id", id, "success", "true", "tool_parameters", `{"command":"ls"}`))
	}
	return append(evs, ev("assistant_response", session, p, int64(3+3*n), at(3*n+4), "response", "done", "model", "m"))
}

// TestPropertyLongChainOrders adds chains longer than an Add can move an event back in
// reversed, rotated and shuffled orders: the stream still gives the batch fold.
func TestPropertyLongChainOrders(t *testing.T) {
	base := append(longChain("long", 60), longChain("short", 10)...)
	want := chainJSON(t, Fold(base))
	reversed := slices.Clone(base)
	slices.Reverse(reversed)
	orders := map[string][]telemetry.Event{
		"reversed": reversed,
		"rotated":  append(slices.Clone(base[len(base)/3:]), base[:len(base)/3]...),
		"late":     append(append(slices.Clone(base[:20]), base[100:]...), base[20:100]...),
	}
	for seed := uint64(1); seed <= 5; seed++ {
		orders[fmt.Sprintf("shuffled-%d", seed)] = withDuplicates(base, seed)
	}
	for name, evs := range orders {
		require.Equal(t, want, chainJSON(t, Fold(evs)), "batch, %s", name)
		_, got := streamAll(t, evs, 7)
		require.Equal(t, want, chainJSON(t, got), "stream, %s", name)
	}
}

// TestFoldOrderIsSortChains checks that Fold returns its chains in the order of SortChains.
func TestFoldOrderIsSortChains(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		got := Fold(withDuplicates(propertyEvents(t), seed))
		want := slices.Clone(got)
		SortChains(want)
		require.Equal(t, want, got, "seed %d", seed)
	}
}
