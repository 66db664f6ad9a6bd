package policy_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/policy"
)

func TestValidateClean(t *testing.T) {
	b, err := os.ReadFile("testdata/acme.yaml")
	require.NoError(t, err)
	s, err := policy.Load(b)
	require.NoError(t, err)
	is := s.Validate()
	assert.NoError(t, is.Err())
	assert.Zero(t, is.Count(policy.SeverityWarning), is.String())
}

// TestValidateReportsEverything puts one of each problem in a snapshot and expects them all
// at once, each with its line.
func TestValidateReportsEverything(t *testing.T) {
	doc := `plan: team
groups:
  - {id: g1}
  - {id: g1}
  - {name: no-id, source: ldap}
roles:
  - {id: r1, grants: [cowork, teleport], groups: [g1, g404]}
members:
  - {id: a, role: wizard, groups: [g1, g1]}
  - {id: a, role: custom, groups: [g9]}
telemetry:
  endpoint: ftp://x.example
  protocol: smoke-signals
`
	s, err := policy.Load([]byte(doc))
	require.NoError(t, err)
	is := s.Validate()
	want := []struct {
		sev  policy.Severity
		err  error
		line int
	}{
		{policy.SeverityError, policy.ErrDuplicate, 4},
		{policy.SeverityWarning, policy.ErrUnknownValue, 5},
		{policy.SeverityError, policy.ErrMissing, 5},
		{policy.SeverityWarning, policy.ErrPlanFeature, 7},
		{policy.SeverityWarning, policy.ErrUnknownValue, 7},
		{policy.SeverityError, policy.ErrDanglingGroup, 7},
		{policy.SeverityError, policy.ErrUnknownValue, 9},
		{policy.SeverityWarning, policy.ErrDuplicate, 9},
		{policy.SeverityError, policy.ErrDuplicate, 10},
		{policy.SeverityWarning, policy.ErrPlanFeature, 10},
		{policy.SeverityError, policy.ErrDanglingGroup, 10},
		{policy.SeverityError, policy.ErrUnknownValue, 13},
		{policy.SeverityError, policy.ErrEndpoint, 12},
	}
	require.Len(t, is, len(want), is.String())
	for k, w := range want {
		assert.Equal(t, w.sev, is[k].Severity, is[k].Error())
		assert.ErrorIs(t, is[k], w.err, is[k].Error())
		assert.Equal(t, w.line, is[k].Line, is[k].Error())
	}
	err = is.Err()
	for _, sentinel := range []error{policy.ErrDuplicate, policy.ErrMissing, policy.ErrDanglingGroup, policy.ErrUnknownValue, policy.ErrEndpoint} {
		assert.ErrorIs(t, err, sentinel)
	}
	assert.NotErrorIs(t, err, policy.ErrPlanFeature, "warnings are not errors")
	assert.Contains(t, is.String(), `unknown role "wizard"`)
	assert.Contains(t, is.String(), `unknown protocol "smoke-signals"`)
}

func TestValidateTooManyGroups(t *testing.T) {
	s := &policy.Snapshot{Plan: policy.PlanEnterprise}
	for i := range policy.MaxGroups + 1 {
		s.Groups = append(s.Groups, policy.Group{ID: fmt.Sprintf("g%03d", i)})
	}
	assert.ErrorIs(t, s.Validate().Err(), policy.ErrTooManyGroups)
	s = &policy.Snapshot{Plan: policy.PlanEnterprise, Groups: s.Groups[:policy.MaxGroups]}
	assert.NoError(t, s.Validate().Err())
}

func TestIssueError(t *testing.T) {
	i := policy.Issue{Severity: policy.SeverityError, Path: "members[0].groups[1]", Line: 7, Err: policy.ErrDanglingGroup, Message: "unknown group"}
	assert.Equal(t, "error: line 7: members[0].groups[1]: unknown group", i.Error())
	assert.True(t, errors.Is(i, policy.ErrDanglingGroup))
	assert.Equal(t, "warning: policy: unknown group", policy.Issue{Severity: policy.SeverityWarning, Err: policy.ErrDanglingGroup}.Error())
}

func TestEnumsString(t *testing.T) {
	assert.Equal(t, "enterprise", policy.PlanEnterprise.String())
	assert.Equal(t, "unknown", policy.Plan(99).String())
	assert.Equal(t, "custom", policy.RoleCustom.String())
	assert.Equal(t, "unknown", policy.Role(99).String())
	assert.Equal(t, "claude_code", policy.CapabilityClaudeCode.String())
	assert.Equal(t, "scim", policy.GroupSourceSCIM.String())
	assert.Equal(t, "custom roles", policy.GateCustomRoles.String())
	assert.Equal(t, "stopped", policy.OutcomeStopped.String())
	assert.Equal(t, "skills", policy.FeatureSkills.String())
	assert.Equal(t, "warning", policy.SeverityWarning.String())
	var p policy.Plan
	require.NoError(t, p.UnmarshalText([]byte("galactic")))
	assert.Equal(t, policy.PlanUnknown, p)
}

func TestCloneIndependent(t *testing.T) {
	s := enterprise()
	s.Members = []policy.Member{{ID: "m", Role: policy.RoleCustom, Groups: []string{"g_grant"}}}
	s.Egress = &policy.Egress{Domains: []string{"a"}}
	c := s.Clone()
	c.Members[0].Groups[0] = "g_plain"
	c.Roles[0].Grants[0] = policy.CapabilityConnectors
	c.Egress.Domains[0] = "b"
	d, err := s.Evaluate("m")
	require.NoError(t, err)
	assert.True(t, d.Enabled)
	assert.Equal(t, "a", s.Egress.Domains[0])
	assert.NotEqual(t, s.Revision(), c.Revision())
}
