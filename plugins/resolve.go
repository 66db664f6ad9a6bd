package plugins

import (
	"fmt"
	"strings"

	"github.com/coworkgov/cowork/policy"
)

// Result is every plugin's state for one member. The embedded [Context] (revision, gates,
// groups, combinator, warnings) is shared with every decision's explanation. Explanations
// also share read-only data with the snapshot: notes, the member's group IDs, and the group
// values of members with the same groups.
type Result struct {
	*Context
	// Plugins holds one decision per plugin, in plugin ID order.
	Plugins []Decision

	slab    []GroupValue // backing store of the explanations' Groups
	scratch []int32      // ResolveInto's offsets, for plugin counts beyond the stack buffer
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
	var res Result
	err := resolve(&res, s, memberID, false)
	return res, err
}

// ResolveInto is [Resolve] writing into dst and reusing its memory (decisions, group values,
// scratch space), for callers that resolve many members in a loop. Everything dst held
// before, including explanations and the Context, is overwritten: do not keep references
// into a Result you pass here. A zero Result is a valid dst.
func ResolveInto(dst *Result, s *Snapshot, memberID string) error {
	return resolve(dst, s, memberID, true)
}

// resolve fills res. With reuse it takes its memory from res and keeps its scratch space
// there; without, it allocates exactly what the result needs: the Context, one slice of
// decisions and one slab of group values (scratch space lives on the stack).
func resolve(res *Result, s *Snapshot, memberID string, reuse bool) error {
	ix := s.index()
	pol := &s.Snapshot
	ctx := res.Context
	if ctx == nil {
		ctx = &Context{}
	}
	*ctx = Context{Revision: ix.revision, Member: memberID, Combinator: ix.combinator, Warnings: ctx.Warnings[:0]}
	res.Context = ctx
	cow, err := pol.Access(memberID, policy.FeatureCowork)
	if err != nil {
		res.Plugins = res.Plugins[:0]
		return err
	}
	sk, _ := pol.Access(memberID, policy.FeatureSkills)
	cow.Revision, sk.Revision = ix.revision, ix.revision
	ctx.Cowork, ctx.Skills = cow, sk
	mi, _ := pol.MemberIndex(memberID)
	ranked, groups := ix.groupsOf(mi)
	ctx.Groups = groups
	blocked := NotBlocked
	switch {
	case !cow.Enabled:
		blocked = BlockedByCowork
	case !sk.Enabled:
		blocked = BlockedBySkills
	}
	ctx.Blocked = blocked
	if ix.combNote != "" {
		ctx.Warnings = append(ctx.Warnings, ix.combNote)
	}
	var uninstalled, installed []int32
	if st := ix.states[memberID]; st != nil {
		uninstalled, installed = st.uninstalled, st.installed
	}

	// The group values of every plugin, in ranking order per plugin with the winners
	// marked: plugin i's are slab[offs[i]:offs[i+1]]. Members with the same groups share
	// them; a member alone in its group set gets its own slab.
	np := len(ix.plugins)
	var offs []int32
	var slab []GroupValue
	var stack [2*256 + 1]int32
	if gl := ix.sharedLists(ix.memberSet[mi]); gl != nil {
		offs, slab = gl.offs, gl.values
	} else {
		var scratch []int32
		switch n := 2*np + 1; {
		case n <= len(stack):
			scratch = stack[:n]
		case reuse:
			res.scratch = grow(res.scratch, n)
			scratch = res.scratch
		default:
			scratch = make([]int32, n)
		}
		offs = scratch[:np+1]
		n := ix.count(ranked, offs)
		if reuse {
			slab = grow(res.slab, n)
			res.slab = slab
		} else if n > 0 {
			slab = make([]GroupValue, n)
		}
		ix.fill(ranked, offs, scratch[np+1:], slab)
	}

	// Reused decisions start as a copy of the index's per-plugin template (IDs, base,
	// notes); fresh ones are zero, and get only their non-zero fields, which spares the
	// garbage collector's write barrier the nil pointers. Then what depends on the member.
	var decs []Decision
	if reuse {
		decs = grow(res.Plugins, np)
		copy(decs, ix.decisions)
	} else {
		decs = make([]Decision, np)
	}
	res.Plugins = decs
	ignoredWarned := false
	for i := range ix.plugins {
		p := &ix.plugins[i]
		d := &decs[i]
		e := &d.Why
		if !reuse {
			d.Plugin, d.Name, d.Marketplace = p.id, p.name, p.marketplace
			e.Base, e.BaseSource = p.base, p.baseSource
			if p.notes != nil {
				e.Notes = p.notes
			}
		}
		e.Context = ctx
		level := p.base.Effective()
		if lo, hi := offs[i], offs[i+1]; lo < hi {
			vals := slab[lo:hi:hi]
			e.Groups = vals
			if !ix.enterprise {
				e.GroupsIgnored, e.Notes = true, p.notesIgnored
				if !ignoredWarned {
					ctx.Warnings = append(ctx.Warnings, noteGroupsIgnored)
					ignoredWarned = true
				}
			} else {
				level, e.FromGroups = ix.combine(vals), true
				for k := 0; ix.unknownGroupLevels && k < len(vals); k++ {
					if !vals[k].Level.Known() {
						// p.notes is shared and capped: appending copies.
						e.Notes = append(e.Notes, "group "+vals[k].Group+" has an unknown level: fails closed as not_available")
					}
				}
			}
		}
		for len(uninstalled) > 0 && uninstalled[0] < int32(i) {
			uninstalled = uninstalled[1:]
		}
		for len(installed) > 0 && installed[0] < int32(i) {
			installed = installed[1:]
		}
		optedOut := len(uninstalled) > 0 && uninstalled[0] == int32(i)
		selfInstalled := len(installed) > 0 && installed[0] == int32(i)
		var f flags
		if blocked == NotBlocked {
			f = overlays[level&7][b2i(optedOut)][b2i(selfInstalled)]
		}
		d.Level, e.Winner, e.Overlay = level, level, f.overlay
		d.Visible, d.Installed, d.CanInstall, d.CanUninstall = f.visible, f.installed, f.canInstall, f.canUninstall
	}
	if len(ctx.Warnings) == 0 {
		ctx.Warnings = nil // as a fresh Resolve has it
	}
	return nil
}

// noteGroupsIgnored is the warning for group settings on a Team plan.
const noteGroupsIgnored = "group settings are ignored: they need an Enterprise plan"

// grow returns xs resliced to n elements, reallocating only when its capacity is too small.
func grow[T any](xs []T, n int) []T {
	if cap(xs) < n {
		return make([]T, n)
	}
	return xs[:n]
}

type flags struct {
	visible, installed, canInstall, canUninstall bool
	overlay                                      Overlay
}

// overlays is [apply] for every level and member action when nothing is blocked.
var overlays = func() (t [8][2][2]flags) {
	for l := range t {
		for o := range 2 {
			for s := range 2 {
				t[l][o][s] = apply(Level(l), NotBlocked, o == 1, s == 1)
			}
		}
	}
	return t
}()

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
