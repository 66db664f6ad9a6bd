package plugins

import (
	"fmt"
	"strings"

	"github.com/coworkgov/cowork/policy"
)

// Result is every plugin's state for one member, with the member-level gates.
type Result struct {
	// Revision is the snapshot revision the result came from.
	Revision string
	// Member is the member's ID.
	Member string
	// Cowork and Skills are the prerequisite decisions; plugins need both enabled.
	Cowork, Skills policy.Decision
	// Groups lists the member's groups known to the snapshot, sorted.
	Groups []string
	// Combinator is the rule used for members in several groups.
	Combinator Combinator
	// Plugins holds one decision per plugin, in plugin ID order.
	Plugins []Decision
	// Warnings are member-level findings, such as group settings ignored on a Team plan.
	Warnings []string
}

// Plugin returns the decision for the plugin with the given ID.
func (r *Result) Plugin(id string) (*Decision, bool) {
	for i := range r.Plugins {
		if r.Plugins[i].Plugin == id {
			return &r.Plugins[i], true
		}
	}
	return nil, false
}

// String renders the gates, then every plugin with its explanation.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "member %s (revision %s)\n", r.Member, r.Revision)
	b.WriteString(indentLines(r.Cowork.String(), "  "))
	b.WriteString(indentLines(r.Skills.String(), "  "))
	fmt.Fprintf(&b, "  groups: %s\n", strings.Join(r.Groups, ", "))
	fmt.Fprintf(&b, "  combinator: %s\n", r.Combinator)
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	for i := range r.Plugins {
		r.Plugins[i].write(&b, "  ")
	}
	return b.String()
}

func indentLines(s, indent string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(indent)
			b.WriteString(l)
		}
	}
	return b.String()
}

// Resolve computes every plugin's effective state for one member, with explanations. It is
// a pure function of the snapshot (member state included). The rules, in order:
//
//  1. Plugins need Cowork enabled for the member and Skills enabled for the organization
//     (see [policy.Snapshot.Access]); otherwise every plugin is hidden and no action is
//     possible.
//  2. The base is the plugin's org-wide level: an installation setting targeting the
//     organization, else the plugin's own organization_installation_preference, else its
//     marketplace's default_installation_preference, else not_available.
//  3. On Enterprise plans, if any of the member's groups holds a setting, the group values
//     replace the base and combine by the snapshot's [Combinator]; the base does not take
//     part. On Team plans group settings are ignored with a warning.
//  4. Unknown levels anywhere count as not_available (fail closed) with a warning.
//  5. The member's own actions apply last: an uninstall is honoured only for auto_install,
//     an install only for available; not_available hides the plugin and removes a previous
//     install; required cannot be uninstalled. Org-managed plugins are never editable.
//
// An unknown member returns [policy.ErrUnknownMember].
func Resolve(s *Snapshot, memberID string) (Result, error) {
	ix := s.index()
	pol := &s.Snapshot
	res := Result{Revision: ix.revision, Member: memberID, Combinator: ix.combinator}
	cow, err := pol.Access(memberID, policy.FeatureCowork)
	if err != nil {
		return res, err
	}
	sk, _ := pol.Access(memberID, policy.FeatureSkills)
	cow.Revision, sk.Revision = ix.revision, ix.revision
	res.Cowork, res.Skills = cow, sk
	m, _ := pol.Member(memberID)
	bits, groups := ix.memberBits(pol, m)
	res.Groups = groups
	blocked := NotBlocked
	switch {
	case !cow.Enabled:
		blocked = BlockedByCowork
	case !sk.Enabled:
		blocked = BlockedBySkills
	}
	if ix.combNote != "" {
		res.Warnings = append(res.Warnings, ix.combNote)
	}
	st := ix.states[memberID]
	if st == nil {
		st = &stateIx{}
	}

	res.Plugins = make([]Decision, len(ix.plugins))
	var slab []GroupValue
	ignoredWarned := false
	for i := range ix.plugins {
		p := &ix.plugins[i]
		d := &res.Plugins[i]
		d.Plugin, d.Name, d.Marketplace = p.id, p.name, p.marketplace
		e := &d.Why
		e.Revision, e.Blocked, e.Base, e.BaseSource = ix.revision, blocked, p.base, p.baseSource
		e.MemberGroups, e.Combinator = groups, ix.combinator
		if len(p.notes) > 0 {
			e.Notes = append(e.Notes, p.notes...)
		}
		start := len(slab)
		level, from := ix.combine(p, bits, &slab)
		if len(slab) > start {
			e.Groups = slab[start:len(slab):len(slab)]
		}
		if !ix.enterprise && len(e.Groups) > 0 {
			e.GroupsIgnored = true
			e.Notes = append(e.Notes, "group settings are ignored: they need an Enterprise plan")
			if !ignoredWarned {
				res.Warnings = append(res.Warnings, "group settings are ignored: they need an Enterprise plan")
				ignoredWarned = true
			}
		}
		for _, g := range e.Groups {
			if !g.Level.Known() && !e.GroupsIgnored {
				e.Notes = append(e.Notes, "group "+g.Group+" has an unknown level: fails closed as not_available")
			}
		}
		e.Winner, e.FromGroups = level, from
		d.Level = level
		f := apply(level, blocked, contains(st.uninstalled, int32(i)), contains(st.installed, int32(i)))
		d.Visible, d.Installed, d.CanInstall, d.CanUninstall = f.visible, f.installed, f.canInstall, f.canUninstall
		e.Overlay = f.overlay
	}
	return res, nil
}

// combine returns the policy level of plugin p for a member with group bits, and whether it
// came from group settings. With a non-nil slab it appends the member's group values, with
// the winners marked.
func (ix *index) combine(p *pluginIx, bits []uint64, slab *[]GroupValue) (Level, bool) {
	base := p.base.Effective()
	if !p.hasGroupSettings {
		return base, false
	}
	start := 0
	if slab != nil {
		start = len(*slab)
	}
	var (
		n        int
		best     Level
		deny     bool
		firstSet = Level(0)
	)
	for _, s := range p.settings {
		if !has(bits, s.group) {
			continue
		}
		l := s.level.Effective()
		if n == 0 {
			firstSet = l
		}
		n++
		if l > best {
			best = l
		}
		if l == LevelNotAvailable {
			deny = true
		}
		if slab != nil {
			*slab = append(*slab, GroupValue{Group: ix.groupIDs[s.group], Level: s.level})
		}
	}
	if n == 0 || !ix.enterprise {
		return base, false
	}
	var win Level
	switch ix.combinator {
	case DenyOverrides:
		win = best
		if deny {
			win = LevelNotAvailable
		}
	case Ranked:
		win = firstSet
	default:
		win = best
	}
	if slab != nil {
		vs := (*slab)[start:]
		for k := range vs {
			if ix.combinator == Ranked {
				vs[k].Winner = k == 0
			} else {
				vs[k].Winner = vs[k].Level.Effective() == win
			}
		}
	}
	return win, true
}

type flags struct {
	visible, installed, canInstall, canUninstall bool
	overlay                                      Overlay
}

// apply adds the prerequisites and the member's own actions to a policy level.
func apply(level Level, blocked Blocker, optedOut, selfInstalled bool) flags {
	var f flags
	if blocked != NotBlocked {
		return f
	}
	switch level {
	case LevelRequired:
		f = flags{visible: true, installed: true}
		if optedOut {
			f.overlay = OverlayOptOutIgnored
		}
	case LevelAutoInstall:
		f = flags{visible: true, installed: !optedOut}
		f.canInstall, f.canUninstall = !f.installed, f.installed
		if optedOut {
			f.overlay = OverlayOptedOut
		}
	case LevelAvailable:
		f = flags{visible: true, installed: selfInstalled}
		f.canInstall, f.canUninstall = !f.installed, f.installed
		switch {
		case selfInstalled:
			f.overlay = OverlaySelfInstalled
		case optedOut:
			f.overlay = OverlayNotApplicable
		}
	default: // not_available, and unknown levels failing closed
		if selfInstalled {
			f.overlay = OverlayInstallRemoved
		}
	}
	return f
}
