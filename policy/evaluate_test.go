package policy_test

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/policy"
)

func on() *bool  { return policy.Bool(true) }
func off() *bool { return policy.Bool(false) }

// enterprise returns a snapshot with one granting group and one non-granting group.
func enterprise() *policy.Snapshot {
	return &policy.Snapshot{
		Plan:   policy.PlanEnterprise,
		Groups: []policy.Group{{ID: "g_grant"}, {ID: "g_plain"}},
		Roles: []policy.CustomRole{
			{ID: "r_cowork", Grants: []policy.Capability{policy.CapabilityCowork}, Groups: []string{"g_grant"}},
			{ID: "r_other", Grants: []policy.Capability{policy.CapabilityWebSearch}, Groups: []string{"g_plain"}},
		},
	}
}

func TestEvaluatePrecedence(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*policy.Snapshot)
		member    policy.Member
		enabled   bool
		stoppedAt policy.GateKind
		warning   error
	}{
		{name: "defaults: everything on", member: policy.Member{ID: "m", Role: policy.RoleUser}, enabled: true},
		{name: "entitlement off beats org toggle on",
			edit:   func(s *policy.Snapshot) { s.Entitlements.Cowork = off(); s.Cowork = on() },
			member: policy.Member{ID: "m", Role: policy.RoleOwner}, stoppedAt: policy.GateEntitlement},
		{name: "entitlement on locks the org toggle on",
			edit:   func(s *policy.Snapshot) { s.Entitlements.Cowork = on(); s.Cowork = off() },
			member: policy.Member{ID: "m", Role: policy.RoleUser}, enabled: true},
		{name: "entitlement on does not override the member setting",
			edit:   func(s *policy.Snapshot) { s.Entitlements.Cowork = on() },
			member: policy.Member{ID: "m", Role: policy.RoleUser, Cowork: off()}, stoppedAt: policy.GateMemberSetting},
		{name: "org toggle off stops everyone",
			edit:   func(s *policy.Snapshot) { s.Cowork = off() },
			member: policy.Member{ID: "m", Role: policy.RoleAdmin}, stoppedAt: policy.GateOrgToggle},
		{name: "org toggle off beats a granting custom role",
			edit:   func(s *policy.Snapshot) { s.Cowork = off() },
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_grant"}}, stoppedAt: policy.GateOrgToggle},
		{name: "custom role grants",
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_grant"}}, enabled: true},
		{name: "any granting role grants",
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_plain", "g_grant"}}, enabled: true},
		{name: "custom member without a granting role is off",
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_plain"}}, stoppedAt: policy.GateCustomRoles},
		{name: "custom member with no groups is off",
			member: policy.Member{ID: "m", Role: policy.RoleCustom}, stoppedAt: policy.GateCustomRoles},
		{name: "built-in roles ignore custom roles",
			member: policy.Member{ID: "m", Role: policy.RoleUser, Groups: []string{"g_plain"}}, enabled: true},
		{name: "unknown role is treated as user",
			member: policy.Member{ID: "m", Role: policy.RoleUnknown}, enabled: true},
		{name: "member turns Cowork off",
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_grant"}, Cowork: off()}, stoppedAt: policy.GateMemberSetting},
		{name: "member setting on is still bounded by the org toggle",
			edit:   func(s *policy.Snapshot) { s.Cowork = off() },
			member: policy.Member{ID: "m", Role: policy.RoleUser, Cowork: on()}, stoppedAt: policy.GateOrgToggle},
		{name: "team plan: custom roles do not apply, with a warning",
			edit:   func(s *policy.Snapshot) { s.Plan = policy.PlanTeam },
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_plain"}}, enabled: true, warning: policy.ErrPlanFeature},
		{name: "team plan: org toggle is the only switch",
			edit:   func(s *policy.Snapshot) { s.Plan = policy.PlanTeam; s.Cowork = off() },
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_grant"}}, stoppedAt: policy.GateOrgToggle},
		{name: "unknown plan is treated as team",
			edit:   func(s *policy.Snapshot) { s.Plan = policy.PlanUnknown },
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_plain"}}, enabled: true, warning: policy.ErrPlanFeature},
		{name: "dangling membership grants nothing",
			member: policy.Member{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_missing"}}, stoppedAt: policy.GateCustomRoles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := enterprise()
			if tt.edit != nil {
				tt.edit(s)
			}
			s.Members = []policy.Member{tt.member}
			d, err := s.Evaluate("m")
			require.NoError(t, err)
			assert.Equal(t, tt.enabled, d.Enabled, d.String())
			assert.Equal(t, tt.stoppedAt, d.StoppedAt(), d.String())
			assert.Equal(t, s.Revision(), d.Revision)
			if tt.warning != nil {
				require.NotEmpty(t, d.Warnings)
				assert.ErrorIs(t, d.Warnings[0], tt.warning)
			} else {
				assert.Empty(t, d.Warnings)
			}
			// Gates are evaluated in order and stop at the first "off".
			for i, g := range d.Gates {
				assert.Equal(t, policy.GateKind(i+1), g.Kind)
				if i < len(d.Gates)-1 || d.Enabled {
					assert.NotEqual(t, policy.OutcomeStopped, g.Outcome)
				}
			}
		})
	}
}

func TestAccessSkills(t *testing.T) {
	s := enterprise()
	s.Members = []policy.Member{{ID: "m", Role: policy.RoleCustom}} // no Cowork, Skills still decided at org level
	d, err := s.Access("m", policy.FeatureSkills)
	require.NoError(t, err)
	assert.True(t, d.Enabled)
	assert.Len(t, d.Gates, 2)

	s = enterprise()
	s.Skills = off()
	s.Members = []policy.Member{{ID: "m", Role: policy.RoleUser}}
	d, err = s.Access("m", policy.FeatureSkills)
	require.NoError(t, err)
	assert.False(t, d.Enabled)
	assert.Equal(t, policy.GateOrgToggle, d.StoppedAt())

	s = enterprise()
	s.Entitlements.Skills = off()
	s.Members = []policy.Member{{ID: "m", Role: policy.RoleUser}}
	d, _ = s.Access("m", policy.FeatureSkills)
	assert.Equal(t, policy.GateEntitlement, d.StoppedAt())

	d, _ = s.Access("m", policy.FeatureUnknown)
	assert.False(t, d.Enabled)
}

func TestEvaluateUnknownMember(t *testing.T) {
	s := enterprise()
	_, err := s.Evaluate("nobody")
	assert.ErrorIs(t, err, policy.ErrUnknownMember)
}

func TestEvaluateGrantingRolesNamed(t *testing.T) {
	s := enterprise()
	s.Roles = append(s.Roles, policy.CustomRole{ID: "r_b", Grants: []policy.Capability{policy.CapabilityCowork}, Groups: []string{"g_plain"}})
	s.Members = []policy.Member{{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_plain", "g_grant"}}}
	d, err := s.Evaluate("m")
	require.NoError(t, err)
	assert.Equal(t, []string{"r_b", "r_cowork"}, d.Gates[2].Roles)
}

// TestEvaluateOrderIndependent shuffles groups, roles, members and memberships: decisions
// and revisions stay the same.
func TestEvaluateOrderIndependent(t *testing.T) {
	y, err := os.ReadFile("testdata/acme.yaml")
	require.NoError(t, err)
	j, err := os.ReadFile("testdata/acme.json")
	require.NoError(t, err)
	a, err := policy.Load(y)
	require.NoError(t, err)
	b, err := policy.Load(j) // same content, other order, JSON with tabs
	require.NoError(t, err)
	assert.Equal(t, a.Revision(), b.Revision())
	for _, m := range a.Members {
		da, err := a.Evaluate(m.ID)
		require.NoError(t, err)
		db, err := b.Evaluate(m.ID)
		require.NoError(t, err)
		assert.Equal(t, da, db, m.ID)
	}
}

func TestEvaluateDeterministic(t *testing.T) {
	s := enterprise()
	s.Members = []policy.Member{{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_grant", "g_plain"}}}
	first, err := s.Evaluate("m")
	require.NoError(t, err)
	for range 20 {
		d, err := s.Evaluate("m")
		require.NoError(t, err)
		assert.Equal(t, first, d)
	}
	assert.NotErrorIs(t, errors.New("x"), policy.ErrUnknownMember)
}
