package plugins_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

// randomSnapshot builds a valid Enterprise snapshot with random settings: groups, members
// in several groups, plugins across marketplaces, settings with every level (unknown
// included), and member state.
func randomSnapshot(r *rand.Rand, comb plugins.Combinator) *plugins.Snapshot {
	levels := []plugins.Level{plugins.LevelUnknown, plugins.LevelNotAvailable, plugins.LevelAvailable, plugins.LevelAutoInstall, plugins.LevelRequired}
	s := &plugins.Snapshot{Combinator: comb}
	s.Plan = policy.PlanEnterprise
	ng, np, nm := 2+r.IntN(8), 1+r.IntN(10), 1+r.IntN(8)
	for g := range ng {
		s.Groups = append(s.Groups, policy.Group{ID: fmt.Sprintf("g%d", g)})
	}
	if comb == plugins.Ranked {
		for _, g := range r.Perm(ng)[:r.IntN(ng)] {
			s.GroupRanking = append(s.GroupRanking, fmt.Sprintf("g%d", g))
		}
	}
	s.Roles = []policy.CustomRole{{ID: "r", Grants: []policy.Capability{policy.CapabilityCowork}, Groups: []string{"g0", "g1"}}}
	for _, id := range []string{"mk0", "mk1"} {
		mk := plugins.Marketplace{ID: id}
		if r.IntN(4) > 0 {
			mk.DefaultInstallationPreference = plugins.Lvl(levels[r.IntN(5)])
		}
		s.Marketplaces = append(s.Marketplaces, mk)
	}
	for p := range np {
		pl := plugins.Plugin{ID: fmt.Sprintf("p%d", p), MarketplaceID: fmt.Sprintf("mk%d", r.IntN(2))}
		if r.IntN(3) == 0 {
			pl.OrganizationInstallationPreference = plugins.Lvl(levels[r.IntN(5)])
		}
		s.Plugins = append(s.Plugins, pl)
		if r.IntN(3) == 0 {
			s.InstallationSettings = append(s.InstallationSettings, orgSetting(pl.ID, levels[r.IntN(5)]))
		}
		for g := range ng {
			if r.IntN(3) == 0 {
				s.InstallationSettings = append(s.InstallationSettings, groupSetting(pl.ID, fmt.Sprintf("g%d", g), levels[r.IntN(5)]))
			}
		}
	}
	for m := range nm {
		mem := policy.Member{ID: fmt.Sprintf("m%d", m), Role: []policy.Role{policy.RoleUser, policy.RoleCustom}[r.IntN(2)]}
		for g := range ng {
			if r.IntN(2) == 0 {
				mem.Groups = append(mem.Groups, fmt.Sprintf("g%d", g))
			}
		}
		s.Members = append(s.Members, mem)
		ms := plugins.MemberState{Member: mem.ID}
		for p := range np {
			switch r.IntN(4) {
			case 0:
				ms.Uninstalled = append(ms.Uninstalled, fmt.Sprintf("p%d", p))
			case 1:
				ms.Installed = append(ms.Installed, fmt.Sprintf("p%d", p))
			}
		}
		s.MemberStates = append(s.MemberStates, ms)
	}
	return s
}

// shuffled returns a copy with every order-free list permuted: groups, roles, members,
// memberships, marketplaces, plugins, settings and member state. The group ranking is the
// admin's order and is kept.
func shuffled(r *rand.Rand, s *plugins.Snapshot) *plugins.Snapshot {
	c := s.Clone()
	shuffle := func(n int, swap func(i, j int)) { r.Shuffle(n, swap) }
	shuffle(len(c.Groups), func(i, j int) { c.Groups[i], c.Groups[j] = c.Groups[j], c.Groups[i] })
	shuffle(len(c.Members), func(i, j int) { c.Members[i], c.Members[j] = c.Members[j], c.Members[i] })
	for k := range c.Members {
		g := c.Members[k].Groups
		shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
	}
	for k := range c.Roles {
		g := c.Roles[k].Groups
		shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
	}
	shuffle(len(c.Marketplaces), func(i, j int) { c.Marketplaces[i], c.Marketplaces[j] = c.Marketplaces[j], c.Marketplaces[i] })
	shuffle(len(c.Plugins), func(i, j int) { c.Plugins[i], c.Plugins[j] = c.Plugins[j], c.Plugins[i] })
	shuffle(len(c.InstallationSettings), func(i, j int) {
		c.InstallationSettings[i], c.InstallationSettings[j] = c.InstallationSettings[j], c.InstallationSettings[i]
	})
	shuffle(len(c.MemberStates), func(i, j int) { c.MemberStates[i], c.MemberStates[j] = c.MemberStates[j], c.MemberStates[i] })
	for k := range c.MemberStates {
		u, in := c.MemberStates[k].Uninstalled, c.MemberStates[k].Installed
		shuffle(len(u), func(i, j int) { u[i], u[j] = u[j], u[i] })
		shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
	}
	return c
}

var combinators = []plugins.Combinator{plugins.StrongestWins, plugins.DenyOverrides, plugins.Ranked}

// TestPropertyOrderIndependent: the result does not depend on the order of groups,
// memberships, settings, plugins or member state, for every combinator.
func TestPropertyOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 150 {
		comb := combinators[i%3]
		s := randomSnapshot(r, comb)
		c := shuffled(r, s)
		require.Equal(t, s.Revision(), c.Revision(), "the revision names content, not order")
		for _, m := range s.Members {
			a, err := plugins.Resolve(s, m.ID)
			require.NoError(t, err)
			b, err := plugins.Resolve(c, m.ID)
			require.NoError(t, err)
			require.Equal(t, a, b, "snapshot %d (%s), member %s", i, comb, m.ID)
		}
		assert.True(t, func() bool { d := plugins.Diff(s, c, nil); return d.Empty() }())
	}
}

// TestPropertyDiffSelfEmpty: Diff(s, s) is empty.
func TestPropertyDiffSelfEmpty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 100 {
		s := randomSnapshot(r, combinators[i%3])
		d := plugins.Diff(s, s, nil)
		assert.True(t, d.Empty(), d.String())
		assert.Equal(t, len(s.Members), d.Totals.Members)
	}
	s := loadAcme(t)
	d := plugins.Diff(s, s.Clone(), nil)
	assert.True(t, d.Empty(), d.String())
}

// TestPropertyDeterministic: resolving twice, or after a clone, gives the same result.
func TestPropertyDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 60 {
		s := randomSnapshot(r, combinators[i%3])
		for _, m := range s.Members {
			a, _ := plugins.Resolve(s, m.ID)
			b, _ := plugins.Resolve(s, m.ID)
			c, _ := plugins.Resolve(s.Clone(), m.ID)
			require.Equal(t, a, b)
			require.Equal(t, a, c)
		}
	}
}

// TestPropertyDiffMatchesResolve: the diff's fast path agrees with Resolve: a member is
// listed exactly when some plugin's visible/installed/can-uninstall state differs.
func TestPropertyDiffMatchesResolve(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 80 {
		a := randomSnapshot(r, combinators[i%3])
		b := randomSnapshot(r, combinators[(i+1)%3])
		d := plugins.Diff(a, b, nil)
		affected := map[string]bool{}
		for _, m := range d.Members {
			affected[m.Member] = true
		}
		ids := map[string]bool{}
		for _, m := range a.Members {
			ids[m.ID] = true
		}
		for _, m := range b.Members {
			ids[m.ID] = true
		}
		for id := range ids {
			ra, errA := plugins.Resolve(a, id)
			rb, errB := plugins.Resolve(b, id)
			changed := (errA == nil && ra.Cowork.Enabled) != (errB == nil && rb.Cowork.Enabled)
			state := func(res plugins.Result, err error, p string) [3]bool {
				if err != nil {
					return [3]bool{}
				}
				d, ok := res.Plugin(p)
				if !ok {
					return [3]bool{}
				}
				return [3]bool{d.Visible, d.Installed, d.Installed && !d.CanUninstall}
			}
			var pids []string
			for _, p := range a.Plugins {
				pids = append(pids, p.ID)
			}
			for _, p := range b.Plugins {
				pids = append(pids, p.ID)
			}
			slices.Sort(pids)
			for _, p := range slices.Compact(pids) {
				if state(ra, errA, p) != state(rb, errB, p) {
					changed = true
				}
			}
			assert.Equal(t, changed, affected[id], "snapshot pair %d, member %s\n%s", i, id, d.String())
		}
	}
}

// TestConcurrentFirstUse resolves, diffs and validates one fresh snapshot from several
// goroutines at once (run with -race): the lazily built index is safe.
func TestConcurrentFirstUse(t *testing.T) {
	s := loadAcme(t)
	want, err := plugins.Resolve(loadAcme(t), "user_erin")
	require.NoError(t, err)
	done := make(chan plugins.Result)
	for range 8 {
		go func() {
			r, _ := plugins.Resolve(s, "user_erin")
			_ = plugins.Diff(s, s, nil)
			_ = s.Validate()
			done <- r
		}()
	}
	for range 8 {
		assert.Equal(t, want, <-done)
	}
}

// TestResolveIntoMatchesResolve reuses one Result across members and snapshots: each
// result equals a fresh Resolve.
func TestResolveIntoMatchesResolve(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var dst plugins.Result
	for i := range 60 {
		s := randomSnapshot(r, combinators[i%3])
		if i%5 == 0 {
			s.Plan = policy.PlanTeam
		}
		for _, m := range s.Members {
			want, err := plugins.Resolve(s, m.ID)
			require.NoError(t, err)
			require.NoError(t, plugins.ResolveInto(&dst, s, m.ID))
			require.Equal(t, want.Plugins, dst.Plugins)
			require.Equal(t, *want.Context, *dst.Context)
		}
	}
	assert.ErrorIs(t, plugins.ResolveInto(&dst, loadAcme(t), "nobody"), policy.ErrUnknownMember)
}

// TestSharedGroupValues resolves each member alone in its group set (own group values) and
// with a twin in the same groups (group values shared through the index): the decisions
// are the same, and the twins' explanations share their group values.
func TestSharedGroupValues(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for i := range 60 {
		s := randomSnapshot(r, combinators[i%3])
		if i%5 == 0 {
			s.Plan = policy.PlanTeam
		}
		for _, m := range s.Members {
			alone, twins := s.Clone(), s.Clone()
			alone.Members = []policy.Member{m}
			twin := m
			twin.ID = "twin"
			twins.Members = []policy.Member{m, twin}
			own, err := plugins.Resolve(alone, m.ID)
			require.NoError(t, err)
			shared, err := plugins.Resolve(twins, m.ID)
			require.NoError(t, err)
			other, err := plugins.Resolve(twins, twin.ID)
			require.NoError(t, err)
			require.Len(t, shared.Plugins, len(own.Plugins))
			for k := range own.Plugins {
				a, b := own.Plugins[k], shared.Plugins[k]
				a.Why.Context, b.Why.Context = nil, nil
				assert.Equal(t, a, b, "snapshot %d, member %s, plugin %s", i, m.ID, a.Plugin)
				if g := shared.Plugins[k].Why.Groups; len(g) > 0 {
					assert.Same(t, &g[0], &other.Plugins[k].Why.Groups[0], "twins share group values")
				}
			}
		}
	}
}
