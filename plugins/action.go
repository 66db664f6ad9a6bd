package plugins

import (
	"fmt"
	"slices"

	"github.com/coworkgov/cowork/policy"
)

// Action is a member action on a plugin. The zero value, [ActionUnknown], is never produced.
type Action uint8

// Actions.
const (
	ActionUnknown   Action = iota
	ActionInstall          // "install"
	ActionUninstall        // "uninstall"
	ActionEdit             // "edit"
)

var actionNames = [...]string{"unknown", "install", "uninstall", "edit"}

// String returns the action's name.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// ActionError reports a member action the policy forbids. It unwraps to one of
// [ErrRequired], [ErrHidden], [ErrCoworkOff], [ErrSkillsOff], [ErrOrgManaged],
// [ErrUnknownPlugin] or [policy.ErrUnknownMember].
type ActionError struct {
	// Action is what the member tried.
	Action Action
	// Member and Plugin are the IDs involved.
	Member, Plugin string
	// Level is the plugin's effective level for the member, when known.
	Level Level
	// Err is the sentinel.
	Err error
}

// Error describes the refusal.
func (e *ActionError) Error() string {
	return fmt.Sprintf("%s %s for %s: %v (level %s)", e.Action, e.Plugin, e.Member, e.Err, e.Level)
}

// Unwrap returns the sentinel.
func (e *ActionError) Unwrap() error { return e.Err }

// Install returns the member's state after installing a plugin themselves. Installing an
// auto_install plugin the member had uninstalled reinstalls it; installing an available
// plugin records the install; installing what is already installed changes nothing. It
// refuses, with an [*ActionError], when Cowork or Skills is off, or the plugin is hidden.
// The snapshot is not modified: store the returned state in a new snapshot.
func (s *Snapshot) Install(memberID, pluginID string) (MemberState, error) {
	return s.act(ActionInstall, memberID, pluginID)
}

// Uninstall returns the member's state after uninstalling a plugin. Uninstalling an
// auto_install plugin records the opt-out; uninstalling a self-installed available plugin
// removes the install; uninstalling what is not installed changes nothing. It refuses when
// the plugin is required, hidden, or Cowork or Skills is off.
func (s *Snapshot) Uninstall(memberID, pluginID string) (MemberState, error) {
	return s.act(ActionUninstall, memberID, pluginID)
}

// Edit always refuses with [ErrOrgManaged] for an existing plugin: members cannot edit
// organization-managed plugins.
func (s *Snapshot) Edit(memberID, pluginID string) error {
	_, err := s.act(ActionEdit, memberID, pluginID)
	return err
}

// State returns the recorded state of a member (empty when none is recorded).
func (s *Snapshot) State(memberID string) MemberState {
	out := MemberState{Member: memberID}
	for _, ms := range s.MemberStates {
		if ms.Member == memberID {
			out.Installed = append(out.Installed, ms.Installed...)
			out.Uninstalled = append(out.Uninstalled, ms.Uninstalled...)
		}
	}
	return out
}

func (s *Snapshot) act(a Action, memberID, pluginID string) (MemberState, error) {
	ix := s.index()
	fail := func(err error, l Level) (MemberState, error) {
		return s.State(memberID), &ActionError{Action: a, Member: memberID, Plugin: pluginID, Level: l, Err: err}
	}
	_, ok := s.Snapshot.Member(memberID)
	if !ok {
		return fail(policy.ErrUnknownMember, LevelUnknown)
	}
	pi, ok := ix.pluginPos[pluginID]
	if !ok {
		return fail(ErrUnknownPlugin, LevelUnknown)
	}
	mi, _ := s.Snapshot.MemberIndex(memberID)
	aggs := make([]agg, len(ix.plugins))
	ix.aggregate(mi, aggs)
	level, _ := ix.level(&ix.plugins[pi], aggs[pi])
	if a == ActionEdit {
		return fail(ErrOrgManaged, level)
	}
	if d, _ := s.Snapshot.Evaluate(memberID); !d.Enabled {
		return fail(ErrCoworkOff, level)
	}
	if d, _ := s.Snapshot.Access(memberID, policy.FeatureSkills); !d.Enabled {
		return fail(ErrSkillsOff, level)
	}
	st := s.State(memberID)
	switch level {
	case LevelRequired:
		if a == ActionUninstall {
			return fail(ErrRequired, level)
		}
	case LevelAutoInstall:
		if a == ActionInstall {
			st.Uninstalled = remove(st.Uninstalled, pluginID)
		} else if !slices.Contains(st.Uninstalled, pluginID) {
			st.Uninstalled = append(st.Uninstalled, pluginID)
		}
	case LevelAvailable:
		if a == ActionInstall {
			if !slices.Contains(st.Installed, pluginID) {
				st.Installed = append(st.Installed, pluginID)
			}
		} else {
			st.Installed = remove(st.Installed, pluginID)
		}
	default:
		return fail(ErrHidden, level)
	}
	return st, nil
}

func remove(xs []string, x string) []string {
	return slices.DeleteFunc(xs, func(y string) bool { return y == x })
}
