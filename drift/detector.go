package drift

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
	"github.com/coworkgov/cowork/telemetry"
)

// Detector accumulates events and reports drift against one snapshot. Create it with [New].
// Memory grows with the number of members, sessions and findings, not with the number of
// events: each finding keeps one evidence item per session.
//
// A Detector is not safe for concurrent use; feed it from one goroutine (or guard it). It
// only reads the snapshot, which may be shared with other readers.
type Detector struct {
	snap *plugins.Snapshot
	opts Options
	rev  string

	orgIDs    map[string]bool      // lower-cased accepted organization IDs; empty: not checked
	known     map[string]bool      // lower-cased marketplace names never checked (builtin, …)
	byID      map[string]int       // member ID → index
	byEmail   map[string]int       // normalised email → index
	mktByName map[string]string    // lower-cased marketplace name or ID → marketplace ID
	plugin    map[pluginKey]string // (marketplace ID, plugin name) → plugin ID
	byName    map[string][]string  // plugin name → plugin IDs (for events without a marketplace)

	members  map[int]*memberState
	unknown  map[string]bool
	findings map[findingKey]*acc
	stats    Stats
}

type pluginKey struct{ marketplace, name string }

type findingKey struct {
	kind    Kind
	member  string
	subject string
}

type memberState struct {
	idx      int
	resolved bool
	result   plugins.Result
	err      error
	cowork   *policy.Decision
	seen     map[string]bool     // plugin IDs seen loaded, installed or used
	sessions map[string]Evidence // sessions with plugin_loaded: their earliest load
}

type acc struct {
	f        Finding
	sessions map[string]Evidence
}

// New returns a detector for snap. It reads snap (building its indexes on first use) and
// never modifies it. A nil snap returns [ErrNoSnapshot].
func New(snap *plugins.Snapshot, opts Options) (*Detector, error) {
	if snap == nil {
		return nil, ErrNoSnapshot
	}
	d := &Detector{
		snap:      snap,
		opts:      opts,
		rev:       snap.Revision(),
		orgIDs:    map[string]bool{},
		known:     map[string]bool{BuiltinMarketplace: true},
		byID:      map[string]int{},
		byEmail:   map[string]int{},
		mktByName: map[string]string{},
		plugin:    map[pluginKey]string{},
		byName:    map[string][]string{},
		members:   map[int]*memberState{},
		unknown:   map[string]bool{},
		findings:  map[findingKey]*acc{},
	}
	for _, id := range append([]string{snap.Organization.ID}, opts.OrganizationIDs...) {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			d.orgIDs[id] = true
		}
	}
	for _, m := range opts.KnownMarketplaces {
		d.known[strings.ToLower(strings.TrimSpace(m))] = true
	}
	for i, m := range snap.Members {
		if _, dup := d.byID[m.ID]; m.ID != "" && !dup {
			d.byID[m.ID] = i
		}
		if e := normEmail(m.Email); e != "" {
			if _, dup := d.byEmail[e]; !dup {
				d.byEmail[e] = i
			}
		}
	}
	for _, m := range snap.Marketplaces {
		for _, k := range []string{m.ID, m.Name} {
			if k = strings.ToLower(k); k != "" {
				if _, dup := d.mktByName[k]; !dup {
					d.mktByName[k] = m.ID
				}
			}
		}
	}
	for _, p := range snap.Plugins {
		name := strings.ToLower(p.Name)
		k := pluginKey{p.MarketplaceID, name}
		if _, dup := d.plugin[k]; !dup && name != "" {
			d.plugin[k] = p.ID
			d.byName[name] = append(d.byName[name], p.ID)
		}
	}
	return d, nil
}

// Check returns the drift between snap and events. It is [New], [Detector.Add] for each
// event and [Detector.Report].
func Check(snap *plugins.Snapshot, events []telemetry.Event, opts Options) (Report, error) {
	return CheckSeq(snap, slices.Values(events), opts)
}

// CheckSeq is [Check] over an iterator, so that events can be streamed from storage.
func CheckSeq(snap *plugins.Snapshot, events iter.Seq[telemetry.Event], opts Options) (Report, error) {
	d, err := New(snap, opts)
	if err != nil {
		return Report{}, err
	}
	for ev := range events {
		d.Add(ev)
	}
	return d.Report(), nil
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Add records one event. Events may come in any order and from many sessions; nil events
// are ignored.
func (d *Detector) Add(ev telemetry.Event) {
	if ev == nil {
		return
	}
	r := ev.EventRecord()
	if r == nil {
		return
	}
	d.stats.Events++
	if r.Product() == telemetry.ProductCowork {
		d.stats.CoworkEvents++
	}
	plugin, market, isPlugin := pluginOf(ev)
	if isPlugin {
		d.stats.PluginEvents++
	}
	idx, matched := d.match(r)
	who := Member{Email: r.UserEmail, AccountID: r.AccountID, AccountUUID: r.AccountUUID}
	if matched {
		who.ID = d.snap.Members[idx].ID
	}

	if org := strings.ToLower(r.OrganizationID); len(d.orgIDs) > 0 && org != "" && !d.orgIDs[org] {
		d.stats.Foreign++
		d.add(KindForeignOrganization, who, r.OrganizationID, "", ev, func() string {
			return fmt.Sprintf("organization.id %s is not the organization's (%s); events from another organization are not governed by this policy and are not checked further\n",
				r.OrganizationID, strings.Join(d.orgList(), ", "))
		})
		return
	}
	if who.Email == "" && who.AccountID == "" && who.AccountUUID == "" {
		d.stats.Anonymous++
		return
	}

	var ms *memberState
	if matched {
		ms = d.member(idx)
	} else {
		key := identityKey(who)
		if !d.unknown[key] {
			d.unknown[key] = true
			d.stats.Unknown++
		}
		d.add(KindUnknownMember, who, "membership", "", ev, func() string { return "" })
	}

	if ms != nil && r.Product() == telemetry.ProductCowork {
		if dec := d.cowork(ms); !dec.Enabled {
			d.add(KindCoworkNotAllowed, who, "cowork", "", ev, func() string {
				return fmt.Sprintf("Cowork is off for %s (stopped at the %s gate), yet the member's sessions send Cowork telemetry (service.name=cowork)\n%s",
					who.ID, dec.StoppedAt(), dec.String())
			})
		}
	}

	if !isPlugin {
		return
	}
	if ms != nil && ev.Name() == telemetry.NamePluginLoaded {
		ms.observe(r)
	}
	lm := strings.ToLower(market)
	if _, listed := d.mktByName[lm]; d.known[lm] && !listed {
		d.stats.BuiltinPlugins++
		return
	}
	subject := plugin + "@" + market
	if market == "" {
		subject = plugin + "@(not reported)"
	}
	var pluginID string
	if market != "" {
		mid, ok := d.mktByName[lm]
		if !ok {
			d.add(KindUnknownMarketplace, who, subject, "", ev, func() string {
				return fmt.Sprintf("marketplace %q is not one of the organization's marketplaces in snapshot %s (%s) nor a known one (%s)\n",
					market, d.rev, strings.Join(d.marketList(), ", "), strings.Join(d.knownList(), ", "))
			})
			return
		}
		pluginID = d.plugin[pluginKey{mid, strings.ToLower(plugin)}]
		if pluginID == "" {
			if ms != nil {
				d.add(KindForbiddenLoaded, who, subject, "", ev, func() string {
					return fmt.Sprintf("plugin %q is not listed in marketplace %s of snapshot %s; a plugin missing from the snapshot is hidden from every member (not_available)\n",
						plugin, mid, d.rev)
				})
			}
			return
		}
	} else {
		ids := d.byName[strings.ToLower(plugin)]
		switch len(ids) {
		case 0:
			d.add(KindUnknownMarketplace, who, subject, "", ev, func() string {
				return fmt.Sprintf("the event does not name the marketplace (redacted without tool details), and no plugin of snapshot %s is named %q\n", d.rev, plugin)
			})
			return
		case 1:
			pluginID = ids[0]
		default:
			// Ambiguous without a marketplace: the plugin is org-distributed, but which one
			// cannot be told. Count it as seen for all, judge none.
			if ms != nil {
				for _, id := range ids {
					ms.seen[id] = true
				}
			}
			return
		}
	}
	if ms == nil {
		return
	}
	ms.seen[pluginID] = true
	res := d.resolve(ms)
	if res == nil {
		return
	}
	dec, ok := res.Plugin(pluginID)
	if !ok || dec.Visible {
		return
	}
	if res.Blocked == plugins.BlockedByCowork && r.Product() == telemetry.ProductCowork {
		return // the member's Cowork finding already covers every Cowork event
	}
	d.add(KindForbiddenLoaded, who, subject, pluginID, ev, func() string {
		why := fmt.Sprintf("resolves to %s", dec.Level)
		if res.Blocked != plugins.NotBlocked {
			why = "is hidden because " + res.Blocked.String()
		}
		return fmt.Sprintf("plugin %s %s for %s, so it should not be loaded or used\n%s", pluginID, why, who.ID, dec.String())
	})
}

// pluginOf returns the plugin and marketplace named by a plugin event.
func pluginOf(ev telemetry.Event) (plugin, market string, ok bool) {
	switch e := ev.(type) {
	case *telemetry.PluginLoaded:
		plugin, market = e.PluginName, e.MarketplaceName
	case *telemetry.PluginInstalled:
		plugin, market = e.PluginName, e.MarketplaceName
	case *telemetry.SkillActivated:
		plugin, market = e.PluginName, e.MarketplaceName
	default:
		return "", "", false
	}
	return plugin, market, plugin != ""
}

func (d *Detector) match(r *telemetry.Record) (int, bool) {
	if i, ok := d.byID[r.AccountID]; ok && r.AccountID != "" {
		return i, true
	}
	if i, ok := d.byID[r.AccountUUID]; ok && r.AccountUUID != "" {
		return i, true
	}
	if e := normEmail(r.UserEmail); e != "" {
		if i, ok := d.byEmail[e]; ok {
			return i, true
		}
	}
	return 0, false
}

// Identify returns the snapshot member that events with these identity attributes belong to,
// by the rules of the package documentation (account ID, then account UUID, then email), and
// whether one matched. The member is the snapshot's own value: read it, do not modify it.
func (d *Detector) Identify(accountID, accountUUID, email string) (*policy.Member, bool) {
	i, ok := d.match(&telemetry.Record{Common: telemetry.Common{AccountID: accountID, AccountUUID: accountUUID, UserEmail: email}})
	if !ok {
		return nil, false
	}
	return &d.snap.Members[i], true
}

func identityKey(m Member) string {
	switch {
	case m.AccountID != "":
		return "id:" + m.AccountID
	case m.AccountUUID != "":
		return "uuid:" + m.AccountUUID
	}
	return "email:" + normEmail(m.Email)
}

func (d *Detector) member(idx int) *memberState {
	ms := d.members[idx]
	if ms == nil {
		ms = &memberState{idx: idx, seen: map[string]bool{}, sessions: map[string]Evidence{}}
		d.members[idx] = ms
		d.stats.Members++
	}
	return ms
}

func (d *Detector) cowork(ms *memberState) *policy.Decision {
	if ms.cowork == nil {
		dec, err := d.snap.Evaluate(d.snap.Members[ms.idx].ID)
		if err != nil {
			// Only an unknown member fails, and ms names a member of the snapshot.
			dec = policy.Decision{Revision: d.rev, Member: d.snap.Members[ms.idx].ID, Feature: policy.FeatureCowork}
		}
		ms.cowork = &dec
	}
	return ms.cowork
}

func (d *Detector) resolve(ms *memberState) *plugins.Result {
	if !ms.resolved {
		ms.resolved = true
		ms.result, ms.err = plugins.Resolve(d.snap, d.snap.Members[ms.idx].ID)
	}
	if ms.err != nil {
		return nil
	}
	return &ms.result
}

func evidenceOf(ev telemetry.Event) Evidence {
	r := ev.EventRecord()
	return Evidence{Event: ev.Name(), SessionID: r.SessionID, Sequence: r.Sequence, PromptID: r.PromptID, Time: r.Time().UTC()}
}

// earlier orders evidence by time, then session, then sequence, then event name.
func earlier(a, b Evidence) bool { return compareEvidence(a, b) < 0 }

func compareEvidence(a, b Evidence) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.SessionID, b.SessionID),
		cmp.Compare(a.Sequence, b.Sequence), cmp.Compare(a.Event, b.Event), cmp.Compare(a.PromptID, b.PromptID))
}

func (ms *memberState) observe(r *telemetry.Record) {
	e := Evidence{Event: telemetry.NamePluginLoaded, SessionID: r.SessionID, Sequence: r.Sequence, PromptID: r.PromptID, Time: r.Time().UTC()}
	if old, ok := ms.sessions[r.SessionID]; !ok || earlier(e, old) {
		ms.sessions[r.SessionID] = e
	}
}

// add records ev as evidence of the finding (kind, member, subject); explain is called once,
// when the finding is first created.
func (d *Detector) add(kind Kind, who Member, subject, pluginID string, ev telemetry.Event, explain func() string) {
	key := findingKey{kind, identityKey(who), subject}
	if who.ID != "" {
		key.member = "member:" + who.ID
	}
	a := d.findings[key]
	e := evidenceOf(ev)
	if a == nil {
		a = &acc{f: Finding{Kind: kind, Severity: kind.Severity(), Member: who, Subject: subject, PluginID: pluginID,
			Explanation: explain(), Revision: d.rev, FirstSeen: e.Time, LastSeen: e.Time}, sessions: map[string]Evidence{}}
		d.findings[key] = a
	}
	a.merge(who)
	a.f.Events++
	if e.Time.Before(a.f.FirstSeen) {
		a.f.FirstSeen = e.Time
	}
	if e.Time.After(a.f.LastSeen) {
		a.f.LastSeen = e.Time
	}
	if old, ok := a.sessions[e.SessionID]; !ok || earlier(e, old) {
		a.sessions[e.SessionID] = e
	}
}

// merge keeps the smallest non-empty value of each identity field, so that the member shown
// does not depend on event order.
func (a *acc) merge(who Member) {
	min := func(dst *string, s string) {
		if s != "" && (*dst == "" || s < *dst) {
			*dst = s
		}
	}
	min(&a.f.Member.Email, who.Email)
	min(&a.f.Member.AccountID, who.AccountID)
	min(&a.f.Member.AccountUUID, who.AccountUUID)
}

// Report returns the findings for the events added so far, including [KindRequiredMissing],
// which is decided now from all of them. It does not reset the detector; adding more events
// and calling Report again gives the report for all events.
func (d *Detector) Report() Report {
	rep := Report{Revision: d.rev, Organization: d.snap.Organization.ID, Stats: d.stats}
	max := d.opts.maxEvidence()
	for _, a := range d.findings {
		f := a.finish(max)
		if f.Kind == KindUnknownMember {
			// Written from the merged identity, so that it does not depend on event order.
			f.Explanation = fmt.Sprintf("no member of snapshot %s matches user.account_id %q, user.account_uuid %q or user.email %q; Cowork access and plugins cannot be evaluated for this identity\n",
				d.rev, f.Member.AccountID, f.Member.AccountUUID, f.Member.Email)
		}
		rep.Findings = append(rep.Findings, f)
	}
	for _, ms := range d.members {
		if len(ms.sessions) == 0 {
			continue
		}
		res := d.resolve(ms)
		if res == nil {
			continue
		}
		m := d.snap.Members[ms.idx]
		for i := range res.Plugins {
			dec := &res.Plugins[i]
			if dec.Level != plugins.LevelRequired || !dec.Installed || ms.seen[dec.Plugin] {
				continue
			}
			a := &acc{f: Finding{Kind: KindRequiredMissing, Severity: KindRequiredMissing.Severity(),
				Member: Member{ID: m.ID, Email: m.Email}, Subject: dec.Name + "@" + d.marketName(dec.Marketplace), PluginID: dec.Plugin,
				Revision: d.rev,
				Explanation: fmt.Sprintf("plugin %s is required for %s, but none of the member's %d observed session start(s) loaded it\n%s",
					dec.Plugin, m.ID, len(ms.sessions), dec.String())}, sessions: ms.sessions}
			for _, e := range ms.sessions {
				a.f.Events++
				if a.f.FirstSeen.IsZero() || e.Time.Before(a.f.FirstSeen) {
					a.f.FirstSeen = e.Time
				}
				if e.Time.After(a.f.LastSeen) {
					a.f.LastSeen = e.Time
				}
			}
			rep.Findings = append(rep.Findings, a.finish(max))
		}
	}
	slices.SortFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Member.String(), b.Member.String()),
			cmp.Compare(a.Subject, b.Subject), cmp.Compare(identityKey(a.Member), identityKey(b.Member)))
	})
	return rep
}

func (a *acc) finish(max int) Finding {
	f := a.f
	f.Sessions = len(a.sessions)
	ev := make([]Evidence, 0, len(a.sessions))
	for _, e := range a.sessions {
		ev = append(ev, e)
	}
	slices.SortFunc(ev, compareEvidence)
	if len(ev) > max {
		ev = ev[:max]
	}
	f.Evidence = ev
	return f
}

func (d *Detector) marketName(id string) string {
	for _, m := range d.snap.Marketplaces {
		if m.ID == id && m.Name != "" {
			return m.Name
		}
	}
	return id
}

func (d *Detector) orgList() []string   { return sortedKeys(d.orgIDs) }
func (d *Detector) knownList() []string { return sortedKeys(d.known) }

func (d *Detector) marketList() []string {
	var out []string
	for _, m := range d.snap.Marketplaces {
		out = append(out, cmp.Or(m.Name, m.ID))
	}
	slices.Sort(out)
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
