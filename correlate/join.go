package correlate

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Confidence says how sure a join is. Its zero value, ConfidenceUnknown, means not joined.
type Confidence uint8

// The confidence levels, strongest first.
const (
	ConfidenceUnknown Confidence = iota
	// ConfidenceExact: an identifier both sides carry (user.account_id = actor.user_id, or a
	// shared tool_use_id).
	ConfidenceExact
	// ConfidenceAlias: the chain named the user only by user.account_uuid, whose tagged id
	// the stream taught (another event carried both).
	ConfidenceAlias
	// ConfidenceEmail: matched on email address, case-insensitively (emails change and are
	// null on some endpoints).
	ConfidenceEmail
	// ConfidenceWeak: matched on user, product and overlapping time only.
	ConfidenceWeak
)

var confidenceNames = [...]string{"", "exact", "alias", "email", "weak"}

// String returns "exact", "alias", "email", "weak", or "" for ConfidenceUnknown.
func (c Confidence) String() string {
	if int(c) < len(confidenceNames) {
		return confidenceNames[c]
	}
	return ""
}

// MarshalText returns the name.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// ItemKind is what a [TimelineItem] holds. Its zero value, ItemUnknown, is never produced.
type ItemKind uint8

// The item kinds.
const (
	ItemUnknown ItemKind = iota
	ItemChain
	ItemActivity
	ItemTranscript
)

var itemKindNames = [...]string{"", "chain", "activity", "transcript"}

// String returns "chain", "activity", "transcript", or "".
func (k ItemKind) String() string {
	if int(k) < len(itemKindNames) {
		return itemKindNames[k]
	}
	return ""
}

// MarshalText returns the name.
func (k ItemKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Unjoinable says why a chain could not be joined with Compliance records. The zero value,
// UnjoinableNone, means it was joined (or there was nothing to join).
type Unjoinable uint8

// The reasons a chain could not be joined.
const (
	UnjoinableNone Unjoinable = iota
	// UnjoinableNoIdentity: the chain carries no account id, account UUID or email (a
	// third-party deployment names users by resource enduser.id only, and the Compliance API
	// does not cover it).
	UnjoinableNoIdentity
	// UnjoinableUnknownAlias: the chain has only a user.account_uuid no event paired with a
	// user.account_id, and no email.
	UnjoinableUnknownAlias
	// UnjoinableNoTranscript: no local session shares a tool_use_id with the chain or (for a
	// chain without tool calls) overlaps it in time for the same user and product. Causes:
	// retention elapsed, a Console API key, Bedrock/Vertex, ZDR, or the session not listed yet.
	UnjoinableNoTranscript
)

var unjoinableNames = [...]string{"", "no_identity", "unknown_alias", "no_transcript"}

// String returns the reason's name, or "" for UnjoinableNone.
func (u Unjoinable) String() string {
	if int(u) < len(unjoinableNames) {
		return unjoinableNames[u]
	}
	return ""
}

// MarshalText returns the name.
func (u Unjoinable) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// Transcript is a local session with its messages, as listed by the Compliance API.
type Transcript struct {
	Session  LocalSession
	Messages []Message
}

// JoinOptions configures [Join]. The zero value is usable.
type JoinOptions struct {
	// ClockSkew is the allowed difference between the clients' clocks (event times) and the
	// server's (created_at). Default (0): 2 minutes.
	ClockSkew time.Duration
	// Lookback is how long before a user's first chain activities still count as context
	// (a policy or plugin change shortly before). Default (0): 24 hours.
	Lookback time.Duration
}

// Timeline is one user's history across Cowork telemetry and Compliance records, in time
// order.
type Timeline struct {
	// UserID is the tagged account id (user_01…), or "email:<address>" when only an email is
	// known.
	UserID       string         `json:"user_id"`
	Email        string         `json:"email,omitempty"`
	AccountUUIDs []string       `json:"account_uuids,omitempty"`
	Items        []TimelineItem `json:"items"`
}

// TimelineItem is one chain, activity or transcript on a timeline.
type TimelineItem struct {
	At   time.Time `json:"at"`
	Kind ItemKind  `json:"kind"`
	// Chain, Activity and Transcript hold the item (one of them).
	Chain      *Chain        `json:"-"`
	Activity   *Activity     `json:"-"`
	Transcript *LocalSession `json:"-"`
	// ID is the chain id, activity id or local session id.
	ID string `json:"id"`
	// Type is the activity type, "prompt" or "preamble" for a chain, and the product surface
	// for a transcript.
	Type string `json:"type,omitempty"`
	// Confidence is how the item was tied to the user (chains: how the chain named the user;
	// activities: exact on actor.user_id or email; transcripts: exact on tool_use_id, else
	// weak).
	Confidence Confidence `json:"confidence"`
	// Related lists, for an activity, the chains whose time window (± clock skew) contains
	// it; for a transcript, the chains it matched; for a chain, the transcript it matched.
	Related []string `json:"related,omitempty"`
	// RelatedConfidence is the confidence of a chain's transcript match.
	RelatedConfidence Confidence `json:"related_confidence,omitempty"`
	// Unjoinable says why a chain matched no transcript.
	Unjoinable Unjoinable `json:"unjoinable,omitempty"`
}

// UnjoinedChain is a chain that could not be placed on a timeline, and why.
type UnjoinedChain struct {
	ChainID string     `json:"chain_id"`
	Reason  Unjoinable `json:"reason"`
}

// JoinResult is the output of [Join].
type JoinResult struct {
	Timelines []Timeline      `json:"timelines"`
	Unjoined  []UnjoinedChain `json:"unjoined"`
	// DuplicateActivities counts activities dropped as repeats of an id (delivery is at least
	// once).
	DuplicateActivities int `json:"duplicate_activities"`
	// UnmatchedActivities counts activities whose actor is none of the chains' users.
	UnmatchedActivities int `json:"unmatched_activities"`
}

// Join builds one timeline per user from chains and Compliance API records. The user key is
// user.account_id (= the Compliance actor.user_id); the user.account_uuid → account_id alias
// and the email → account_id map are learned from the chains themselves (events carry both);
// email is the fallback. Activities are de-duplicated on id and kept when they fall in
// [first chain − Lookback − ClockSkew, last chain + ClockSkew] for their user. Transcripts
// match chains on shared tool_use_id (exact) or, for chains without tool calls, on user,
// product and time overlap (weak). Only the latest version of each chain is used. Join is a
// pure function of its inputs: the output is sorted and deterministic. It does not modify its
// inputs; items point into them.
func Join(chains []*Chain, activities []Activity, transcripts []Transcript, opts JoinOptions) *JoinResult {
	skew := cmp.Or(opts.ClockSkew, 2*time.Minute)
	lookback := cmp.Or(opts.Lookback, 24*time.Hour)
	res := &JoinResult{Timelines: []Timeline{}, Unjoined: []UnjoinedChain{}}

	// Latest versions only.
	latest := map[string]*Chain{}
	for _, c := range chains {
		if p, ok := latest[c.ID]; !ok || c.Version > p.Version {
			latest[c.ID] = c
		}
	}
	cs := make([]*Chain, 0, len(latest))
	for _, c := range latest {
		cs = append(cs, c)
	}
	SortChains(cs)

	// Learn identities from the stream.
	uuidToID := map[string]string{}
	emailToID := map[string]string{}
	for _, c := range cs {
		u := c.User
		if u.AccountID == "" {
			continue
		}
		if u.AccountUUID != "" {
			if _, ok := uuidToID[u.AccountUUID]; !ok {
				uuidToID[u.AccountUUID] = u.AccountID
			}
		}
		if u.Email != "" {
			e := strings.ToLower(u.Email)
			if _, ok := emailToID[e]; !ok {
				emailToID[e] = u.AccountID
			}
		}
	}

	type userState struct {
		tl          *Timeline
		first, last time.Time
		chains      []*Chain
		chainItem   map[string]int
	}
	users := map[string]*userState{}
	user := func(key string) *userState {
		us := users[key]
		if us == nil {
			us = &userState{tl: &Timeline{UserID: key, Items: []TimelineItem{}}, chainItem: map[string]int{}}
			users[key] = us
		}
		return us
	}

	for _, c := range cs {
		u := c.User
		var key string
		conf := ConfidenceExact
		switch {
		case u.AccountID != "":
			key = u.AccountID
		case u.AccountUUID != "" && uuidToID[u.AccountUUID] != "":
			key, conf = uuidToID[u.AccountUUID], ConfidenceAlias
		case u.Email != "" && emailToID[strings.ToLower(u.Email)] != "":
			key, conf = emailToID[strings.ToLower(u.Email)], ConfidenceEmail
		case u.Email != "":
			key, conf = "email:"+strings.ToLower(u.Email), ConfidenceEmail
		case u.AccountUUID != "":
			res.Unjoined = append(res.Unjoined, UnjoinedChain{ChainID: c.ID, Reason: UnjoinableUnknownAlias})
			continue
		default:
			res.Unjoined = append(res.Unjoined, UnjoinedChain{ChainID: c.ID, Reason: UnjoinableNoIdentity})
			continue
		}
		us := user(key)
		if us.tl.Email == "" && u.Email != "" {
			us.tl.Email = u.Email
		}
		if u.AccountUUID != "" && !slices.Contains(us.tl.AccountUUIDs, u.AccountUUID) {
			us.tl.AccountUUIDs = append(us.tl.AccountUUIDs, u.AccountUUID)
		}
		if us.first.IsZero() || c.StartedAt.Before(us.first) {
			us.first = c.StartedAt
		}
		if c.EndedAt.After(us.last) {
			us.last = c.EndedAt
		}
		us.chains = append(us.chains, c)
		us.chainItem[c.ID] = len(us.tl.Items)
		typ := "prompt"
		if c.IsPreamble() {
			typ = "preamble"
		}
		us.tl.Items = append(us.tl.Items, TimelineItem{At: c.StartedAt, Kind: ItemChain, Chain: c, ID: c.ID, Type: typ, Confidence: conf})
	}

	// Activities: de-duplicate, attribute to a user, window, relate to chains.
	seen := map[string]bool{}
	for i := range activities {
		a := &activities[i]
		if seen[a.ID] {
			res.DuplicateActivities++
			continue
		}
		seen[a.ID] = true
		var us *userState
		conf := ConfidenceExact
		if a.Actor.UserID != "" {
			us = users[a.Actor.UserID]
		}
		if us == nil && a.Actor.EmailAddress != "" {
			e := strings.ToLower(a.Actor.EmailAddress)
			if id := emailToID[e]; id != "" {
				us = users[id]
			} else {
				us = users["email:"+e]
			}
			conf = ConfidenceEmail
		}
		if us == nil {
			res.UnmatchedActivities++
			continue
		}
		if a.CreatedAt.Before(us.first.Add(-lookback-skew)) || a.CreatedAt.After(us.last.Add(skew)) {
			continue
		}
		it := TimelineItem{At: a.CreatedAt, Kind: ItemActivity, Activity: a, ID: a.ID, Type: a.Type, Confidence: conf}
		for _, c := range us.chains {
			if !a.CreatedAt.Before(c.StartedAt.Add(-skew)) && !a.CreatedAt.After(c.EndedAt.Add(skew)) {
				it.Related = append(it.Related, c.ID)
			}
		}
		us.tl.Items = append(us.tl.Items, it)
	}

	// Transcripts: exact on tool_use_id, weak on user + product + time.
	toolOwner := map[string]*Chain{}
	for _, c := range cs {
		for _, t := range c.Tools {
			if t.ToolUseID != "" {
				toolOwner[t.ToolUseID] = c
			}
		}
	}
	matched := map[string]Confidence{}
	matchedTo := map[string]string{}
	for i := range transcripts {
		tr := &transcripts[i]
		ids := ToolUseIDs(tr.Messages)
		var related []string
		conf := ConfidenceUnknown
		for _, id := range ids {
			if c := toolOwner[id]; c != nil && !slices.Contains(related, c.ID) {
				related = append(related, c.ID)
				matched[c.ID], matchedTo[c.ID] = ConfidenceExact, tr.Session.ID
				conf = ConfidenceExact
			}
		}
		us := users[tr.Session.User.ID]
		if us != nil {
			lo, hi := transcriptSpan(tr)
			for _, c := range us.chains {
				if c.IsPreamble() || len(c.Tools) > 0 || matched[c.ID] != ConfidenceUnknown || !sameProduct(c.Product, tr.Session.ProductSurface) {
					continue
				}
				if !lo.IsZero() && !c.StartedAt.After(hi.Add(skew)) && !c.EndedAt.Before(lo.Add(-skew)) {
					related = append(related, c.ID)
					matched[c.ID], matchedTo[c.ID] = ConfidenceWeak, tr.Session.ID
					if conf == ConfidenceUnknown {
						conf = ConfidenceWeak
					}
				}
			}
		}
		if us == nil && len(related) > 0 {
			// The transcript belongs to whoever owns the matched chain.
			for _, s := range users {
				if _, ok := s.chainItem[related[0]]; ok {
					us = s
					break
				}
			}
		}
		if us == nil || len(related) == 0 {
			continue
		}
		slices.Sort(related)
		at := tr.Session.CreatedAt
		if lo, _ := transcriptSpan(tr); !lo.IsZero() {
			at = lo
		}
		us.tl.Items = append(us.tl.Items, TimelineItem{At: at, Kind: ItemTranscript, Transcript: &tr.Session, ID: tr.Session.ID, Type: tr.Session.ProductSurface, Confidence: conf, Related: related})
	}

	keys := make([]string, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		us := users[k]
		for i := range us.tl.Items {
			it := &us.tl.Items[i]
			if it.Kind != ItemChain || it.Chain.IsPreamble() {
				continue
			}
			if c := matched[it.ID]; c != ConfidenceUnknown {
				it.Related, it.RelatedConfidence = []string{matchedTo[it.ID]}, c
			} else {
				it.Unjoinable = UnjoinableNoTranscript
			}
		}
		slices.SortStableFunc(us.tl.Items, func(a, b TimelineItem) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		slices.Sort(us.tl.AccountUUIDs)
		res.Timelines = append(res.Timelines, *us.tl)
	}
	return res
}

func transcriptSpan(tr *Transcript) (lo, hi time.Time) {
	for _, m := range tr.Messages {
		if m.CreatedAt.IsZero() {
			continue
		}
		if lo.IsZero() || m.CreatedAt.Before(lo) {
			lo = m.CreatedAt
		}
		if m.CreatedAt.After(hi) {
			hi = m.CreatedAt
		}
	}
	return lo, hi
}

// sameProduct maps service.name to the Compliance product_surface.
func sameProduct(serviceName, surface string) bool {
	switch serviceName {
	case "cowork":
		return surface == "cowork"
	case "claude-code", "claude-code-desktop":
		return surface == "claude_code"
	}
	return false
}
