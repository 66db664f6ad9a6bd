package drift

// Kind is what a finding is about. The zero value, KindUnknown, is never produced; unknown
// names decode to it.
type Kind uint8

// Kinds, in the order reports list them.
const (
	KindUnknown             Kind = iota
	KindForeignOrganization      // "foreign_organization": telemetry from another organization
	KindUnknownMember            // "unknown_member": an identity the snapshot does not list
	KindCoworkNotAllowed         // "cowork_not_allowed": Cowork activity while Cowork is off for the member
	KindForbiddenLoaded          // "forbidden_loaded": a not_available plugin loaded or used
	KindUnknownMarketplace       // "unknown_marketplace": a plugin from a marketplace the org does not know
	KindRequiredMissing          // "required_missing": a required plugin never seen loaded
)

var kindNames = [...]string{"unknown", "foreign_organization", "unknown_member", "cowork_not_allowed",
	"forbidden_loaded", "unknown_marketplace", "required_missing"}

// Kinds returns every kind that can be produced, in report order.
func Kinds() []Kind {
	return []Kind{KindForeignOrganization, KindUnknownMember, KindCoworkNotAllowed, KindForbiddenLoaded,
		KindUnknownMarketplace, KindRequiredMissing}
}

// String returns the kind's snake_case name, or "unknown".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Severity returns the severity findings of kind k have: high for telemetry from another
// organization, Cowork use while it is off and forbidden plugins; medium for unknown
// marketplaces and missing required plugins; low for unknown members.
func (k Kind) Severity() Severity {
	switch k {
	case KindForeignOrganization, KindCoworkNotAllowed, KindForbiddenLoaded:
		return SeverityHigh
	case KindUnknownMarketplace, KindRequiredMissing:
		return SeverityMedium
	case KindUnknownMember:
		return SeverityLow
	}
	return SeverityUnknown
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. Unknown names decode to KindUnknown
// without error.
func (k *Kind) UnmarshalText(b []byte) error {
	*k = KindUnknown
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
		}
	}
	return nil
}

// Severity grades a finding. The zero value, SeverityUnknown, is never produced.
type Severity uint8

// Severities, least severe first.
const (
	SeverityUnknown Severity = iota
	SeverityLow              // "low": worth a look
	SeverityMedium           // "medium": policy is not being applied as written
	SeverityHigh             // "high": activity the policy forbids
)

var severityNames = [...]string{"unknown", "low", "medium", "high"}

// String returns "low", "medium", "high" or "unknown".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. Unknown names decode to SeverityUnknown.
func (s *Severity) UnmarshalText(b []byte) error {
	*s = SeverityUnknown
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i)
		}
	}
	return nil
}
