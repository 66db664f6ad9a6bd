package plugins_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

func TestActions(t *testing.T) {
	s := loadAcme(t)
	tests := []struct {
		name           string
		action         plugins.Action
		member, plugin string
		err            error
		installed      []string
		uninstalled    []string
	}{
		{name: "uninstall a required plugin", action: plugins.ActionUninstall, member: "user_alice", plugin: "plugin_security_baseline", err: plugins.ErrRequired},
		{name: "install a hidden plugin", action: plugins.ActionInstall, member: "user_alice", plugin: "plugin_sales_toolkit", err: plugins.ErrHidden},
		{name: "uninstall a hidden plugin", action: plugins.ActionUninstall, member: "user_bob", plugin: "plugin_security_baseline", err: plugins.ErrHidden},
		{name: "install an unknown-level plugin", action: plugins.ActionInstall, member: "user_alice", plugin: "plugin_beta_notes", err: plugins.ErrHidden},
		{name: "act while Cowork is off (member setting)", action: plugins.ActionInstall, member: "user_dave", plugin: "plugin_lint", err: plugins.ErrCoworkOff},
		{name: "act while Cowork is off (no granting role)", action: plugins.ActionUninstall, member: "user_carol", plugin: "plugin_lint", err: plugins.ErrCoworkOff},
		{name: "edit an org-managed plugin", action: plugins.ActionEdit, member: "user_alice", plugin: "plugin_lint", err: plugins.ErrOrgManaged},
		{name: "unknown plugin", action: plugins.ActionInstall, member: "user_alice", plugin: "plugin_nope", err: plugins.ErrUnknownPlugin},
		{name: "unknown member", action: plugins.ActionInstall, member: "user_nobody", plugin: "plugin_lint", err: policy.ErrUnknownMember},
		{name: "reinstall an auto_install plugin after opting out", action: plugins.ActionInstall, member: "user_alice", plugin: "plugin_lint"},
		{name: "uninstall an auto_install plugin", action: plugins.ActionUninstall, member: "user_erin", plugin: "plugin_lint", uninstalled: []string{"plugin_lint"}},
		{name: "uninstall twice changes nothing", action: plugins.ActionUninstall, member: "user_alice", plugin: "plugin_lint", uninstalled: []string{"plugin_lint"}},
		{name: "install an available plugin", action: plugins.ActionInstall, member: "user_alice", plugin: "plugin_deploy_tools", err: plugins.ErrUnknownPlugin},
		{name: "install a required plugin changes nothing", action: plugins.ActionInstall, member: "user_erin", plugin: "plugin_deploy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				st  plugins.MemberState
				err error
			)
			switch tt.action {
			case plugins.ActionInstall:
				st, err = s.Install(tt.member, tt.plugin)
			case plugins.ActionUninstall:
				st, err = s.Uninstall(tt.member, tt.plugin)
			case plugins.ActionEdit:
				err = s.Edit(tt.member, tt.plugin)
			}
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				var ae *plugins.ActionError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.action, ae.Action)
				assert.Equal(t, tt.plugin, ae.Plugin)
				return
			}
			require.NoError(t, err)
			if tt.action != plugins.ActionEdit {
				assert.Equal(t, tt.member, st.Member)
				assert.ElementsMatch(t, tt.installed, st.Installed)
				assert.ElementsMatch(t, tt.uninstalled, st.Uninstalled)
			}
		})
	}
}

func TestActionsSkillsOff(t *testing.T) {
	s := one(plugins.Lvl(avail), nil)
	s.Skills = policy.Bool(false)
	_, err := s.Install("m", "p")
	assert.ErrorIs(t, err, plugins.ErrSkillsOff)
	_, err = s.Uninstall("m", "p")
	assert.ErrorIs(t, err, plugins.ErrSkillsOff)
}

// TestActionsRoundTrip installs and uninstalls an available plugin, feeding the returned
// state back into the snapshot, and checks Resolve agrees at each step.
func TestActionsRoundTrip(t *testing.T) {
	s := one(plugins.Lvl(avail), nil)
	d := decide(t, s, "m", "p")
	require.True(t, d.CanInstall)

	st, err := s.Install("m", "p")
	require.NoError(t, err)
	assert.Equal(t, []string{"p"}, st.Installed)
	s2 := s.Clone()
	s2.MemberStates = []plugins.MemberState{st}
	d = decide(t, s2, "m", "p")
	assert.True(t, d.Installed && d.CanUninstall)

	st, err = s2.Uninstall("m", "p")
	require.NoError(t, err)
	assert.Empty(t, st.Installed)
	s3 := s2.Clone()
	s3.MemberStates = []plugins.MemberState{st}
	d = decide(t, s3, "m", "p")
	assert.False(t, d.Installed)
	assert.True(t, d.CanInstall)
	// The original snapshot is untouched.
	assert.Empty(t, s.MemberStates)
}

func TestActionErrorMessage(t *testing.T) {
	err := &plugins.ActionError{Action: plugins.ActionUninstall, Member: "m", Plugin: "p", Level: req, Err: plugins.ErrRequired}
	assert.Equal(t, "uninstall p for m: plugins: plugin is required (level required)", err.Error())
	assert.True(t, errors.Is(err, plugins.ErrRequired))
}
