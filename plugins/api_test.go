package plugins_test

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

func TestDecodeAdminAPI(t *testing.T) {
	ps, err := plugins.DecodePlugins(readFile(t, "testdata/api/plugins.json"))
	require.NoError(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, "sales-toolkit", ps[0].Name)
	assert.Equal(t, plugins.LevelAvailable, *ps[0].OrganizationInstallationPreference)
	assert.True(t, ps[0].OrganizationInstallationPreferenceInherited)
	assert.Len(t, ps[0].Components, 2)
	assert.Equal(t, plugins.LevelUnknown, *ps[1].OrganizationInstallationPreference, "a value the API does not yet name")

	ms, err := plugins.DecodeMarketplaces(readFile(t, "testdata/api/marketplaces.json"))
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, plugins.LevelAvailable, *ms[0].DefaultInstallationPreference)
	assert.Nil(t, ms[1].DefaultInstallationPreference, "a personal marketplace has no default")

	ss, err := plugins.DecodeInstallationSettings(readFile(t, "testdata/api/installation_settings.json"))
	require.NoError(t, err)
	require.Len(t, ss, 2)
	assert.Equal(t, plugins.Target{Type: plugins.TargetOrganization}, ss[0].Target)
	assert.Equal(t, plugins.Target{Type: plugins.TargetRBACGroup, RBACGroupID: "rbac_group_01contractors"}, ss[1].Target)
	assert.Equal(t, plugins.LevelNotAvailable, ss[1].InstallationPreference)

	one, err := plugins.DecodeInstallationSettings([]byte(`{"plugin_id": "p", "installation_preference": "auto_install", "target": {"type": "organization"}}`))
	require.NoError(t, err)
	require.Len(t, one, 1)
	arr, err := plugins.DecodeMarketplaces([]byte(`[{"id": "a"}, {"id": "b"}]`))
	require.NoError(t, err)
	assert.Len(t, arr, 2)
	_, err = plugins.DecodePlugins([]byte(`{"data": 7}`))
	assert.Error(t, err)
	none, err := plugins.DecodePlugins([]byte("  "))
	require.NoError(t, err)
	assert.Empty(t, none)
	empty, err := plugins.DecodePlugins([]byte(`{"data": null, "next_page": null}`))
	require.NoError(t, err)
	assert.Empty(t, empty, "an empty page is no plugins, not one empty plugin")
	_, err = plugins.DecodePlugins([]byte(`{"data": [`))
	assert.Error(t, err)
}

// TestAPIIntoSnapshot assembles a snapshot from Admin API output and resolves it.
func TestAPIIntoSnapshot(t *testing.T) {
	s := &plugins.Snapshot{}
	s.Plan = policy.PlanEnterprise
	s.Groups = []policy.Group{{ID: "rbac_group_01contractors"}}
	s.Members = []policy.Member{{ID: "user_01", Role: policy.RoleUser}, {ID: "user_02", Role: policy.RoleUser, Groups: []string{"rbac_group_01contractors"}}}
	var err error
	s.Plugins, err = plugins.DecodePlugins(readFile(t, "testdata/api/plugins.json"))
	require.NoError(t, err)
	s.Marketplaces, err = plugins.DecodeMarketplaces(readFile(t, "testdata/api/marketplaces.json"))
	require.NoError(t, err)
	s.InstallationSettings, err = plugins.DecodeInstallationSettings(readFile(t, "testdata/api/installation_settings.json"))
	require.NoError(t, err)

	r, err := plugins.Resolve(s, "user_01")
	require.NoError(t, err)
	d, _ := r.Plugin("plugin_01Hq3vX8kZcN2mB7pR4tY9wL")
	assert.Equal(t, plugins.LevelRequired, d.Level)
	assert.Equal(t, plugins.BaseOrgSetting, d.Why.BaseSource)
	f, _ := r.Plugin("plugin_02future")
	assert.Equal(t, plugins.LevelNotAvailable, f.Level)
	assert.NotEmpty(t, f.Why.Notes)

	r, err = plugins.Resolve(s, "user_02")
	require.NoError(t, err)
	d, _ = r.Plugin("plugin_01Hq3vX8kZcN2mB7pR4tY9wL")
	assert.Equal(t, plugins.LevelNotAvailable, d.Level)
}

func TestValidateSnapshot(t *testing.T) {
	doc := `plan: team
groups: [{id: g1}]
members: [{id: m, role: user, groups: [g1]}, {id: m2, role: user}]
combinator: ranked
group_ranking: [g1, g9, g1]
marketplaces:
  - {id: mk, default_installation_preference: sometimes}
  - {id: mk}
plugins:
  - {id: p, marketplace_id: mk, organization_installation_preference: required}
  - {id: p, marketplace_id: mk}
  - {id: q, marketplace_id: gone, organization_installation_preference: maybe}
installation_settings:
  - {plugin_id: p, installation_preference: auto_install, target: {type: organization}}
  - {plugin_id: p, installation_preference: available, target: {type: organization}}
  - {plugin_id: p, installation_preference: required, target: {type: rbac_group, rbac_group_id: g1}}
  - {plugin_id: p, installation_preference: required, target: {type: rbac_group, rbac_group_id: g404}}
  - {plugin_id: zz, installation_preference: whenever, target: {type: planet}}
member_states:
  - {member: ghost, installed: [nope]}
`
	s, err := plugins.Load([]byte(doc))
	require.NoError(t, err)
	is := s.Validate()
	t.Log(is.String())
	type w struct {
		sev  policy.Severity
		err  error
		line int
	}
	has := func(sev policy.Severity, sentinel error, line int) bool {
		for _, i := range is {
			if i.Severity == sev && i.Line == line && errors.Is(i, sentinel) {
				return true
			}
		}
		return false
	}
	checks := []w{
		{policy.SeverityError, policy.ErrDanglingGroup, 5}, // ranking names g9
		{policy.SeverityWarning, policy.ErrDuplicate, 5},   // g1 ranked twice
		{policy.SeverityError, policy.ErrUnknownValue, 7},  // unknown marketplace default
		{policy.SeverityError, policy.ErrDuplicate, 8},     // marketplace twice
		{policy.SeverityError, policy.ErrDuplicate, 11},    // plugin twice
		{policy.SeverityWarning, plugins.ErrUnknownMarketplace, 12},
		{policy.SeverityError, policy.ErrUnknownValue, 12},     // unknown plugin level
		{policy.SeverityError, policy.ErrDuplicate, 15},        // two organization settings for p
		{policy.SeverityWarning, policy.ErrPlanFeature, 16},    // group setting on a team plan
		{policy.SeverityError, policy.ErrDanglingGroup, 17},    // g404
		{policy.SeverityError, plugins.ErrUnknownPlugin, 18},   // zz
		{policy.SeverityError, policy.ErrUnknownValue, 18},     // whenever / planet
		{policy.SeverityWarning, policy.ErrUnknownMember, 20},  // ghost
		{policy.SeverityWarning, plugins.ErrUnknownPlugin, 20}, // nope
		{policy.SeverityWarning, policy.ErrDuplicate, 10},      // plugin field vs organization setting
	}
	for _, c := range checks {
		assert.True(t, has(c.sev, c.err, c.line), "missing %s %v at line %d", c.sev, c.err, c.line)
	}
	assert.Contains(t, is.String(), `unknown installation preference "sometimes"`)
	assert.Contains(t, is.String(), `unknown target type "planet"`)
}

func TestValidatePluginsTooManyGroups(t *testing.T) {
	s := one(plugins.Lvl(avail), nil)
	for i := range policy.MaxGroups {
		s.Groups = append(s.Groups, policy.Group{ID: "extra" + string(rune('A'+i%26)) + string(rune('a'+i/26))})
	}
	assert.ErrorIs(t, s.Validate().Err(), policy.ErrTooManyGroups)
	acme := loadAcme(t).Validate()
	assert.Equal(t, 1, acme.Count(policy.SeverityError), "only the deliberately unknown level: %s", acme)
	assert.ErrorIs(t, acme.Err(), policy.ErrUnknownValue)
}
