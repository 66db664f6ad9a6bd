package correlate

import "time"

// Session is one session.id: its preamble (events without a prompt.id) and its chains in
// order of start, with totals. Build sessions from chains with [Sessions].
type Session struct {
	SessionID string    `json:"session_id"`
	User      User      `json:"user"`
	Product   string    `json:"product,omitempty"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	// Preamble is the chain of events without a prompt.id; nil when there were none.
	Preamble *Chain `json:"preamble,omitempty"`
	// Chains are the session's prompt chains ordered by start time.
	Chains []*Chain `json:"chains"`
	// Totals sums the preamble and every chain.
	Totals Totals `json:"totals"`
	// Complete reports whether every chain is complete.
	Complete bool `json:"complete"`
}

// Sessions groups chains by session, keeping only the highest version of each chain id, in
// the order of [SortChains]. The chains are shared, not copied.
func Sessions(chains []*Chain) []*Session {
	latest := map[string]*Chain{}
	var order []*Chain
	for _, c := range chains {
		if prev, ok := latest[c.ID]; !ok {
			latest[c.ID] = c
			order = append(order, c)
		} else if c.Version > prev.Version {
			latest[c.ID] = c
		}
	}
	cs := make([]*Chain, 0, len(order))
	for _, c := range order {
		cs = append(cs, latest[c.ID])
	}
	SortChains(cs)
	var out []*Session
	var s *Session
	for _, c := range cs {
		if s == nil || s.SessionID != c.SessionID {
			s = &Session{SessionID: c.SessionID, Chains: []*Chain{}, Complete: true}
			out = append(out, s)
		}
		if c.IsPreamble() {
			s.Preamble = c
		} else {
			s.Chains = append(s.Chains, c)
		}
		if s.User == (User{}) || (s.User.AccountID == "" && c.User.AccountID != "") {
			s.User = c.User
		}
		if s.Product == "" {
			s.Product = c.Product
		}
		if s.StartedAt.IsZero() || c.StartedAt.Before(s.StartedAt) {
			s.StartedAt = c.StartedAt
		}
		if c.EndedAt.After(s.EndedAt) {
			s.EndedAt = c.EndedAt
		}
		s.Totals.add(c.Totals)
		s.Complete = s.Complete && c.Complete
	}
	for _, s := range out {
		s.Totals.DurationMS = s.EndedAt.Sub(s.StartedAt).Milliseconds()
	}
	return out
}
