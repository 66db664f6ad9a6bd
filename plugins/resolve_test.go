package plugins_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

const (
	req   = plugins.LevelRequired
	auto  = plugins.LevelAutoInstall
	avail = plugins.LevelAvailable
	hide  = plugins.LevelNotAvailable
	unk   = plugins.LevelUnknown
)

func loadAcme(t testing.TB) *plugins.Snapshot {
	t.Helper()
	b, err := os.ReadFile("testdata/acme.yaml")
	require.NoError(t, err)
	s, err := plugins.Load(b)
	require.NoError(t, err)
	return s
}

func groupSetting(plugin, group string, l plugins.Level) plugins.InstallationSetting {
	return plugins.InstallationSetting{PluginID: plugin, InstallationPreference: l,
		Target: plugins.Target{Type: plugins.TargetRBACGroup, RBACGroupID: group}}
}

func orgSetting(plugin string, l plugins.Level) plugins.InstallationSetting {
	return plugins.InstallationSetting{PluginID: plugin, InstallationPreference: l, Target: plugins.Target{Type: plugins.TargetOrganization}}
}

// one builds an Enterprise snapshot with groups g1..g3, one marketplace with the given
// default, one plugin "p" and one member "m" (built-in user role) in the given groups.
func one(marketDefault *plugins.Level, groups []string, settings ...plugins.InstallationSetting) *plugins.Snapshot {
	s := &plugins.Snapshot{}
	s.Plan = policy.PlanEnterprise
	s.Groups = []policy.Group{{ID: "g1"}, {ID: "g2"}, {ID: "g3"}}
	s.Members = []policy.Member{{ID: "m", Role: policy.RoleUser, Groups: groups}}
	s.Marketplaces = []plugins.Marketplace{{ID: "mk", DefaultInstallationPreference: marketDefault}}
	s.Plugins = []plugins.Plugin{{ID: "p", Name: "p", MarketplaceID: "mk"}}
	s.InstallationSettings = settings
	return s
}

func decide(t *testing.T, s *plugins.Snapshot, member, plugin string) *plugins.Decision {
	t.Helper()
	r, err := plugins.Resolve(s, member)
	require.NoError(t, err)
	d, ok := r.Plugin(plugin)
	require.True(t, ok)
	assert.Equal(t, s.Revision(), d.Why.Context.Revision)
	assert.False(t, d.Editable, "org-managed plugins are never editable")
	return d
}

func TestResolveBase(t *testing.T) {
	tests := []struct {
		name   string
		market *plugins.Level
		plugin func(*plugins.Plugin)
		org    []plugins.InstallationSetting
		want   plugins.Level
		source plugins.BaseSource
		notes  bool
	}{
		{name: "marketplace default", market: plugins.Lvl(auto), want: auto, source: plugins.BaseMarketplace},
		{name: "plugin's own setting beats the marketplace",
			market: plugins.Lvl(auto), plugin: func(p *plugins.Plugin) { p.OrganizationInstallationPreference = plugins.Lvl(req) },
			want: req, source: plugins.BasePlugin},
		{name: "inherited value on the plugin defers to the marketplace",
			market: plugins.Lvl(avail), plugin: func(p *plugins.Plugin) {
				p.OrganizationInstallationPreference, p.OrganizationInstallationPreferenceInherited = plugins.Lvl(req), true
			}, want: avail, source: plugins.BaseMarketplace},
		{name: "organization setting beats the plugin field",
			market: plugins.Lvl(avail), plugin: func(p *plugins.Plugin) { p.OrganizationInstallationPreference = plugins.Lvl(req) },
			org: []plugins.InstallationSetting{orgSetting("p", hide)}, want: hide, source: plugins.BaseOrgSetting},
		{name: "no setting anywhere fails closed", want: hide, source: plugins.BaseNone, notes: true},
		{name: "missing marketplace uses the inherited value reported on the plugin",
			plugin: func(p *plugins.Plugin) {
				p.MarketplaceID = "gone"
				p.OrganizationInstallationPreference, p.OrganizationInstallationPreferenceInherited = plugins.Lvl(auto), true
			}, want: auto, source: plugins.BaseMarketplace, notes: true},
		{name: "unknown marketplace default fails closed", market: plugins.Lvl(unk), want: hide, source: plugins.BaseMarketplace, notes: true},
		{name: "unknown organization setting fails closed", market: plugins.Lvl(req),
			org: []plugins.InstallationSetting{orgSetting("p", unk)}, want: hide, source: plugins.BaseOrgSetting, notes: true},
		{name: "duplicate organization settings keep the most restrictive", market: plugins.Lvl(avail),
			org: []plugins.InstallationSetting{orgSetting("p", req), orgSetting("p", avail)}, want: avail, source: plugins.BaseOrgSetting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := one(tt.market, nil, tt.org...)
			if tt.plugin != nil {
				tt.plugin(&s.Plugins[0])
			}
			d := decide(t, s, "m", "p")
			assert.Equal(t, tt.want, d.Level, d.String())
			assert.Equal(t, tt.source, d.Why.BaseSource)
			assert.False(t, d.Why.FromGroups)
			assert.Equal(t, tt.notes, len(d.Why.Notes) > 0, d.String())
		})
	}
}

// TestResolveCombinators covers every combinator on the conflicts that matter.
func TestResolveCombinators(t *testing.T) {
	tests := []struct {
		name     string
		base     plugins.Level
		groups   map[string]plugins.Level // group -> setting (member is in g1, g2, g3)
		ranking  []string
		strong   plugins.Level
		deny     plugins.Level
		ranked   plugins.Level
		fromBase bool
	}{
		{name: "no group settings: base", base: auto, strong: auto, deny: auto, ranked: auto, fromBase: true},
		{name: "one group widens", base: hide, groups: map[string]plugins.Level{"g2": auto}, strong: auto, deny: auto, ranked: auto},
		{name: "one group narrows", base: req, groups: map[string]plugins.Level{"g2": hide}, strong: hide, deny: hide, ranked: hide},
		{name: "required vs not_available", base: avail, groups: map[string]plugins.Level{"g1": req, "g2": hide}, strong: req, deny: hide, ranked: req},
		{name: "available vs not_available", base: avail, groups: map[string]plugins.Level{"g1": avail, "g2": hide}, strong: avail, deny: hide, ranked: avail},
		{name: "auto_install vs available", base: hide, groups: map[string]plugins.Level{"g1": auto, "g2": avail}, strong: auto, deny: auto, ranked: auto},
		{name: "ranking decides", base: hide, groups: map[string]plugins.Level{"g1": req, "g3": avail}, ranking: []string{"g3", "g1"},
			strong: req, deny: req, ranked: avail},
		{name: "unranked groups follow in ID order", base: hide, groups: map[string]plugins.Level{"g2": auto, "g3": req}, ranking: []string{"g1"},
			strong: req, deny: req, ranked: auto},
		{name: "unknown group level fails closed", base: req, groups: map[string]plugins.Level{"g1": unk}, strong: hide, deny: hide, ranked: hide},
		{name: "unknown level loses to a real grant under strongest-wins", base: hide, groups: map[string]plugins.Level{"g1": unk, "g2": avail},
			strong: avail, deny: hide, ranked: hide},
	}
	for _, tt := range tests {
		for _, c := range []plugins.Combinator{plugins.CombinatorUnknown, plugins.StrongestWins, plugins.DenyOverrides, plugins.Ranked} {
			t.Run(tt.name+"/"+c.String(), func(t *testing.T) {
				var settings []plugins.InstallationSetting
				for g, l := range tt.groups {
					settings = append(settings, groupSetting("p", g, l))
				}
				s := one(plugins.Lvl(tt.base), []string{"g1", "g2", "g3"}, settings...)
				s.Combinator, s.GroupRanking = c, tt.ranking
				d := decide(t, s, "m", "p")
				want := map[plugins.Combinator]plugins.Level{plugins.CombinatorUnknown: tt.strong, plugins.StrongestWins: tt.strong,
					plugins.DenyOverrides: tt.deny, plugins.Ranked: tt.ranked}[c]
				assert.Equal(t, want, d.Level, d.String())
				assert.Equal(t, !tt.fromBase, d.Why.FromGroups)
				assert.Len(t, d.Why.Groups, len(tt.groups))
				if c == plugins.CombinatorUnknown {
					assert.Equal(t, plugins.StrongestWins, d.Why.Context.Combinator, "the default combinator is strongest-wins")
				} else {
					assert.Equal(t, c, d.Why.Context.Combinator)
				}
				winners := 0
				for _, g := range d.Why.Groups {
					if g.Winner {
						winners++
						assert.Equal(t, d.Level, g.Level.Effective(), "a winner holds the winning value")
					}
				}
				if !tt.fromBase {
					assert.Positive(t, winners, d.String())
				}
			})
		}
	}
}

func TestResolveUnknownCombinatorFailsClosed(t *testing.T) {
	s, err := plugins.Load([]byte(`plan: enterprise
groups: [{id: g1}, {id: g2}]
members: [{id: m, role: user, groups: [g1, g2]}]
combinator: majority-vote
marketplaces: [{id: mk, default_installation_preference: available}]
plugins: [{id: p, marketplace_id: mk}]
installation_settings:
  - {plugin_id: p, installation_preference: required, target: {type: rbac_group, rbac_group_id: g1}}
  - {plugin_id: p, installation_preference: not_available, target: {type: rbac_group, rbac_group_id: g2}}
`))
	require.NoError(t, err)
	r, err := plugins.Resolve(s, "m")
	require.NoError(t, err)
	assert.Equal(t, plugins.DenyOverrides, r.Combinator)
	assert.Equal(t, hide, r.Plugins[0].Level)
	require.NotEmpty(t, r.Warnings)
	assert.ErrorIs(t, s.Validate().Err(), policy.ErrUnknownValue)
}

func TestResolveTeamPlanIgnoresGroups(t *testing.T) {
	s := one(plugins.Lvl(avail), []string{"g1"}, groupSetting("p", "g1", hide))
	s.Plan = policy.PlanTeam
	r, err := plugins.Resolve(s, "m")
	require.NoError(t, err)
	d := r.Plugins[0]
	assert.Equal(t, avail, d.Level)
	assert.True(t, d.Why.GroupsIgnored)
	assert.False(t, d.Why.FromGroups)
	assert.NotEmpty(t, d.Why.Notes)
	assert.NotEmpty(t, r.Warnings)
	assert.Contains(t, d.String(), "(ignored: team plan)")
	assert.ErrorIs(t, warningsOf(s.Validate()), policy.ErrPlanFeature)
}

func warningsOf(is policy.Issues) error {
	var out policy.Issues
	for _, i := range is {
		i.Severity = policy.SeverityError
		out = append(out, i)
	}
	return out.Err()
}

// TestResolveMemberOverlay checks what members see and may do at each level, with and without
// their own actions.
func TestResolveMemberOverlay(t *testing.T) {
	tests := []struct {
		level                                   plugins.Level
		uninstalled, installed                  bool
		visible, inst, canInstall, canUninstall bool
		overlay                                 plugins.Overlay
	}{
		{level: req, visible: true, inst: true},
		{level: req, uninstalled: true, visible: true, inst: true, overlay: plugins.OverlayOptOutIgnored},
		{level: auto, visible: true, inst: true, canUninstall: true},
		{level: auto, uninstalled: true, visible: true, canInstall: true, overlay: plugins.OverlayOptedOut},
		{level: avail, visible: true, canInstall: true},
		{level: avail, installed: true, visible: true, inst: true, canUninstall: true, overlay: plugins.OverlaySelfInstalled},
		{level: avail, uninstalled: true, visible: true, canInstall: true, overlay: plugins.OverlayNotApplicable},
		{level: hide},
		{level: hide, installed: true, overlay: plugins.OverlayInstallRemoved},
		{level: unk, installed: true, overlay: plugins.OverlayInstallRemoved},
	}
	for _, tt := range tests {
		name := tt.level.String()
		if tt.uninstalled {
			name += "/uninstalled"
		}
		if tt.installed {
			name += "/installed"
		}
		t.Run(name, func(t *testing.T) {
			s := one(plugins.Lvl(tt.level), nil)
			ms := plugins.MemberState{Member: "m"}
			if tt.uninstalled {
				ms.Uninstalled = []string{"p"}
			}
			if tt.installed {
				ms.Installed = []string{"p"}
			}
			s.MemberStates = []plugins.MemberState{ms}
			d := decide(t, s, "m", "p")
			assert.Equal(t, []bool{tt.visible, tt.inst, tt.canInstall, tt.canUninstall},
				[]bool{d.Visible, d.Installed, d.CanInstall, d.CanUninstall}, d.String())
			assert.Equal(t, tt.overlay, d.Why.Overlay)
		})
	}
}

func TestResolveGates(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*plugins.Snapshot)
		blocked plugins.Blocker
	}{
		{name: "cowork and skills on"},
		{name: "org cowork toggle off", edit: func(s *plugins.Snapshot) { s.Cowork = policy.Bool(false) }, blocked: plugins.BlockedByCowork},
		{name: "member cowork off", edit: func(s *plugins.Snapshot) { s.Members[0].Cowork = policy.Bool(false) }, blocked: plugins.BlockedByCowork},
		{name: "cowork entitlement off", edit: func(s *plugins.Snapshot) { s.Entitlements.Cowork = policy.Bool(false) }, blocked: plugins.BlockedByCowork},
		{name: "custom role member without grant", edit: func(s *plugins.Snapshot) { s.Members[0].Role = policy.RoleCustom }, blocked: plugins.BlockedByCowork},
		{name: "skills off", edit: func(s *plugins.Snapshot) { s.Skills = policy.Bool(false) }, blocked: plugins.BlockedBySkills},
		{name: "both off: cowork reported", edit: func(s *plugins.Snapshot) { s.Skills, s.Cowork = policy.Bool(false), policy.Bool(false) }, blocked: plugins.BlockedByCowork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := one(plugins.Lvl(req), nil)
			if tt.edit != nil {
				tt.edit(s)
			}
			d := decide(t, s, "m", "p")
			assert.Equal(t, tt.blocked, d.Why.Context.Blocked)
			assert.Equal(t, req, d.Level, "the policy level is still reported")
			if tt.blocked != plugins.NotBlocked {
				assert.False(t, d.Visible || d.Installed || d.CanInstall || d.CanUninstall, d.String())
			} else {
				assert.True(t, d.Visible && d.Installed)
			}
		})
	}
}

// TestResolveDocumentedCases runs the cases the issue names on testdata/acme.yaml.
func TestResolveDocumentedCases(t *testing.T) {
	s := loadAcme(t)
	type want struct {
		level              plugins.Level
		visible, installed bool
	}
	tests := []struct {
		name, member, plugin string
		want                 want
	}{
		// Auto-install for one team while hidden from everyone else.
		{"sales team gets sales-toolkit installed", "user_bob", "plugin_sales_toolkit", want{auto, true, true}},
		{"engineering does not see sales-toolkit", "user_alice", "plugin_sales_toolkit", want{hide, false, false}},
		{"no groups: hidden", "user_dave", "plugin_sales_toolkit", want{hide, false, false}},
		// Required for all but hidden for one group.
		{"security-baseline is required for engineering", "user_alice", "plugin_security_baseline", want{req, true, true}},
		{"security-baseline is hidden for contractors", "user_bob", "plugin_security_baseline", want{hide, false, false}},
		// A member in two groups with conflicting values (eng: required, sales: not_available).
		{"conflict: strongest wins", "user_erin", "plugin_deploy", want{req, true, true}},
		{"sales alone: hidden, own install removed", "user_bob", "plugin_deploy", want{hide, false, false}},
		// Unknown level.
		{"unknown level fails closed", "user_alice", "plugin_beta_notes", want{hide, false, false}},
		// Member uninstalled an auto_install plugin.
		{"alice opted out of lint", "user_alice", "plugin_lint", want{auto, true, false}},
		{"erin has lint", "user_erin", "plugin_lint", want{auto, true, true}},
		// Cowork gates.
		{"carol has no granting role", "user_carol", "plugin_security_baseline", want{req, false, false}},
		{"dave switched Cowork off", "user_dave", "plugin_lint", want{auto, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(t, s, tt.member, tt.plugin)
			assert.Equal(t, tt.want, want{d.Level, d.Visible, d.Installed}, d.String())
		})
	}

	// The conflict is explained: both groups, their values, the combinator and the winner.
	d := decide(t, s, "user_erin", "plugin_deploy")
	text := d.String()
	for _, s := range []string{"group rbac_group_eng: required  <- winner", "group rbac_group_sales: not_available",
		"combinator: strongest-wins -> required from group settings", "base: available from marketplace default"} {
		assert.Contains(t, text, s)
	}
	s2 := s.Clone()
	s2.Combinator = plugins.DenyOverrides
	assert.Equal(t, hide, decide(t, s2, "user_erin", "plugin_deploy").Level)
}

func TestResolveUnknownMember(t *testing.T) {
	_, err := plugins.Resolve(loadAcme(t), "user_nobody")
	assert.ErrorIs(t, err, policy.ErrUnknownMember)
}

func TestResultString(t *testing.T) {
	r, err := plugins.Resolve(loadAcme(t), "user_bob")
	require.NoError(t, err)
	text := r.String()
	assert.True(t, strings.HasPrefix(text, "member user_bob (revision rev-"))
	assert.Contains(t, text, "custom roles:   passed   granted by custom role role_cowork")
	assert.Contains(t, text, "member: member's install removed: not available")
}

func TestResultJSON(t *testing.T) {
	r, err := plugins.Resolve(loadAcme(t), "user_erin")
	require.NoError(t, err)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	text := string(b)
	assert.Equal(t, 1, strings.Count(text, `"Member":"user_erin","Cowork"`), "the context appears once, not once per decision")
	for _, want := range []string{`"Level":"required"`, `"BaseSource":"marketplace default"`, `"Combinator":"strongest-wins"`, `"Outcome":"passed"`} {
		assert.Contains(t, text, want)
	}
}
