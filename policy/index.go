package policy

// index holds the lookups evaluation needs, built once per snapshot.
type index struct {
	revision string
	members  map[string]int // member ID -> position in Members
	groups   map[string]int // group ID -> position in Groups
	// grants[g] lists the custom roles attached to group g that grant Cowork.
	coworkRoles map[string][]string
	// teamRoles is set when a Team plan carries custom roles: they are ignored.
	teamRoles bool
}

func (s *Snapshot) index() *index {
	s.once.Do(func() {
		ix := &index{
			members:     make(map[string]int, len(s.Members)),
			groups:      make(map[string]int, len(s.Groups)),
			coworkRoles: map[string][]string{},
		}
		for i, m := range s.Members {
			if _, dup := ix.members[m.ID]; !dup {
				ix.members[m.ID] = i
			}
		}
		for i, g := range s.Groups {
			if _, dup := ix.groups[g.ID]; !dup {
				ix.groups[g.ID] = i
			}
		}
		for _, r := range s.Roles {
			if !r.grants(CapabilityCowork) {
				continue
			}
			for _, g := range r.Groups {
				ix.coworkRoles[g] = appendUnique(ix.coworkRoles[g], r.ID)
			}
		}
		ix.teamRoles = !s.Plan.Enterprise() && len(s.Roles) > 0
		ix.revision = s.computeRevision()
		s.idx = ix
	})
	return s.idx
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// Member returns the member with the given ID.
func (s *Snapshot) Member(id string) (*Member, bool) {
	i, ok := s.index().members[id]
	if !ok {
		return nil, false
	}
	return &s.Members[i], true
}

// Group returns the group with the given ID.
func (s *Snapshot) Group(id string) (*Group, bool) {
	i, ok := s.index().groups[id]
	if !ok {
		return nil, false
	}
	return &s.Groups[i], true
}

// GroupIndex returns the position of group id in Groups, for callers that key tables by
// group; ok is false for an unknown ID.
func (s *Snapshot) GroupIndex(id string) (i int, ok bool) {
	i, ok = s.index().groups[id]
	return i, ok
}

// MemberIndex returns the position of member id in Members; ok is false for an unknown ID.
func (s *Snapshot) MemberIndex(id string) (i int, ok bool) {
	i, ok = s.index().members[id]
	return i, ok
}
