package plugins

import (
	"fmt"
	"strings"

	"github.com/coworkgov/cowork/policy"
)

// BaseSource says where a plugin's org-wide level came from. The zero value, [BaseNone],
// means nowhere: the plugin fails closed as not_available.
type BaseSource uint8

// Base sources, in precedence order.
const (
	BaseNone        BaseSource = iota // no setting anywhere: not_available
	BaseOrgSetting                    // an installation setting targeting the organization
	BasePlugin                        // the plugin's own organization_installation_preference
	BaseMarketplace                   // the marketplace's default_installation_preference
)

var baseSourceNames = [...]string{"none", "organization setting", "plugin setting", "marketplace default"}

// String names the source.
func (b BaseSource) String() string {
	if int(b) < len(baseSourceNames) {
		return baseSourceNames[b]
	}
	return "none"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (b BaseSource) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// Blocker says which prerequisite hid every plugin from a member. The zero value,
// [NotBlocked], means none did.
type Blocker uint8

// Blockers.
const (
	NotBlocked      Blocker = iota // Cowork and Skills are on
	BlockedByCowork                // Cowork is off for the member
	BlockedBySkills                // Skills is off for the organization
)

var blockerNames = [...]string{"not blocked", "cowork is off", "skills is off"}

// String describes the blocker.
func (b Blocker) String() string {
	if int(b) < len(blockerNames) {
		return blockerNames[b]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (b Blocker) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// Overlay says how the member's own actions changed the policy result. The zero value,
// [OverlayNone], means they did not.
type Overlay uint8

// Overlays.
const (
	OverlayNone           Overlay = iota // no member action applies
	OverlayOptedOut                      // auto_install, and the member uninstalled it
	OverlaySelfInstalled                 // available, and the member installed it
	OverlayOptOutIgnored                 // the member uninstalled it, but it is required
	OverlayInstallRemoved                // the member installed it, but it is not available: removed
	OverlayNotApplicable                 // a recorded action has no effect at this level
)

var overlayNames = [...]string{"none", "uninstalled by the member", "installed by the member",
	"member's uninstall ignored: required", "member's install removed: not available", "member action has no effect at this level"}

// String describes the overlay.
func (o Overlay) String() string {
	if int(o) < len(overlayNames) {
		return overlayNames[o]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (o Overlay) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// GroupValue is one of the member's groups that holds a setting for a plugin.
type GroupValue struct {
	// Group is the group ID.
	Group string
	// Level is the group's setting as stored (possibly unknown).
	Level Level
	// Winner marks the group(s) whose value the combinator chose.
	Winner bool
}

// Context is what all the decisions of one member share: the revision, the prerequisite
// gates, the member's groups and the combinator. Read only.
type Context struct {
	// Revision is the snapshot revision the decisions came from.
	Revision string
	// Member is the member's ID.
	Member string
	// Cowork and Skills are the prerequisite decisions; plugins need both enabled.
	Cowork, Skills policy.Decision
	// Blocked says whether Cowork or Skills hides every plugin from the member.
	Blocked Blocker
	// Groups lists the member's groups known to the snapshot, sorted.
	Groups []string
	// Combinator is the rule that combines the values of several groups.
	Combinator Combinator
	// Warnings are member-level findings, such as group settings ignored on a Team plan.
	Warnings []string
}

// Explanation says why a member has a plugin's result: the gates and the member's groups
// (through Context), the base level and where it came from, the groups that hold a setting
// with their values, the combinator's winner and the member's own actions.
type Explanation struct {
	// Context is shared by every decision of the member. It is left out of JSON, where the
	// Result carries it once.
	*Context `json:"-"`
	// Base is the org-wide level as stored (possibly unknown).
	Base Level
	// BaseSource says where Base came from.
	BaseSource BaseSource
	// Groups lists the member's groups that hold a setting for the plugin, in ranking order;
	// the member's other groups (Context.Groups) hold none. Shared by the members with the
	// same groups: read only.
	Groups []GroupValue
	// GroupsIgnored is set on Team plans: group settings exist but do not apply.
	GroupsIgnored bool
	// Winner is the policy level before the member's own actions (unknown already mapped to
	// not_available).
	Winner Level
	// FromGroups says whether Winner came from group settings (else from the base).
	FromGroups bool
	// Overlay is the effect of the member's own actions.
	Overlay Overlay
	// Notes are warnings about this decision: unknown levels, ignored settings. Shared:
	// read only.
	Notes []string
}

// Decision is the effective state of one plugin for one member.
type Decision struct {
	// Plugin is the plugin ID; Name its name; Marketplace its marketplace ID.
	Plugin, Name, Marketplace string
	// Level is the effective policy level (after combination, before member actions).
	Level Level
	// Visible: the member sees the plugin. Installed: it is installed for them.
	Visible, Installed bool
	// CanInstall and CanUninstall say what the member may do now.
	CanInstall, CanUninstall bool
	// Editable is always false: members cannot edit organization-managed plugins.
	Editable bool
	// Why explains the decision.
	Why Explanation
}

// String renders the decision and its explanation as indented text.
func (d Decision) String() string {
	var b strings.Builder
	d.write(&b, "")
	return b.String()
}

func yes(b bool, t, f string) string {
	if b {
		return t
	}
	return f
}

func (d Decision) write(b *strings.Builder, indent string) {
	e := &d.Why
	name := d.Plugin
	if d.Name != "" {
		name = d.Name + " (" + d.Plugin + ")"
	}
	fmt.Fprintf(b, "%s%s: %s\n", indent, name, d.Level)
	fmt.Fprintf(b, "%s  state: %s, %s, %s, %s, %s\n", indent,
		yes(d.Visible, "visible", "hidden"), yes(d.Installed, "installed", "not installed"),
		yes(d.CanInstall, "can install", "cannot install"), yes(d.CanUninstall, "can uninstall", "cannot uninstall"),
		yes(d.Editable, "editable", "not editable (org-managed)"))
	ctx := e.Context
	if ctx == nil {
		ctx = &Context{}
	}
	if ctx.Blocked != NotBlocked {
		fmt.Fprintf(b, "%s  gate: %s\n", indent, ctx.Blocked)
	} else {
		fmt.Fprintf(b, "%s  gate: cowork on, skills on\n", indent)
	}
	fmt.Fprintf(b, "%s  base: %s from %s\n", indent, e.Base, e.BaseSource)
	for _, g := range ctx.Groups {
		found := false
		for _, v := range e.Groups {
			if v.Group == g {
				mark := ""
				if v.Winner && e.FromGroups {
					mark = "  <- winner"
				}
				if e.GroupsIgnored {
					mark = "  (ignored: team plan)"
				}
				fmt.Fprintf(b, "%s  group %s: %s%s\n", indent, g, v.Level, mark)
				found = true
			}
		}
		if !found {
			fmt.Fprintf(b, "%s  group %s: no setting\n", indent, g)
		}
	}
	if len(ctx.Groups) == 0 {
		fmt.Fprintf(b, "%s  groups: none\n", indent)
	}
	from := "base"
	if e.FromGroups {
		from = "group settings"
	}
	fmt.Fprintf(b, "%s  combinator: %s -> %s from %s\n", indent, ctx.Combinator, e.Winner, from)
	if e.Overlay != OverlayNone {
		fmt.Fprintf(b, "%s  member: %s\n", indent, e.Overlay)
	}
	for _, n := range e.Notes {
		fmt.Fprintf(b, "%s  warning: %s\n", indent, n)
	}
}
