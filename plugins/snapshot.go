package plugins

import (
	"cmp"
	"slices"
	"sync"

	"github.com/coworkgov/cowork/policy"
)

// Snapshot is an organization's policy together with its plugin distribution: the embedded
// [policy.Snapshot] (plan, toggles, groups, members) plus marketplaces, plugins and
// installation settings in the Admin API shapes, the combinator for members in several
// groups, and what members installed or uninstalled themselves.
//
// Like [policy.Snapshot] it is plain data; resolution builds indexes on first use, so a
// Snapshot must not be copied or modified after its first method call (use
// [Snapshot.Clone]). Its methods, and [Resolve] and [Diff] on it, are safe for concurrent
// use, the first call included.
type Snapshot struct {
	policy.Snapshot `yaml:",inline"`

	// Combinator combines the settings of a member's groups. Unset means strongest-wins.
	Combinator Combinator `yaml:"combinator,omitempty" json:"combinator,omitempty"`
	// GroupRanking orders groups for [Ranked], first = highest priority. Groups with
	// settings that are not ranked come after the ranked ones, in group ID order.
	GroupRanking []string `yaml:"group_ranking,omitempty" json:"group_ranking,omitempty"`
	// Marketplaces are the organization's plugin marketplaces.
	Marketplaces []Marketplace `yaml:"marketplaces,omitempty" json:"marketplaces,omitempty"`
	// Plugins are the organization-owned plugins.
	Plugins []Plugin `yaml:"plugins,omitempty" json:"plugins,omitempty"`
	// InstallationSettings are the per-target settings (organization or an RBAC group).
	InstallationSettings []InstallationSetting `yaml:"installation_settings,omitempty" json:"installation_settings,omitempty"`
	// MemberStates record what members uninstalled or installed themselves.
	MemberStates []MemberState `yaml:"member_states,omitempty" json:"member_states,omitempty"`

	src  policy.Source
	once sync.Once
	idx  *index
}

// MemberState is what one member did themselves: plugins they uninstalled (honoured only
// while the plugin is auto_install) and plugins they installed (honoured only while it is
// available). Entries that do not apply are ignored with a note in the explanation.
type MemberState struct {
	// Member is the member's ID.
	Member string `yaml:"member" json:"member"`
	// Uninstalled lists plugin IDs the member opted out of.
	Uninstalled []string `yaml:"uninstalled,omitempty" json:"uninstalled,omitempty"`
	// Installed lists plugin IDs the member installed.
	Installed []string `yaml:"installed,omitempty" json:"installed,omitempty"`
}

// Load decodes a snapshot from YAML or JSON with the default options: strict about unknown
// fields (each reported with its line), limited in size and depth. On error it returns what
// could be decoded with the error. It does not validate; call [Snapshot.Validate].
func Load(data []byte) (*Snapshot, error) { return LoadOptions(policy.DecodeOptions{}, data) }

// LoadOptions is [Load] with explicit decoding options.
func LoadOptions(o policy.DecodeOptions, data []byte) (*Snapshot, error) {
	s := &Snapshot{}
	src, err := o.Unmarshal(data, s)
	s.src = src
	s.Snapshot.SetSource(src)
	return s, err
}

// Source returns the positions of the values of a decoded snapshot, keyed by path.
func (s *Snapshot) Source() policy.Source { return s.src }

// Policy returns the embedded policy snapshot.
func (s *Snapshot) Policy() *policy.Snapshot { return &s.Snapshot }

// Clone returns a deep copy of s that shares nothing with it and has no indexes yet.
func (s *Snapshot) Clone() *Snapshot {
	p := s.Snapshot.Clone()
	c := &Snapshot{
		Combinator:   s.Combinator,
		GroupRanking: slices.Clone(s.GroupRanking),
		src:          s.src,
	}
	// Move the policy fields without copying its lock.
	c.Organization, c.Plan, c.Cowork, c.Skills, c.Entitlements = p.Organization, p.Plan, p.Cowork, p.Skills, p.Entitlements
	c.Groups, c.Roles, c.Members, c.Telemetry, c.Egress = p.Groups, p.Roles, p.Members, p.Telemetry, p.Egress
	c.Snapshot.SetSource(s.src)
	for _, m := range s.Marketplaces {
		m.DefaultInstallationPreference = cloneLevel(m.DefaultInstallationPreference)
		c.Marketplaces = append(c.Marketplaces, m)
	}
	for _, p := range s.Plugins {
		p.OrganizationInstallationPreference = cloneLevel(p.OrganizationInstallationPreference)
		p.Components = slices.Clone(p.Components)
		c.Plugins = append(c.Plugins, p)
	}
	c.InstallationSettings = slices.Clone(s.InstallationSettings)
	for _, m := range s.MemberStates {
		m.Installed = slices.Clone(m.Installed)
		m.Uninstalled = slices.Clone(m.Uninstalled)
		c.MemberStates = append(c.MemberStates, m)
	}
	return c
}

func cloneLevel(l *Level) *Level {
	if l == nil {
		return nil
	}
	v := *l
	return &v
}

// Lvl returns a pointer to l, for the optional levels of a snapshot built in code.
func Lvl(l Level) *Level { return &l }

// Revision returns the snapshot's content hash: the policy revision combined with the
// plugin content, with every list sorted so that order does not matter.
func (s *Snapshot) Revision() string { return s.index().revision }

func (s *Snapshot) computeRevision() string {
	c := s.Clone()
	slices.SortStableFunc(c.Marketplaces, func(a, b Marketplace) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortStableFunc(c.Plugins, func(a, b Plugin) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortStableFunc(c.InstallationSettings, func(a, b InstallationSetting) int {
		return cmp.Or(cmp.Compare(a.PluginID, b.PluginID), cmp.Compare(a.Target.Type, b.Target.Type),
			cmp.Compare(a.Target.RBACGroupID, b.Target.RBACGroupID), cmp.Compare(a.Target.UserID, b.Target.UserID),
			cmp.Compare(a.InstallationPreference, b.InstallationPreference))
	})
	for i := range c.MemberStates {
		slices.Sort(c.MemberStates[i].Installed)
		slices.Sort(c.MemberStates[i].Uninstalled)
	}
	slices.SortStableFunc(c.MemberStates, func(a, b MemberState) int { return cmp.Compare(a.Member, b.Member) })
	return policy.HashJSON(struct {
		Policy       string
		Combinator   Combinator
		Ranking      []string
		Marketplaces []Marketplace
		Plugins      []Plugin
		Settings     []InstallationSetting
		States       []MemberState
	}{s.Snapshot.Revision(), c.Combinator, c.GroupRanking, c.Marketplaces, c.Plugins, c.InstallationSettings, c.MemberStates})
}

// Evaluate is [policy.Snapshot.Evaluate], with the decision naming this snapshot's revision
// (which covers the plugin content too).
func (s *Snapshot) Evaluate(memberID string) (policy.Decision, error) {
	return s.Access(memberID, policy.FeatureCowork)
}

// Access is [policy.Snapshot.Access], with the decision naming this snapshot's revision.
func (s *Snapshot) Access(memberID string, f policy.Feature) (policy.Decision, error) {
	d, err := s.Snapshot.Access(memberID, f)
	d.Revision = s.Revision()
	return d, err
}
