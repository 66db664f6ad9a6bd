package correlate

import (
	"cmp"
	"slices"

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
	groups := map[chainKey][]entry{}
	sessions := map[string]*sessionInfo{}
	var keys []chainKey
	for _, ev := range events {
		if ev == nil {
			continue
		}
		r := ev.EventRecord()
		k := chainKey{r.SessionID, r.PromptID}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], newEntry(ev))
	}
	for _, k := range keys {
		es, _ := sortEntries(groups[k])
		groups[k] = es
		si := sessions[k.session]
		if si == nil {
			si = &sessionInfo{}
			sessions[k.session] = si
		}
		for i := range es {
			si.observe(es[i].ev, es[i].seq, es[i].ts)
		}
	}
	out := make([]*Chain, 0, len(keys))
	for _, k := range keys {
		es := groups[k]
		evs := make([]telemetry.Event, len(es))
		seqs := newSeqRange()
		var pc pendingCount
		for i := range es {
			evs[i] = es[i].ev
			seqs.add(es[i].seq)
			pc.add(es[i].ev)
		}
		c := fold(k.session, k.prompt, evs, sessions[k.session].facts(k.prompt, evs, seqs, true))
		t := TriggerIdle
		if k.prompt != "" && hasTerminal(evs) && !pc.pending() {
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
// id: the order [Fold] returns.
func SortChains(cs []*Chain) {
	slices.SortStableFunc(cs, func(a, b *Chain) int {
		if c := cmp.Compare(a.SessionID, b.SessionID); c != 0 {
			return c
		}
		if a.IsPreamble() != b.IsPreamble() {
			if a.IsPreamble() {
				return -1
			}
			return 1
		}
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(a.PromptID, b.PromptID); c != 0 {
			return c
		}
		return cmp.Compare(a.Version, b.Version)
	})
}
