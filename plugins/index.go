package plugins

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"
)

// index is the compiled form of a snapshot: everything per-member resolution needs, so
// that resolving one member is a walk over its groups' settings and then over plugins,
// with no map lookup per plugin.
type index struct {
	revision   string
	enterprise bool
	combinator Combinator // effective: never CombinatorUnknown
	combNote   string     // why the effective combinator differs from the stored one
	ngroups    int
	groupIDs   []string // by group position in policy.Snapshot.Groups
	rank       []int32  // by group position: ranked priority, lower wins
	plugins    []pluginIx
	// decisions holds, per plugin, the parts of its Decision that do not depend on the
	// member (IDs, base, notes): the start of every resolution. Shared: copied, never
	// handed out.
	decisions []Decision
	pluginPos map[string]int32
	states    map[string]*stateIx
	// groupSettings lists, per group position, the plugins that group holds a setting for.
	groupSettings [][]gset
	// unknownGroupLevels is set when some group setting has a level this version does not
	// know: resolution then adds a note per affected decision.
	unknownGroupLevels bool
	// Members with the same known groups share a group set. memberSet gives the set of
	// each member position in policy.Snapshot.Members. Set k's groups are
	// setRank[setOff[k]:setOff[k+1]] as positions in ranking order, and the same range of
	// setGrps as IDs sorted; setMembers[k] counts its members. Flat, so that the index is a
	// few large objects for the garbage collector rather than two per member.
	memberSet  []int32
	setOff     []int32
	setRank    []int32
	setGrps    []string
	setMembers []int32
	// setValues[k] is how many group values set k's members have over all plugins.
	setValues []int32
	// lists holds, per group set shared by several members, the group values of every
	// plugin, computed on first use; shared counts the bytes they hold, up to
	// maxSharedBytes.
	lists  []atomic.Pointer[groupLists]
	shared atomic.Int64
}

// maxSharedBytes bounds the memory an index keeps for the group values of group sets
// shared by several members. Members of sets beyond it get their own values.
const maxSharedBytes = 8 << 20

// groupLists are the group values of every plugin for one set of groups: plugin i's are
// values[offs[i]:offs[i+1]], in ranking order, with the winners marked. Read only once
// built.
type groupLists struct {
	offs   []int32
	values []GroupValue
}

type gset struct {
	plugin int32
	level  Level // as stored
}

// agg accumulates the group values of one plugin for one member.
type agg struct {
	n           int32
	best, first Level // effective levels
	deny        bool
}

type setting struct {
	group int32
	level Level // as stored (may be unknown)
}

type pluginIx struct {
	id, name, marketplace string
	base                  Level // as stored (may be unknown)
	baseSource            BaseSource
	settings              []setting // group settings, sorted by rank then group ID
	notes                 []string
	// notesIgnored is notes plus the Team-plan warning, for members whose groups hold
	// settings that do not apply. Both are capped: appending copies.
	notesIgnored []string
}

type stateIx struct {
	uninstalled, installed []int32 // plugin positions, sorted
}

func (s *Snapshot) index() *index {
	s.once.Do(func() { s.idx = s.build() })
	return s.idx
}

func (s *Snapshot) build() *index {
	pol := &s.Snapshot
	ix := &index{
		enterprise: pol.Plan.Enterprise(),
		combinator: s.Combinator,
		ngroups:    len(pol.Groups),
		pluginPos:  make(map[string]int32, len(s.Plugins)),
		states:     map[string]*stateIx{},
	}
	if ix.combinator == CombinatorUnknown {
		ix.combinator = StrongestWins
		if raw := s.src["combinator"].Raw; raw != "" {
			ix.combinator = DenyOverrides
			ix.combNote = "unknown combinator " + strconv.Quote(raw) + ": fails closed as deny-overrides"
		}
	}
	ix.groupIDs = make([]string, len(pol.Groups))
	for i, g := range pol.Groups {
		ix.groupIDs[i] = g.ID
	}
	// Ranks: the admin's ranking first, then every other group in ID order.
	ix.rank = make([]int32, len(pol.Groups))
	ranked := map[string]int32{}
	for i, g := range s.GroupRanking {
		if _, dup := ranked[g]; !dup {
			ranked[g] = int32(i)
		}
	}
	order := make([]int, len(pol.Groups))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(pol.Groups[a].ID, pol.Groups[b].ID) })
	for pos, gi := range order {
		if r, ok := ranked[pol.Groups[gi].ID]; ok {
			ix.rank[gi] = r
		} else {
			ix.rank[gi] = int32(len(s.GroupRanking) + pos)
		}
	}

	markets := map[string]*Marketplace{}
	for i := range s.Marketplaces {
		if _, dup := markets[s.Marketplaces[i].ID]; !dup {
			markets[s.Marketplaces[i].ID] = &s.Marketplaces[i]
		}
	}
	order = order[:0]
	for i := range s.Plugins {
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(s.Plugins[a].ID, s.Plugins[b].ID) })
	for _, pi := range order {
		p := &s.Plugins[pi]
		if _, dup := ix.pluginPos[p.ID]; dup || p.ID == "" {
			continue
		}
		ix.pluginPos[p.ID] = int32(len(ix.plugins))
		px := pluginIx{id: p.ID, name: p.Name, marketplace: p.MarketplaceID}
		mk := markets[p.MarketplaceID]
		switch {
		case p.OrganizationInstallationPreference != nil && !p.OrganizationInstallationPreferenceInherited:
			px.base, px.baseSource = *p.OrganizationInstallationPreference, BasePlugin
		case mk != nil && mk.DefaultInstallationPreference != nil:
			px.base, px.baseSource = *mk.DefaultInstallationPreference, BaseMarketplace
		case p.OrganizationInstallationPreference != nil:
			px.base, px.baseSource = *p.OrganizationInstallationPreference, BaseMarketplace
			px.notes = append(px.notes, "marketplace "+strconv.Quote(p.MarketplaceID)+" is not in the snapshot; using the inherited value reported on the plugin")
		default:
			px.base, px.baseSource = LevelNotAvailable, BaseNone
			px.notes = append(px.notes, "no org-wide setting and no marketplace default: fails closed as not_available")
		}
		ix.plugins = append(ix.plugins, px)
	}

	// Installation settings. Duplicates for one target keep the most restrictive value.
	orgSet := map[int32]Level{}
	type key struct{ plugin, group int32 }
	groupSet := map[key]Level{}
	for _, st := range s.InstallationSettings {
		pi, ok := ix.pluginPos[st.PluginID]
		if !ok {
			continue
		}
		switch st.Target.Type {
		case TargetOrganization:
			if old, dup := orgSet[pi]; !dup || restrictive(st.InstallationPreference, old) {
				orgSet[pi] = st.InstallationPreference
			}
		case TargetRBACGroup:
			gi, ok := pol.GroupIndex(st.Target.RBACGroupID)
			if !ok {
				continue
			}
			k := key{pi, int32(gi)}
			if old, dup := groupSet[k]; !dup || restrictive(st.InstallationPreference, old) {
				groupSet[k] = st.InstallationPreference
			}
		}
	}
	for pi, l := range orgSet {
		p := &ix.plugins[pi]
		p.base, p.baseSource = l, BaseOrgSetting
	}
	for k, l := range groupSet {
		p := &ix.plugins[k.plugin]
		p.settings = append(p.settings, setting{group: k.group, level: l})
	}
	for i := range ix.plugins {
		p := &ix.plugins[i]
		slices.SortFunc(p.settings, func(a, b setting) int { return cmp.Compare(ix.rank[a.group], ix.rank[b.group]) })
		if !p.base.Known() {
			p.notes = append(p.notes, "unknown org-wide level: fails closed as not_available")
		}
		p.notes = p.notes[:len(p.notes):len(p.notes)]
		if len(p.settings) > 0 && !ix.enterprise {
			p.notesIgnored = append(slices.Clone(p.notes), noteGroupsIgnored)
			p.notesIgnored = p.notesIgnored[:len(p.notesIgnored):len(p.notesIgnored)]
		}
	}

	for _, ms := range s.MemberStates {
		st := ix.states[ms.Member]
		if st == nil {
			st = &stateIx{}
			ix.states[ms.Member] = st
		}
		for _, id := range ms.Uninstalled {
			if pi, ok := ix.pluginPos[id]; ok {
				st.uninstalled = append(st.uninstalled, pi)
			}
		}
		for _, id := range ms.Installed {
			if pi, ok := ix.pluginPos[id]; ok {
				st.installed = append(st.installed, pi)
			}
		}
	}
	for _, st := range ix.states {
		slices.Sort(st.uninstalled)
		st.uninstalled = slices.Compact(st.uninstalled)
		slices.Sort(st.installed)
		st.installed = slices.Compact(st.installed)
	}
	// Every string a result points to lives in one allocation: results then hold many
	// pointers into a single object, which is what the garbage collector's write barrier
	// and marking handle fastest.
	strs := make([]*string, 0, 3*len(ix.plugins)+len(ix.groupIDs))
	for i := range ix.plugins {
		p := &ix.plugins[i]
		strs = append(strs, &p.id, &p.name, &p.marketplace)
	}
	for i := range ix.groupIDs {
		strs = append(strs, &ix.groupIDs[i])
	}
	intern(strs)
	ix.decisions = make([]Decision, len(ix.plugins))
	for i := range ix.plugins {
		p := &ix.plugins[i]
		ix.decisions[i] = Decision{Plugin: p.id, Name: p.name, Marketplace: p.marketplace,
			Why: Explanation{Base: p.base, BaseSource: p.baseSource, Notes: p.notes}}
	}
	ix.groupSettings = make([][]gset, len(pol.Groups))
	for pi := range ix.plugins {
		for _, st := range ix.plugins[pi].settings {
			ix.groupSettings[st.group] = append(ix.groupSettings[st.group], gset{plugin: int32(pi), level: st.level})
		}
	}
	for _, gs := range ix.groupSettings {
		for _, st := range gs {
			if !st.level.Known() {
				ix.unknownGroupLevels = true
			}
		}
	}
	ix.memberSet = make([]int32, len(pol.Members))
	ix.setOff = []int32{0}
	sets := map[string]int32{}
	seen := make([]bool, len(pol.Groups))
	var pos []int32
	var setKey []byte
	for mi := range pol.Members {
		pos = pos[:0]
		for _, g := range pol.Members[mi].Groups {
			gi, ok := pol.GroupIndex(g)
			if !ok || seen[gi] {
				continue
			}
			seen[gi] = true
			pos = append(pos, int32(gi))
		}
		for _, gi := range pos {
			seen[gi] = false
		}
		slices.SortFunc(pos, func(a, b int32) int { return cmp.Compare(ix.rank[a], ix.rank[b]) })
		setKey = setKey[:0]
		for _, gi := range pos {
			setKey = binary.LittleEndian.AppendUint32(setKey, uint32(gi))
		}
		k, ok := sets[string(setKey)]
		if !ok {
			k = int32(len(ix.setMembers))
			sets[string(setKey)] = k
			start := len(ix.setGrps)
			ix.setRank = append(ix.setRank, pos...)
			for _, gi := range pos {
				ix.setGrps = append(ix.setGrps, ix.groupIDs[gi])
			}
			slices.Sort(ix.setGrps[start:])
			ix.setOff = append(ix.setOff, int32(len(ix.setRank)))
			ix.setMembers = append(ix.setMembers, 0)
		}
		ix.memberSet[mi] = k
		ix.setMembers[k]++
	}
	ix.setValues = make([]int32, len(ix.setMembers))
	for k := range ix.setValues {
		for _, g := range ix.setRank[ix.setOff[k]:ix.setOff[k+1]] {
			ix.setValues[k] += int32(len(ix.groupSettings[g]))
		}
	}
	ix.lists = make([]atomic.Pointer[groupLists], len(ix.setMembers))
	ix.revision = s.computeRevision()
	return ix
}

// groupsOf returns member mi's known groups as positions in ranking order and as IDs
// sorted. Both are capped: appending copies.
func (ix *index) groupsOf(mi int) ([]int32, []string) {
	k := ix.memberSet[mi]
	lo, hi := ix.setOff[k], ix.setOff[k+1]
	if lo == hi {
		return nil, nil // as JSON null, like a member without groups always had
	}
	return ix.setRank[lo:hi:hi], ix.setGrps[lo:hi:hi]
}

// count sets offs[i+1] to the number of plugin i's values for the groups ranked (positions
// in ranking order), turns the counts into offsets, and returns the total.
func (ix *index) count(ranked []int32, offs []int32) int {
	clear(offs)
	for _, g := range ranked {
		for _, gs := range ix.groupSettings[g] {
			offs[gs.plugin+1]++
		}
	}
	for i := 1; i < len(offs); i++ {
		offs[i] += offs[i-1]
	}
	return int(offs[len(offs)-1])
}

// fill writes the group values of every plugin for the groups ranked into values, at the
// offsets count computed, and marks the winners. cur is scratch space for len(offs)-1
// cursors.
func (ix *index) fill(ranked []int32, offs, cur []int32, values []GroupValue) {
	copy(cur, offs)
	for _, g := range ranked {
		id := ix.groupIDs[g]
		for _, gs := range ix.groupSettings[g] {
			values[cur[gs.plugin]] = GroupValue{Group: id, Level: gs.level}
			cur[gs.plugin]++
		}
	}
	if !ix.enterprise {
		return // group settings are ignored: no winner
	}
	for i := range len(offs) - 1 {
		vals := values[offs[i]:offs[i+1]]
		if len(vals) == 0 {
			continue
		}
		level := ix.combine(vals)
		for k := range vals {
			if ix.combinator == Ranked {
				vals[k].Winner = k == 0
			} else {
				vals[k].Winner = vals[k].Level.Effective() == level
			}
		}
	}
}

// sharedLists returns the group values of every plugin for group set k, building them on
// first use, or nil when the set has a single member or the index already holds
// maxSharedBytes.
func (ix *index) sharedLists(k int32) *groupLists {
	if ix.setMembers[k] < 2 {
		return nil
	}
	if gl := ix.lists[k].Load(); gl != nil {
		return gl
	}
	np := len(ix.plugins)
	cost := int64(ix.setValues[k])*int64(unsafe.Sizeof(GroupValue{})) + int64(np+1)*4
	if ix.shared.Load()+cost > maxSharedBytes {
		return nil
	}
	if ix.shared.Add(cost) > maxSharedBytes {
		ix.shared.Add(-cost)
		return nil
	}
	ranked := ix.setRank[ix.setOff[k]:ix.setOff[k+1]]
	gl := &groupLists{offs: make([]int32, np+1), values: make([]GroupValue, ix.setValues[k])}
	ix.count(ranked, gl.offs)
	ix.fill(ranked, gl.offs, make([]int32, np+1), gl.values)
	if !ix.lists[k].CompareAndSwap(nil, gl) {
		ix.shared.Add(-cost) // another goroutine built the same lists first
		return ix.lists[k].Load()
	}
	return gl
}

// intern makes the strings behind ptrs share one allocation.
func intern(ptrs []*string) {
	n := 0
	for _, p := range ptrs {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range ptrs {
		b.WriteString(*p)
	}
	all := b.String()
	for _, p := range ptrs {
		if l := len(*p); l > 0 {
			*p, all = all[:l], all[l:]
		}
	}
}

// restrictive reports whether a is more restrictive than b (unknown counts as not_available).
func restrictive(a, b Level) bool {
	if a.Effective() != b.Effective() {
		return a.Effective() < b.Effective()
	}
	return !a.Known() && b.Known()
}

// aggregate fills aggs (one per plugin, zeroed by the caller) with the values of member
// mi's groups, visiting groups in ranking order so that first is the ranked winner.
func (ix *index) aggregate(mi int, aggs []agg) {
	ranked, _ := ix.groupsOf(mi)
	for _, g := range ranked {
		for _, s := range ix.groupSettings[g] {
			a := &aggs[s.plugin]
			l := s.level.Effective()
			if a.n == 0 {
				a.first = l
			}
			a.n++
			if l > a.best {
				a.best = l
			}
			if l == LevelNotAvailable {
				a.deny = true
			}
		}
	}
}

// level returns the policy level of plugin p given the member's aggregated group values,
// and whether it came from group settings.
func (ix *index) level(p *pluginIx, a agg) (Level, bool) {
	if a.n == 0 || !ix.enterprise {
		return p.base.Effective(), false
	}
	switch ix.combinator {
	case DenyOverrides:
		if a.deny {
			return LevelNotAvailable, true
		}
		return a.best, true
	case Ranked:
		return a.first, true
	}
	return a.best, true
}

// combine returns the level the combinator picks from one plugin's group values (in
// ranking order, at least one), as [index.level] does from their aggregate.
func (ix *index) combine(vals []GroupValue) Level {
	switch ix.combinator {
	case Ranked:
		return vals[0].Level.Effective()
	case DenyOverrides:
		best := LevelUnknown
		for _, v := range vals {
			l := v.Level.Effective()
			if l == LevelNotAvailable {
				return LevelNotAvailable
			}
			best = max(best, l)
		}
		return best
	}
	best := LevelUnknown
	for _, v := range vals {
		best = max(best, v.Level.Effective())
	}
	return best
}

func contains(xs []int32, x int32) bool {
	_, ok := slices.BinarySearch(xs, x)
	return ok
}
