package correlate

import (
	"cmp"
	"slices"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// chainKey is a chain's key: (session.id, prompt.id).
type chainKey struct{ session, prompt string }

// Fold folds a stored set of events into chains, the batch form of the [Assembler]: events in
// any order, duplicates from retried exports dropped. The result is sorted by session, then
// start time, then prompt id, with each session's preamble (PromptID "") first.
//
// For every chain, Fold gives what an Assembler that saw the same events gives for the chain's
// last version: the same JSON except ClosedBy and Version, which describe the stream's history
// (Fold sets ClosedBy to TriggerTerminal for chains with nothing pending and a terminal event,
// else TriggerIdle, and Version 1), and except the reasons only a stream can have (evicted,
// max_events, max_bytes, partial). Fold does not modify the events; the chains share them.
func Fold(events []telemetry.Event) []*Chain {
	// Group the events by chain, the chains in order of first sight, laid out one after
	// another in one slice (a counting sort by group keeps arrival order within a group).
	index := map[chainKey]int32{}
	var keys []chainKey
	var starts []int // starts[g+1] counts group g's events, then is its end
	arrived := make([]entry, 0, len(events))
	gids := make([]int32, 0, len(events))
	for _, ev := range events {
		if ev == nil {
			continue
		}
		r := ev.EventRecord()
		k := chainKey{r.SessionID, r.PromptID}
		g, ok := index[k]
		if !ok {
			g = int32(len(keys))
			index[k] = g
			keys = append(keys, k)
			starts = append(starts, 0)
		}
		starts[g]++
		arrived = append(arrived, newEntry(ev))
		gids = append(gids, g)
	}
	starts = append(starts, 0)
	for g, n := 0, 0; g < len(starts); g++ {
		starts[g], n = n, n+starts[g]
	}
	// starts[g] is now where group g begins; place each event at its group's next slot.
	all := make([]entry, len(arrived))
	next := slices.Clone(starts)
	for i := range arrived {
		g := gids[i]
		all[next[g]] = arrived[i]
		next[g]++
	}
	groups := make([][]entry, len(keys))
	sessions := map[string]*sessionInfo{}
	total := 0
	for g, k := range keys {
		es, _ := sortEntries(all[starts[g]:starts[g+1]:starts[g+1]])
		groups[g] = es
		total += len(es)
		si := sessions[k.session]
		if si == nil {
			si = &sessionInfo{}
			sessions[k.session] = si
		}
		for i := range es {
			si.observe(es[i].ev, es[i].seq, es[i].ts)
		}
	}
	// Every chain's Events is a part of one slice.
	evs := make([]telemetry.Event, 0, total)
	out := make([]*Chain, 0, len(keys))
	for g, k := range keys {
		es := groups[g]
		off := len(evs)
		seqs := newSeqRange()
		var pc pendingCount
		for i := range es {
			evs = append(evs, es[i].ev)
			seqs.add(es[i].seq)
			pc.add(es[i].ev)
		}
		cevs := evs[off:len(evs):len(evs)]
		c := fold(k.session, k.prompt, cevs, sessions[k.session].facts(k.prompt, cevs, seqs, true))
		t := TriggerIdle
		if k.prompt != "" && hasTerminal(cevs) && !pc.pending() {
			t = TriggerTerminal
		}
		c.withTrigger(t, 1, false)
		out = append(out, c)
	}
	SortChains(out)
	return out
}

// FoldLogs folds every event of the decoded requests; see [Fold].
func FoldLogs(logs ...*telemetry.Logs) []*Chain {
	var evs []telemetry.Event
	for _, l := range logs {
		if l != nil {
			evs = append(evs, l.Events()...)
		}
	}
	return Fold(evs)
}

func hasTerminal(evs []telemetry.Event) bool {
	for _, ev := range evs {
		if terminalHint(ev) {
			return true
		}
	}
	return false
}

// SortChains sorts chains by session id, then preamble first, then start time, then prompt
// id, then version: the order [Fold] returns. The sort is stable.
func SortChains(cs []*Chain) {
	// The keys are copied out once rather than read from every chain at every comparison.
	type order struct {
		session, prompt string
		started         time.Time
		version         int
		c               *Chain
	}
	os := make([]order, len(cs))
	for i, c := range cs {
		os[i] = order{c.SessionID, c.PromptID, c.StartedAt, c.Version, c}
	}
	slices.SortStableFunc(os, func(a, b order) int {
		if c := cmp.Compare(a.session, b.session); c != 0 {
			return c
		}
		if ap, bp := a.prompt == "", b.prompt == ""; ap != bp { // the preamble first
			if ap {
				return -1
			}
			return 1
		}
		if c := a.started.Compare(b.started); c != 0 {
			return c
		}
		if c := cmp.Compare(a.prompt, b.prompt); c != 0 {
			return c
		}
		return cmp.Compare(a.version, b.version)
	})
	for i := range os {
		cs[i] = os[i].c
	}
}
