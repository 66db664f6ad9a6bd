package policy_test

import (
	"fmt"
	"testing"

	"github.com/coworkgov/cowork/policy"
)

// benchSnapshot is an Enterprise org with 100 groups, 20 custom roles and n members in 20
// groups each.
func benchSnapshot(n int) *policy.Snapshot {
	s := &policy.Snapshot{Plan: policy.PlanEnterprise}
	for g := range 100 {
		s.Groups = append(s.Groups, policy.Group{ID: fmt.Sprintf("rbac_group_%03d", g)})
	}
	for r := range 20 {
		s.Roles = append(s.Roles, policy.CustomRole{ID: fmt.Sprintf("role_%02d", r),
			Grants: []policy.Capability{policy.CapabilityCowork}, Groups: []string{fmt.Sprintf("rbac_group_%03d", r*5)}})
	}
	for m := range n {
		mem := policy.Member{ID: fmt.Sprintf("user_%05d", m), Role: policy.RoleCustom}
		for k := range 20 {
			mem.Groups = append(mem.Groups, fmt.Sprintf("rbac_group_%03d", (m+k*7)%100))
		}
		s.Members = append(s.Members, mem)
	}
	return s
}

func BenchmarkEvaluate(b *testing.B) {
	s := benchSnapshot(1000)
	_ = s.Revision()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = s.Evaluate(s.Members[i%1000].ID)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

func BenchmarkLoad(b *testing.B) {
	data := []byte(exampleSnapshot)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, _ = policy.Load(data)
	}
}
