package plugins

import (
	"fmt"
	"strconv"

	"github.com/coworkgov/cowork/policy"
)

// Validate reports every problem with the snapshot at once: the policy findings of
// [policy.Snapshot.Validate], then marketplaces, plugins, installation settings, the
// combinator and ranking, and member states. It reports missing and duplicate IDs, plugins
// in unknown marketplaces, settings for unknown plugins or dangling group IDs, duplicate
// settings for one target (the most restrictive is used), group settings on a Team plan
// (ignored), unknown levels and target types (fail closed), and more than
// [policy.MaxGroups] groups. Issues carry lines when the snapshot was decoded by [Load].
func (s *Snapshot) Validate() policy.Issues {
	out := s.Snapshot.Validate()
	add := func(sev policy.Severity, path string, err error, format string, args ...any) {
		out = append(out, policy.Issue{Severity: sev, Path: path, Err: err, Message: fmt.Sprintf(format, args...),
			Line: s.src.Line(path)})
	}
	raw := func(path string) string { return s.src[path].Raw }

	if s.Combinator == CombinatorUnknown && raw("combinator") != "" {
		add(policy.SeverityError, "combinator", policy.ErrUnknownValue,
			"unknown combinator %q; use strongest-wins, deny-overrides or ranked (fails closed as deny-overrides)", raw("combinator"))
	}
	if s.Combinator == Ranked && len(s.GroupRanking) == 0 {
		add(policy.SeverityWarning, "group_ranking", policy.ErrMissing, "ranked combinator without a group ranking: groups rank by ID")
	}
	ranked := map[string]bool{}
	for i, g := range s.GroupRanking {
		p := "group_ranking[" + strconv.Itoa(i) + "]"
		if _, ok := s.Snapshot.Group(g); !ok {
			add(policy.SeverityError, p, policy.ErrDanglingGroup, "ranking names unknown group %q", g)
		}
		if ranked[g] {
			add(policy.SeverityWarning, p, policy.ErrDuplicate, "group %q is ranked twice; the first position counts", g)
		}
		ranked[g] = true
	}

	markets := map[string]int{}
	for i, m := range s.Marketplaces {
		p := "marketplaces[" + strconv.Itoa(i) + "]"
		switch _, dup := markets[m.ID]; {
		case m.ID == "":
			add(policy.SeverityError, p+".id", policy.ErrMissing, "marketplace without an id")
		case dup:
			add(policy.SeverityError, p+".id", policy.ErrDuplicate, "marketplace %q is defined twice", m.ID)
		default:
			markets[m.ID] = i
		}
		if l := m.DefaultInstallationPreference; l != nil && !l.Known() {
			add(policy.SeverityError, p+".default_installation_preference", policy.ErrUnknownValue,
				"unknown installation preference %q: fails closed as not_available", raw(p+".default_installation_preference"))
		}
	}

	plugins := map[string]int{}
	for i, pl := range s.Plugins {
		p := "plugins[" + strconv.Itoa(i) + "]"
		switch _, dup := plugins[pl.ID]; {
		case pl.ID == "":
			add(policy.SeverityError, p+".id", policy.ErrMissing, "plugin without an id; it is ignored")
		case dup:
			add(policy.SeverityError, p+".id", policy.ErrDuplicate, "plugin %q is defined twice; the first counts", pl.ID)
		default:
			plugins[pl.ID] = i
		}
		if _, ok := markets[pl.MarketplaceID]; !ok {
			add(policy.SeverityWarning, p+".marketplace_id", ErrUnknownMarketplace, "plugin %q is in unknown marketplace %q", pl.ID, pl.MarketplaceID)
		}
		if l := pl.OrganizationInstallationPreference; l != nil && !l.Known() {
			add(policy.SeverityError, p+".organization_installation_preference", policy.ErrUnknownValue,
				"unknown installation preference %q: fails closed as not_available", raw(p+".organization_installation_preference"))
		}
		if pl.Owner != nil && pl.Owner.Type != "" && pl.Owner.Type != "organization" {
			add(policy.SeverityWarning, p+".owner", policy.ErrUnknownValue, "plugin %q is owned by a member; member plugins have shares, not installation settings", pl.ID)
		}
	}

	type key struct{ plugin, target string }
	seen := map[key]int{}
	orgValue := map[string]Level{}
	groupSettings := 0
	for i, st := range s.InstallationSettings {
		p := "installation_settings[" + strconv.Itoa(i) + "]"
		if _, ok := plugins[st.PluginID]; !ok {
			add(policy.SeverityError, p+".plugin_id", ErrUnknownPlugin, "setting for unknown plugin %q is ignored", st.PluginID)
		}
		if !st.InstallationPreference.Known() {
			r := raw(p + ".installation_preference")
			add(policy.SeverityError, p+".installation_preference", policy.ErrUnknownValue,
				"unknown installation preference %q for %s: fails closed as not_available", r, st.Target)
		}
		switch st.Target.Type {
		case TargetOrganization:
			orgValue[st.PluginID] = st.InstallationPreference
		case TargetRBACGroup:
			groupSettings++
			if _, ok := s.Snapshot.Group(st.Target.RBACGroupID); !ok {
				add(policy.SeverityError, p+".target.rbac_group_id", policy.ErrDanglingGroup,
					"setting for plugin %q targets unknown group %q; it is ignored", st.PluginID, st.Target.RBACGroupID)
			}
			if !s.Snapshot.Plan.Enterprise() {
				add(policy.SeverityWarning, p+".target", policy.ErrPlanFeature,
					"group setting for plugin %q is ignored: group settings need an Enterprise plan", st.PluginID)
			}
		case TargetOrganizationMember:
			add(policy.SeverityWarning, p+".target", policy.ErrUnknownValue, "installation settings cannot target one member; ignored")
		default:
			add(policy.SeverityError, p+".target.type", policy.ErrUnknownValue, "unknown target type %q; the setting is ignored", raw(p+".target.type"))
		}
		k := key{st.PluginID, st.Target.String()}
		if j, dup := seen[k]; dup {
			add(policy.SeverityError, p, policy.ErrDuplicate,
				"plugin %q already has a setting for %s at installation_settings[%d]; the most restrictive is used", st.PluginID, st.Target, j)
		} else {
			seen[k] = i
		}
	}
	for i, pl := range s.Plugins {
		l, ok := orgValue[pl.ID]
		own := pl.OrganizationInstallationPreference
		if ok && own != nil && !pl.OrganizationInstallationPreferenceInherited && *own != l {
			add(policy.SeverityWarning, "plugins["+strconv.Itoa(i)+"].organization_installation_preference", policy.ErrDuplicate,
				"plugin %q says %s but its organization setting says %s; the setting is used", pl.ID, *own, l)
		}
	}

	for i, ms := range s.MemberStates {
		p := "member_states[" + strconv.Itoa(i) + "]"
		if _, ok := s.Snapshot.Member(ms.Member); !ok {
			add(policy.SeverityWarning, p+".member", policy.ErrUnknownMember, "state for unknown member %q", ms.Member)
		}
		for k, id := range ms.Uninstalled {
			if _, ok := plugins[id]; !ok {
				add(policy.SeverityWarning, p+".uninstalled["+strconv.Itoa(k)+"]", ErrUnknownPlugin, "unknown plugin %q", id)
			}
		}
		for k, id := range ms.Installed {
			if _, ok := plugins[id]; !ok {
				add(policy.SeverityWarning, p+".installed["+strconv.Itoa(k)+"]", ErrUnknownPlugin, "unknown plugin %q", id)
			}
		}
	}
	return out
}
