package plugins_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

func TestDiffKinds(t *testing.T) {
	tests := []struct {
		name     string
		old, new plugins.Level
		state    *plugins.MemberState
		kinds    []plugins.ChangeKind
	}{
		{name: "hidden -> available", old: hide, new: avail, kinds: []plugins.ChangeKind{plugins.ChangeGained}},
		{name: "hidden -> required", old: hide, new: req, kinds: []plugins.ChangeKind{plugins.ChangeGained, plugins.ChangeForceInstalled}},
		{name: "available -> auto_install", old: avail, new: auto, kinds: []plugins.ChangeKind{plugins.ChangeForceInstalled}},
		{name: "auto_install -> required", old: auto, new: req, kinds: []plugins.ChangeKind{plugins.ChangeLockedIn}},
		{name: "required -> auto_install", old: req, new: auto, kinds: []plugins.ChangeKind{plugins.ChangeUnlocked}},
		{name: "auto_install -> available", old: auto, new: avail, kinds: []plugins.ChangeKind{plugins.ChangeRemoved}},
		{name: "required -> hidden", old: req, new: hide, kinds: []plugins.ChangeKind{plugins.ChangeLost}},
		{name: "available -> hidden", old: avail, new: hide, kinds: []plugins.ChangeKind{plugins.ChangeLost}},
		{name: "opted out: auto_install -> required", old: auto, new: req, state: &plugins.MemberState{Member: "m", Uninstalled: []string{"p"}},
			kinds: []plugins.ChangeKind{plugins.ChangeForceInstalled}},
		{name: "self-installed: available -> auto_install changes nothing", old: avail, new: auto, state: &plugins.MemberState{Member: "m", Installed: []string{"p"}}},
		{name: "unknown level is hidden", old: avail, new: unk, kinds: []plugins.ChangeKind{plugins.ChangeLost}},
		{name: "no change", old: auto, new: auto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := one(plugins.Lvl(tt.old), nil), one(plugins.Lvl(tt.new), nil)
			if tt.state != nil {
				a.MemberStates = []plugins.MemberState{*tt.state}
				b.MemberStates = []plugins.MemberState{*tt.state}
			}
			d := plugins.Diff(a, b, nil)
			var kinds []plugins.ChangeKind
			for _, m := range d.Members {
				for _, c := range m.Changes {
					kinds = append(kinds, c.Kind)
					assert.Equal(t, "p", c.Plugin)
				}
			}
			assert.Equal(t, tt.kinds, kinds, d.String())
			assert.Equal(t, a.Revision(), d.OldRevision)
			assert.Equal(t, b.Revision(), d.NewRevision)
		})
	}
}

func TestDiffAcme(t *testing.T) {
	old := loadAcme(t)
	// The change under review: make lint required, show sales-toolkit to engineering too,
	// and switch Cowork off for design's custom role (carol was already off).
	nw := old.Clone()
	for i := range nw.InstallationSettings {
		if nw.InstallationSettings[i].PluginID == "plugin_lint" {
			nw.InstallationSettings[i].InstallationPreference = req
		}
	}
	nw.InstallationSettings = append(nw.InstallationSettings, groupSetting("plugin_sales_toolkit", "rbac_group_eng", avail))
	nw.Members[3].Cowork = nil // dave turns Cowork back on

	d := plugins.Diff(old, nw, nil)
	t.Log(d.String())
	byMember := map[string][]plugins.ChangeKind{}
	for _, m := range d.Members {
		for _, c := range m.Changes {
			byMember[m.Member] = append(byMember[m.Member], c.Kind)
		}
	}
	assert.Equal(t, []plugins.ChangeKind{plugins.ChangeForceInstalled, plugins.ChangeGained}, byMember["user_alice"], "lint re-installed, sales-toolkit visible")
	assert.Equal(t, []plugins.ChangeKind{plugins.ChangeLockedIn}, byMember["user_bob"])
	assert.Equal(t, []plugins.ChangeKind{plugins.ChangeLockedIn}, byMember["user_erin"], "erin already has sales-toolkit")
	assert.Equal(t, []plugins.ChangeKind{plugins.ChangeGained, plugins.ChangeGained, plugins.ChangeForceInstalled,
		plugins.ChangeGained, plugins.ChangeForceInstalled}, byMember["user_dave"], "cowork back on: deploy, lint and security-baseline")
	assert.Empty(t, byMember["user_carol"])
	assert.Equal(t, 5, d.Totals.Members)
	assert.Equal(t, 4, d.Totals.Affected)
	assert.Equal(t, 1, d.Totals.CoworkGained)
	assert.Equal(t, 2, d.Totals.ByKind[plugins.ChangeLockedIn])

	// Restricting to some members.
	d = plugins.Diff(old, nw, []string{"user_bob", "user_carol"})
	assert.Equal(t, 2, d.Totals.Members)
	assert.Equal(t, 1, d.Totals.Affected)
}

func TestDiffMembersAndPluginsOnOneSide(t *testing.T) {
	a := one(plugins.Lvl(auto), nil)
	b := one(plugins.Lvl(auto), nil)
	b.Members = append(b.Members, policy.Member{ID: "newcomer", Role: policy.RoleUser})
	b.Plugins = append(b.Plugins, plugins.Plugin{ID: "q", MarketplaceID: "mk"})
	d := plugins.Diff(a, b, nil)
	require.Len(t, d.Members, 2)
	assert.Equal(t, "m", d.Members[0].Member)
	assert.Equal(t, []plugins.Change{{Plugin: "q", Kind: plugins.ChangeGained, Old: plugins.LevelUnknown, New: auto},
		{Plugin: "q", Kind: plugins.ChangeForceInstalled, Old: plugins.LevelUnknown, New: auto}}, d.Members[0].Changes)
	assert.Equal(t, "newcomer", d.Members[1].Member)
	assert.True(t, d.Members[1].CoworkAfter)
	assert.False(t, d.Members[1].CoworkBefore)
	assert.Len(t, d.Members[1].Changes, 4)

	rev := plugins.Diff(b, a, nil)
	assert.Equal(t, 1, rev.Totals.CoworkLost)
}
