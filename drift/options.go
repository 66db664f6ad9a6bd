package drift

// DefaultMaxEvidence is the number of evidence items a finding keeps when
// [Options.MaxEvidence] is zero.
const DefaultMaxEvidence = 5

// BuiltinMarketplace is the marketplace name Claude Code gives its own bundled plugins.
const BuiltinMarketplace = "builtin"

// Options configures a [Detector]. The zero value is ready to use. Options are values and safe
// for concurrent use.
type Options struct {
	// OrganizationIDs are organization IDs accepted besides the snapshot's Organization.ID
	// (events carry the organization UUID while Admin API exports may name the org `org_…`).
	// When neither the snapshot nor this list names an ID, [KindForeignOrganization] is not
	// checked. Compared case-insensitively.
	OrganizationIDs []string
	// KnownMarketplaces are marketplace names that are never unknown and whose plugins are
	// never checked against the snapshot (they are not the organization's to distribute).
	// [BuiltinMarketplace] is always included. Compared case-insensitively.
	KnownMarketplaces []string
	// MaxEvidence bounds the evidence items kept per finding (one per session, earliest
	// first). Zero means [DefaultMaxEvidence]; negative keeps every session.
	MaxEvidence int
}

func (o Options) maxEvidence() int {
	switch {
	case o.MaxEvidence == 0:
		return DefaultMaxEvidence
	case o.MaxEvidence < 0:
		return int(^uint(0) >> 1)
	}
	return o.MaxEvidence
}
