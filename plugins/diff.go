package plugins

import (
	"fmt"
	"slices"
	"strings"

	"github.com/coworkgov/cowork/policy"
)

// ChangeKind is one way a member's plugin state changes between two snapshots. The zero
// value, [ChangeUnknown], is never produced.
type ChangeKind uint8

// Change kinds. One plugin can change in several ways at once (hidden → required is
// gained, force-installed and locked in).
const (
	ChangeUnknown        ChangeKind = iota
	ChangeGained                    // "gained": the member now sees the plugin
	ChangeLost                      // "lost": the member no longer sees it (an install is removed)
	ChangeForceInstalled            // "force-installed": policy now installs it
	ChangeRemoved                   // "removed": it was installed and no longer is, though still visible
	ChangeLockedIn                  // "locked-in": installed and can no longer be uninstalled
	ChangeUnlocked                  // "unlocked": can be uninstalled again
)

var changeNames = [...]string{"unknown", "gained", "lost", "force-installed", "removed", "locked-in", "unlocked"}

// String returns the kind's name.
func (k ChangeKind) String() string {
	if int(k) < len(changeNames) {
		return changeNames[k]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (k ChangeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Change is one change of one plugin for one member.
type Change struct {
	// Plugin is the plugin ID.
	Plugin string
	// Kind is the change.
	Kind ChangeKind
	// Old and New are the policy levels before and after (LevelUnknown when the plugin or
	// the member does not exist in that snapshot). A member without Cowork sees nothing
	// whatever the level.
	Old, New Level
}

// MemberDiff is what changes for one member.
type MemberDiff struct {
	// Member is the member's ID.
	Member string
	// CoworkBefore and CoworkAfter are the member's Cowork access.
	CoworkBefore, CoworkAfter bool
	// Changes lists plugin changes in plugin ID order, then kind order.
	Changes []Change
}

// Totals summarises a diff.
type Totals struct {
	// Members is how many members were compared; Affected how many changed.
	Members, Affected int
	// CoworkGained and CoworkLost count members whose Cowork access changes.
	CoworkGained, CoworkLost int
	// ByKind counts changes per kind, indexed by [ChangeKind].
	ByKind [len(changeNames)]int
}

// Impact is the dry run of a policy change: per member what they gain, lose, get
// force-installed or can no longer uninstall, computed with the same resolver as [Resolve].
type Impact struct {
	// OldRevision and NewRevision name the snapshots compared.
	OldRevision, NewRevision string
	// Members lists only the members with a change, in the order compared.
	Members []MemberDiff
	// Totals summarises.
	Totals Totals
}

// Empty reports whether nothing changes for anyone.
func (r *Impact) Empty() bool { return len(r.Members) == 0 }

// String renders one block per affected member, then the totals.
func (r *Impact) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "diff %s -> %s\n", r.OldRevision, r.NewRevision)
	for _, m := range r.Members {
		fmt.Fprintf(&b, "  %s\n", m.Member)
		if m.CoworkBefore != m.CoworkAfter {
			fmt.Fprintf(&b, "    cowork: %s -> %s\n", yes(m.CoworkBefore, "on", "off"), yes(m.CoworkAfter, "on", "off"))
		}
		for _, c := range m.Changes {
			fmt.Fprintf(&b, "    %-15s %s (%s -> %s)\n", c.Kind, c.Plugin, c.Old, c.New)
		}
	}
	t := r.Totals
	fmt.Fprintf(&b, "totals: %d of %d members affected; cowork +%d -%d", t.Affected, t.Members, t.CoworkGained, t.CoworkLost)
	for k := ChangeGained; int(k) < len(t.ByKind); k++ {
		fmt.Fprintf(&b, "; %s %d", k, t.ByKind[k])
	}
	b.WriteByte('\n')
	return b.String()
}

type pstate struct {
	level                            Level
	visible, installed, canUninstall bool
}

// Diff compares what members get under old and new. With members nil it compares every
// member of either snapshot, sorted by ID; a member missing from one snapshot has nothing
// there. Plugins are matched by ID; a plugin missing from one snapshot is hidden there.
// Member state (uninstalls, self-installs) is taken from each snapshot. Diff(s, s, nil) is
// empty.
func Diff(old, new *Snapshot, members []string) Impact {
	oi, ni := old.index(), new.index()
	r := Impact{OldRevision: oi.revision, NewRevision: ni.revision}
	if members == nil {
		seen := map[string]bool{}
		for _, m := range old.Members {
			seen[m.ID] = true
		}
		for _, m := range new.Members {
			seen[m.ID] = true
		}
		members = make([]string, 0, len(seen))
		for id := range seen {
			members = append(members, id)
		}
		slices.Sort(members)
	}
	// Union of plugin IDs in ID order, with positions in each index (-1 when absent).
	type pair struct {
		id       string
		oldP, nP int32
	}
	var plugins []pair
	i, j := 0, 0
	for i < len(oi.plugins) || j < len(ni.plugins) {
		switch {
		case j >= len(ni.plugins) || (i < len(oi.plugins) && oi.plugins[i].id < ni.plugins[j].id):
			plugins = append(plugins, pair{oi.plugins[i].id, int32(i), -1})
			i++
		case i >= len(oi.plugins) || ni.plugins[j].id < oi.plugins[i].id:
			plugins = append(plugins, pair{ni.plugins[j].id, -1, int32(j)})
			j++
		default:
			plugins = append(plugins, pair{oi.plugins[i].id, int32(i), int32(j)})
			i++
			j++
		}
	}
	os := make([]pstate, len(oi.plugins))
	ns := make([]pstate, len(ni.plugins))
	oa := make([]agg, len(oi.plugins))
	na := make([]agg, len(ni.plugins))
	for _, id := range members {
		r.Totals.Members++
		cb := old.states(oi, id, os, oa)
		ca := new.states(ni, id, ns, na)
		md := MemberDiff{Member: id, CoworkBefore: cb, CoworkAfter: ca}
		for _, p := range plugins {
			var a, b pstate
			if p.oldP >= 0 {
				a = os[p.oldP]
			}
			if p.nP >= 0 {
				b = ns[p.nP]
			}
			if a.visible == b.visible && a.installed == b.installed && a.canUninstall == b.canUninstall {
				continue
			}
			add := func(k ChangeKind) {
				md.Changes = append(md.Changes, Change{Plugin: p.id, Kind: k, Old: a.level, New: b.level})
				r.Totals.ByKind[k]++
			}
			switch {
			case !a.visible && b.visible:
				add(ChangeGained)
			case a.visible && !b.visible:
				add(ChangeLost)
			}
			switch {
			case !a.installed && b.installed:
				add(ChangeForceInstalled)
			case a.installed && !b.installed && b.visible:
				add(ChangeRemoved)
			}
			lockedA := a.installed && !a.canUninstall
			lockedB := b.installed && !b.canUninstall
			switch {
			case lockedB && !lockedA && a.installed:
				add(ChangeLockedIn)
			case lockedA && !lockedB && b.installed:
				add(ChangeUnlocked)
			}
		}
		if cb != ca {
			if ca {
				r.Totals.CoworkGained++
			} else {
				r.Totals.CoworkLost++
			}
		}
		if len(md.Changes) > 0 || cb != ca {
			r.Totals.Affected++
			r.Members = append(r.Members, md)
		}
	}
	return r
}

// states fills out with the member's per-plugin state (no explanations) and returns
// whether Cowork is on for the member. A member missing from the snapshot sees nothing.
func (s *Snapshot) states(ix *index, memberID string, out []pstate, aggs []agg) bool {
	clear(out)
	clear(aggs)
	mi, ok := s.Snapshot.MemberIndex(memberID)
	if !ok {
		return false
	}
	cow, _ := s.Snapshot.Access(memberID, policy.FeatureCowork)
	sk, _ := s.Snapshot.Access(memberID, policy.FeatureSkills)
	blocked := NotBlocked
	switch {
	case !cow.Enabled:
		blocked = BlockedByCowork
	case !sk.Enabled:
		blocked = BlockedBySkills
	}
	ix.aggregate(mi, aggs)
	st := ix.states[memberID]
	if st == nil {
		st = &stateIx{}
	}
	for i := range ix.plugins {
		level, _ := ix.level(&ix.plugins[i], aggs[i])
		f := apply(level, blocked, contains(st.uninstalled, int32(i)), contains(st.installed, int32(i)))
		out[i] = pstate{level: level, visible: f.visible, installed: f.installed, canUninstall: f.canUninstall}
	}
	return cow.Enabled
}
