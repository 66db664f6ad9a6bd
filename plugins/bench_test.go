package plugins_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

// benchOrg builds an Enterprise org with 100 groups, 200 plugins in 4 marketplaces (each
// with an organization setting on one plugin in three and settings for 10 groups), and
// members in 20 groups each.
func benchOrg(members int) *plugins.Snapshot {
	levels := []plugins.Level{plugins.LevelNotAvailable, plugins.LevelAvailable, plugins.LevelAutoInstall, plugins.LevelRequired}
	s := &plugins.Snapshot{}
	s.Plan = policy.PlanEnterprise
	for g := range 100 {
		s.Groups = append(s.Groups, policy.Group{ID: fmt.Sprintf("rbac_group_%03d", g)})
	}
	s.Roles = []policy.CustomRole{{ID: "role_cowork", Grants: []policy.Capability{policy.CapabilityCowork}}}
	for g := range 50 {
		s.Roles[0].Groups = append(s.Roles[0].Groups, fmt.Sprintf("rbac_group_%03d", g*2))
	}
	for k := range 4 {
		s.Marketplaces = append(s.Marketplaces, plugins.Marketplace{ID: fmt.Sprintf("marketplace_%d", k), DefaultInstallationPreference: plugins.Lvl(levels[k])})
	}
	for p := range 200 {
		id := fmt.Sprintf("plugin_%03d", p)
		s.Plugins = append(s.Plugins, plugins.Plugin{ID: id, Name: id, MarketplaceID: fmt.Sprintf("marketplace_%d", p%4)})
		if p%3 == 0 {
			s.InstallationSettings = append(s.InstallationSettings, orgSetting(id, levels[(p/3)%4]))
		}
		for k := range 10 {
			g := (p*7 + k*13) % 100
			s.InstallationSettings = append(s.InstallationSettings, groupSetting(id, fmt.Sprintf("rbac_group_%03d", g), levels[(p+k)%4]))
		}
	}
	for m := range members {
		mem := policy.Member{ID: fmt.Sprintf("user_%05d", m), Role: policy.RoleCustom}
		for k := range 20 {
			mem.Groups = append(mem.Groups, fmt.Sprintf("rbac_group_%03d", (m*3+k*5)%100))
		}
		s.Members = append(s.Members, mem)
		if m%4 == 0 {
			s.MemberStates = append(s.MemberStates, plugins.MemberState{Member: mem.ID,
				Uninstalled: []string{"plugin_002", "plugin_010"}, Installed: []string{"plugin_001", "plugin_005"}})
		}
	}
	return s
}

// cpuTime returns the process's user+system CPU time, so that benchmarks can report CPU per
// operation as well as wall time: on a shared machine wall time includes waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResolve resolves one member (20 groups) against 200 plugins and 100 groups, with
// full explanations. Target: under 20 µs per member. mode=alloc uses Resolve (a fresh
// Result each time); mode=reuse uses ResolveInto with one Result, as a loop over members
// would. The members fall into 5 group sets, so they share their group values (see
// BenchmarkResolveDistinctGroups for members that do not).
func BenchmarkResolve(b *testing.B) {
	s := benchOrg(1000)
	_ = s.Revision() // build the indexes outside the loop
	benchResolve(b, s)
}

func benchResolve(b *testing.B, s *plugins.Snapshot) {
	for _, reuse := range []bool{false, true} {
		name := "mode=alloc"
		if reuse {
			name = "mode=reuse"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var dst plugins.Result
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				var err error
				if reuse {
					err = plugins.ResolveInto(&dst, s, s.Members[i%1000].ID)
				} else {
					_, err = plugins.Resolve(s, s.Members[i%1000].ID)
				}
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/member")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/member")
			b.ReportMetric(float64(b.N)*200/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// BenchmarkResolveDistinctGroups is [BenchmarkResolve] with every member in a different set
// of 20 groups (drawn at random), so that no two members share their group values: the
// cost of a member alone in its group set.
func BenchmarkResolveDistinctGroups(b *testing.B) {
	s := benchOrg(1000)
	r := rand.New(rand.NewPCG(1, 2))
	for m := range s.Members {
		s.Members[m].Groups = s.Members[m].Groups[:0]
		for _, g := range r.Perm(100)[:20] {
			s.Members[m].Groups = append(s.Members[m].Groups, fmt.Sprintf("rbac_group_%03d", g))
		}
	}
	_ = s.Revision()
	benchResolve(b, s)
}

// BenchmarkDiff diffs two snapshots of 10,000 members each (200 plugins, 100 groups).
// Target: under 1 s.
func BenchmarkDiff(b *testing.B) {
	old := benchOrg(10000)
	nw := old.Clone()
	for i := range nw.InstallationSettings {
		if i%5 == 0 {
			nw.InstallationSettings[i].InstallationPreference = plugins.LevelRequired
		}
	}
	_, _ = old.Revision(), nw.Revision()
	b.ReportAllocs()
	var affected int
	cpu0 := cpuTime()
	for b.Loop() {
		d := plugins.Diff(old, nw, nil)
		affected = d.Totals.Affected
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/diff")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/diff")
	b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "members/s")
	b.ReportMetric(float64(affected), "affected")
}

// BenchmarkBuildIndex measures compiling a 10,000-member snapshot (first use).
func BenchmarkBuildIndex(b *testing.B) {
	src := benchOrg(10000)
	b.ReportAllocs()
	for b.Loop() {
		s := src.Clone()
		_ = s.Revision()
	}
}

func BenchmarkValidateManifest(b *testing.B) {
	data := []byte(`{"name": "sales-toolkit", "version": "1.4.0", "description": "d", "author": {"name": "a"},
		"commands": ["./commands/a.md"], "agents": ["./agents/b.md"], "keywords": ["x", "y"]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, _ = plugins.ParseManifest(data)
	}
}
