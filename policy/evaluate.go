package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Feature is an org feature that [Snapshot.Access] decides. The zero value, [FeatureUnknown],
// is never enabled.
type Feature uint8

// Features.
const (
	FeatureUnknown Feature = iota // never enabled
	FeatureCowork                 // "cowork": entitlement → org toggle → custom roles → member setting
	FeatureSkills                 // "skills": entitlement → org toggle (an org-level prerequisite of plugins)
)

var featureNames = [...]string{"unknown", "cowork", "skills"}

// String returns "cowork", "skills" or "unknown".
func (f Feature) String() string {
	if int(f) < len(featureNames) {
		return featureNames[f]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (f Feature) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// GateKind names one level of the precedence chain. The zero value, [GateUnknown], is never
// produced.
type GateKind uint8

// Gates, in evaluation order.
const (
	GateUnknown       GateKind = iota
	GateEntitlement            // "entitlement": the platform override
	GateOrgToggle              // "org toggle": the owner's org-wide switch
	GateCustomRoles            // "custom roles": any granting role grants (Enterprise)
	GateMemberSetting          // "member setting": the member's own switch
)

var gateNames = [...]string{"unknown", "entitlement", "org toggle", "custom roles", "member setting"}

// String returns the gate's name.
func (g GateKind) String() string {
	if int(g) < len(gateNames) {
		return gateNames[g]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (g GateKind) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// Outcome is what a gate did. The zero value, [OutcomeUnknown], is never produced.
type Outcome uint8

// Outcomes.
const (
	OutcomeUnknown       Outcome = iota
	OutcomePassed                // the gate let the feature through
	OutcomeStopped               // the gate switched the feature off; later gates are not evaluated
	OutcomeNotApplicable         // the gate does not apply (built-in role, Team plan)
)

var outcomeNames = [...]string{"unknown", "passed", "stopped", "n/a"}

// String returns "passed", "stopped", "n/a" or "unknown".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Gate is one step of a decision.
type Gate struct {
	// Kind names the level.
	Kind GateKind
	// Outcome is what it did.
	Outcome Outcome
	// Reason says why, in words.
	Reason string
	// Roles lists, for [GateCustomRoles], the custom roles that granted the feature.
	Roles []string
}

// String returns "kind: outcome (reason)".
func (g Gate) String() string {
	return fmt.Sprintf("%s: %s (%s)", g.Kind, g.Outcome, g.Reason)
}

// Decision is whether a feature is enabled for a member, with every gate it passed or
// stopped at and the revision of the snapshot it came from.
type Decision struct {
	// Revision is the [Snapshot.Revision] the decision came from.
	Revision string
	// Member is the member's ID.
	Member string
	// Feature is the feature decided.
	Feature Feature
	// Enabled is the result.
	Enabled bool
	// Gates lists the gates evaluated, in order; the last one stopped the feature when
	// Enabled is false.
	Gates []Gate
	// Warnings are findings that affected the decision, such as custom roles ignored on a
	// Team plan.
	Warnings []Issue
}

// StoppedAt returns the gate that switched the feature off, or [GateUnknown] when enabled.
func (d Decision) StoppedAt() GateKind {
	if d.Enabled || len(d.Gates) == 0 {
		return GateUnknown
	}
	return d.Gates[len(d.Gates)-1].Kind
}

// String renders the decision as indented text, one gate per line.
func (d Decision) String() string {
	var b strings.Builder
	state := "enabled"
	if !d.Enabled {
		state = "disabled"
	}
	fmt.Fprintf(&b, "%s for %s: %s (revision %s)\n", d.Feature, d.Member, state, d.Revision)
	for _, g := range d.Gates {
		fmt.Fprintf(&b, "  %-15s %-8s %s\n", g.Kind.String()+":", g.Outcome, g.Reason)
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w.Message)
	}
	return b.String()
}

// Evaluate decides whether Cowork is enabled for the member with the given ID. It is
// [Snapshot.Access] for [FeatureCowork].
func (s *Snapshot) Evaluate(memberID string) (Decision, error) {
	return s.Access(memberID, FeatureCowork)
}

// Access decides whether feature f is enabled for a member. The levels are evaluated in
// order and the first that switches the feature off stops it (most restrictive wins):
//
//  1. entitlement: a platform override forcing the feature off stops it; forcing it on
//     locks the org toggle on;
//  2. org toggle: off stops it (nil means on);
//  3. custom roles (Cowork, Enterprise, members with [RoleCustom] only): passes if any
//     custom role attached to any of the member's groups grants Cowork, else stops;
//     members with built-in roles, and every member on a Team plan, skip this gate;
//  4. member setting (Cowork only): the member's own switch, off stops it.
//
// Skills has only the entitlement and the org toggle. An unknown member returns
// [ErrUnknownMember]. Access is a pure function of the snapshot.
func (s *Snapshot) Access(memberID string, f Feature) (Decision, error) {
	ix := s.index()
	d := Decision{Revision: ix.revision, Member: memberID, Feature: f, Gates: make([]Gate, 0, 4)}
	mi, ok := ix.members[memberID]
	if !ok {
		return d, fmt.Errorf("%w %q", ErrUnknownMember, memberID)
	}
	m := &s.Members[mi]
	var ent, toggle *bool
	switch f {
	case FeatureCowork:
		ent, toggle = s.Entitlements.Cowork, s.Cowork
	case FeatureSkills:
		ent, toggle = s.Entitlements.Skills, s.Skills
	default:
		d.Gates = append(d.Gates, Gate{Kind: GateEntitlement, Outcome: OutcomeStopped, Reason: "unknown feature"})
		return d, nil
	}
	stop := func(g Gate) (Decision, error) {
		g.Outcome = OutcomeStopped
		d.Gates = append(d.Gates, g)
		return d, nil
	}

	forcedOn := false
	switch {
	case ent == nil:
		d.Gates = append(d.Gates, Gate{Kind: GateEntitlement, Outcome: OutcomePassed, Reason: "no platform override"})
	case !*ent:
		return stop(Gate{Kind: GateEntitlement, Reason: "forced off by a platform entitlement"})
	default:
		forcedOn = true
		d.Gates = append(d.Gates, Gate{Kind: GateEntitlement, Outcome: OutcomePassed, Reason: "forced on by a platform entitlement"})
	}

	switch {
	case forcedOn:
		d.Gates = append(d.Gates, Gate{Kind: GateOrgToggle, Outcome: OutcomePassed, Reason: "locked on by the platform entitlement"})
	case toggle == nil:
		d.Gates = append(d.Gates, Gate{Kind: GateOrgToggle, Outcome: OutcomePassed, Reason: "on (default)"})
	case !*toggle:
		return stop(Gate{Kind: GateOrgToggle, Reason: "turned off for the organization"})
	default:
		d.Gates = append(d.Gates, Gate{Kind: GateOrgToggle, Outcome: OutcomePassed, Reason: "turned on for the organization"})
	}

	if f != FeatureCowork {
		d.Enabled = true
		return d, nil
	}

	switch {
	case !s.Plan.Enterprise():
		reason := s.Plan.String() + " plan: access follows the org toggle"
		if s.Plan == PlanUnknown {
			reason = "unknown plan, treated as team: access follows the org toggle"
		}
		d.Gates = append(d.Gates, Gate{Kind: GateCustomRoles, Outcome: OutcomeNotApplicable, Reason: reason})
		if m.Role == RoleCustom || (ix.teamRoles && s.memberHasRoles(m)) {
			d.Warnings = append(d.Warnings, Issue{Severity: SeverityWarning, Path: "roles", Err: ErrPlanFeature,
				Message: "custom roles are set but ignored: per-group access needs an Enterprise plan"})
		}
	case m.Role != RoleCustom:
		role := m.Role.String()
		if m.Role == RoleUnknown {
			role = "unknown role, treated as user,"
		}
		d.Gates = append(d.Gates, Gate{Kind: GateCustomRoles, Outcome: OutcomeNotApplicable, Reason: "built-in role " + role + " follows the org toggle"})
	default:
		var granted []string
		for _, g := range m.Groups {
			for _, r := range ix.coworkRoles[g] {
				granted = appendUnique(granted, r)
			}
		}
		if len(granted) == 0 {
			return stop(Gate{Kind: GateCustomRoles, Reason: "no custom role of the member's groups grants Cowork"})
		}
		slices.Sort(granted)
		d.Gates = append(d.Gates, Gate{Kind: GateCustomRoles, Outcome: OutcomePassed, Roles: granted,
			Reason: "granted by custom role " + strings.Join(granted, ", ")})
	}

	if m.Cowork != nil && !*m.Cowork {
		return stop(Gate{Kind: GateMemberSetting, Reason: "the member turned Cowork off"})
	}
	reason := "on (default)"
	if m.Cowork != nil {
		reason = "on"
	}
	d.Gates = append(d.Gates, Gate{Kind: GateMemberSetting, Outcome: OutcomePassed, Reason: reason})
	d.Enabled = true
	return d, nil
}

func (s *Snapshot) memberHasRoles(m *Member) bool {
	for _, r := range s.Roles {
		for _, g := range r.Groups {
			for _, mg := range m.Groups {
				if g == mg {
					return true
				}
			}
		}
	}
	return false
}
