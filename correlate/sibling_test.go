package correlate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// TestAddSessionSiblings adds the events of several chains of one session interleaved, one
// event per chain in turn, so that nearly every event follows another chain of its session
// (Add's previous-chain shortcut never applies), n events per Add, and checks the chains
// against Fold's.
func TestAddSessionSiblings(t *testing.T) {
	evs, _ := fleet(t, 20, 20)
	// Per session, its events round-robin over its prompts.
	bySession := map[string]map[string][]int{}
	var order []string
	for i, ev := range evs {
		r := ev.EventRecord()
		m := bySession[r.SessionID]
		if m == nil {
			m = map[string][]int{}
			bySession[r.SessionID] = m
			order = append(order, r.SessionID)
		}
		m[r.PromptID] = append(m[r.PromptID], i)
	}
	var mixed []int
	for _, sid := range order {
		var prompts [][]int
		for _, idx := range bySession[sid] {
			prompts = append(prompts, idx)
		}
		for j := 0; ; j++ {
			any := false
			for _, idx := range prompts {
				if j < len(idx) {
					mixed = append(mixed, idx[j])
					any = true
				}
			}
			if !any {
				break
			}
		}
	}
	in := make([]telemetry.Event, len(mixed))
	for i, j := range mixed {
		in[i] = evs[j]
	}
	want := chainJSON(t, Fold(in))
	for _, n := range []int{1, 7, 64, len(in)} {
		_, got := streamAll(t, in, n)
		require.Equal(t, want, chainJSON(t, got), "%d events per Add", n)
	}
}
