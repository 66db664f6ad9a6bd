package policy

import (
	"slices"
	"sync"
)

// MaxGroups is the largest number of groups an organization may have. A snapshot with more
// is reported by [Snapshot.Validate]; the groups are still evaluated.
const MaxGroups = 100

// Snapshot is an organization's admin policy at one moment: plan, toggles, platform
// entitlements, groups, custom roles, members and telemetry settings. Every decision made
// from it names its [Snapshot.Revision].
//
// A Snapshot is plain data: build one in code or decode one with [Load]. Evaluation builds
// lookup indexes on first use, so a Snapshot must not be copied or modified after its first
// method call; use [Snapshot.Clone] for an independent, modifiable copy. Its methods are
// safe for concurrent use, the first call included.
type Snapshot struct {
	// Organization names the organization.
	Organization Organization `yaml:"organization,omitempty" json:"organization,omitzero"`
	// Plan is the organization's plan. Custom roles and group settings need PlanEnterprise.
	Plan Plan `yaml:"plan" json:"plan"`
	// Cowork is the org-wide Cowork toggle. Nil means on, the product default.
	Cowork *bool `yaml:"cowork,omitempty" json:"cowork,omitempty"`
	// Skills is the org-wide Skills toggle. Nil means on. Plugins need Cowork and Skills on.
	Skills *bool `yaml:"skills,omitempty" json:"skills,omitempty"`
	// Entitlements are the platform overrides Anthropic applies by contract.
	Entitlements Entitlements `yaml:"entitlements,omitempty" json:"entitlements,omitzero"`
	// Groups are the organization's groups, manual or SCIM-synced; at most [MaxGroups].
	Groups []Group `yaml:"groups,omitempty" json:"groups,omitempty"`
	// Roles are the Enterprise custom roles. Ignored, with a warning, on Team plans.
	Roles []CustomRole `yaml:"roles,omitempty" json:"roles,omitempty"`
	// Members are the organization's members.
	Members []Member `yaml:"members,omitempty" json:"members,omitempty"`
	// Telemetry is where Cowork sends its OpenTelemetry events. Empty means nothing is
	// exported.
	Telemetry Telemetry `yaml:"telemetry,omitempty" json:"telemetry,omitzero"`
	// Egress is the network egress allow-list of Cowork sessions. Nil means the snapshot
	// does not describe it, and the collector host is not checked against it.
	Egress *Egress `yaml:"network_egress,omitempty" json:"network_egress,omitempty"`

	src  Source
	once sync.Once
	idx  *index
}

// Organization identifies the organization a snapshot describes.
type Organization struct {
	// ID is the organization's ID (`org_…` or a UUID).
	ID string `yaml:"id,omitempty" json:"id,omitempty"`
	// Name is the display name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}

// Entitlements are platform overrides: features Anthropic forces on or off for the
// organization. Nil means no override. A feature forced off is off for everyone; a feature
// forced on cannot be switched off by the org toggle, but custom roles and the member's own
// setting still apply.
type Entitlements struct {
	// Cowork forces Cowork on (true) or off (false).
	Cowork *bool `yaml:"cowork,omitempty" json:"cowork,omitempty"`
	// Skills forces Skills on (true) or off (false).
	Skills *bool `yaml:"skills,omitempty" json:"skills,omitempty"`
}

// GroupSource says how a group was created. The zero value, [GroupSourceUnknown], is what an
// unrecognised source decodes to.
type GroupSource uint8

// Group sources.
const (
	GroupSourceUnknown GroupSource = iota // not set or not recognised
	GroupSourceManual                     // "manual": created in the admin console
	GroupSourceSCIM                       // "scim": synced from an identity provider
)

var groupSourceNames = [...]string{"unknown", "manual", "scim"}

// String returns the wire name of g or "unknown".
func (g GroupSource) String() string {
	if int(g) < len(groupSourceNames) {
		return groupSourceNames[g]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler].
func (g GroupSource) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]. Unknown names decode to
// [GroupSourceUnknown] without error.
func (g *GroupSource) UnmarshalText(b []byte) error {
	*g = GroupSourceUnknown
	for i, n := range groupSourceNames {
		if i > 0 && n == string(b) {
			*g = GroupSource(i)
		}
	}
	return nil
}

// Group is an RBAC group. Plugin installation settings and custom roles target groups by ID.
type Group struct {
	// ID identifies the group (`rbac_group_…` in the Admin API).
	ID string `yaml:"id" json:"id"`
	// Name is the display name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Source says whether the group is managed by hand or by SCIM.
	Source GroupSource `yaml:"source,omitempty" json:"source,omitempty"`
}

// Member is one member of the organization.
type Member struct {
	// ID identifies the member (`user_…` in the Admin API).
	ID string `yaml:"id" json:"id"`
	// Email is the member's address, for display only.
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
	// Role is the member's built-in role. [RoleCustom] members get only what their
	// groups' custom roles grant (Enterprise only).
	Role Role `yaml:"role" json:"role"`
	// Groups lists the IDs of the groups the member belongs to.
	Groups []string `yaml:"groups,omitempty" json:"groups,omitempty"`
	// Cowork is the member's own Cowork setting. Nil means on; false switches Cowork off
	// for this member even where policy allows it.
	Cowork *bool `yaml:"cowork,omitempty" json:"cowork,omitempty"`
}

// Source returns the positions of the values of a snapshot decoded by [Load], keyed by
// path; it is nil for a snapshot built in code.
func (s *Snapshot) Source() Source { return s.src }

// Clone returns a deep copy of s that shares nothing with it and has no indexes yet.
func (s *Snapshot) Clone() *Snapshot {
	c := &Snapshot{
		Organization: s.Organization,
		Plan:         s.Plan,
		Cowork:       cloneBool(s.Cowork),
		Skills:       cloneBool(s.Skills),
		Entitlements: Entitlements{Cowork: cloneBool(s.Entitlements.Cowork), Skills: cloneBool(s.Entitlements.Skills)},
		Groups:       slices.Clone(s.Groups),
		Telemetry:    Telemetry{Endpoint: s.Telemetry.Endpoint, Protocol: s.Telemetry.Protocol, Headers: slices.Clone(s.Telemetry.Headers)},
		src:          s.src,
	}
	for _, r := range s.Roles {
		r.Grants = slices.Clone(r.Grants)
		r.Groups = slices.Clone(r.Groups)
		c.Roles = append(c.Roles, r)
	}
	for _, m := range s.Members {
		m.Groups = slices.Clone(m.Groups)
		m.Cowork = cloneBool(m.Cowork)
		c.Members = append(c.Members, m)
	}
	if s.Egress != nil {
		e := Egress{AllowAll: s.Egress.AllowAll, Domains: slices.Clone(s.Egress.Domains)}
		c.Egress = &e
	}
	return c
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// Bool returns a pointer to b, for the optional toggles of a snapshot built in code.
func Bool(b bool) *bool { return &b }

// SetSource records the positions of a snapshot decoded by other means, so that
// [Snapshot.Validate] can report lines and the raw text of unknown values. Package plugins
// uses it for documents that embed a policy snapshot. Call it before the first use.
func (s *Snapshot) SetSource(src Source) { s.src = src }
