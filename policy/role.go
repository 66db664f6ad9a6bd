package policy

// Role is a member's built-in organization role. The zero value, [RoleUnknown], is what an
// unrecognised role decodes to; such a member is treated like [RoleUser] and reported by
// [Snapshot.Validate].
type Role uint8

// Roles.
const (
	RoleUnknown Role = iota // not set or not recognised; treated like RoleUser
	RoleUser                // "user": follows the org toggles
	RoleAdmin               // "admin": follows the org toggles
	RoleOwner               // "owner": follows the org toggles
	RoleCustom              // "custom": gets only what the custom roles of their groups grant (Enterprise)
)

var roleNames = [...]string{"unknown", "user", "admin", "owner", "custom"}

// String returns the wire name of r or "unknown".
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler].
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]. Unknown names decode to
// [RoleUnknown] without error.
func (r *Role) UnmarshalText(b []byte) error {
	*r = RoleUnknown
	for i, n := range roleNames {
		if i > 0 && n == string(b) {
			*r = Role(i)
		}
	}
	return nil
}

// Capability is a feature a custom role can grant. The zero value, [CapabilityUnknown], is
// what an unrecognised capability decodes to; it grants nothing.
type Capability uint8

// Capabilities.
const (
	CapabilityUnknown    Capability = iota // not recognised; grants nothing
	CapabilityCowork                       // "cowork"
	CapabilityClaudeCode                   // "claude_code"
	CapabilityWebSearch                    // "web_search"
	CapabilityConnectors                   // "connectors"
)

var capabilityNames = [...]string{"unknown", "cowork", "claude_code", "web_search", "connectors"}

// String returns the wire name of c or "unknown".
func (c Capability) String() string {
	if int(c) < len(capabilityNames) {
		return capabilityNames[c]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler].
func (c Capability) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]. Unknown names decode to
// [CapabilityUnknown] without error.
func (c *Capability) UnmarshalText(b []byte) error {
	*c = CapabilityUnknown
	for i, n := range capabilityNames {
		if i > 0 && n == string(b) {
			*c = Capability(i)
		}
	}
	return nil
}

// CustomRole is an Enterprise custom role: a named bundle of capability grants attached to
// groups. A member whose [Member.Role] is [RoleCustom] gets a capability if any custom role
// attached to any of their groups grants it.
type CustomRole struct {
	// ID identifies the role within the snapshot.
	ID string `yaml:"id" json:"id"`
	// Name is the display name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Grants lists the capabilities the role grants.
	Grants []Capability `yaml:"grants,omitempty" json:"grants,omitempty"`
	// Groups lists the IDs of the groups the role is attached to.
	Groups []string `yaml:"groups,omitempty" json:"groups,omitempty"`
}

// grants reports whether the role grants c.
func (r *CustomRole) grants(c Capability) bool {
	for _, g := range r.Grants {
		if g == c {
			return true
		}
	}
	return false
}
