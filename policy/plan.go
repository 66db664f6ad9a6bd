package policy

// Plan is the organization's Claude plan. The zero value, [PlanUnknown], is what any
// unrecognised plan name decodes to; it is evaluated like a Team plan (the narrower set of
// controls) and reported by [Snapshot.Validate].
type Plan uint8

// Plans.
const (
	PlanUnknown    Plan = iota // not set or not recognised; treated like PlanTeam
	PlanTeam                   // "team": only the org-wide toggles; no custom roles or group settings
	PlanEnterprise             // "enterprise": custom roles and per-group plugin settings
)

var planNames = [...]string{"unknown", "team", "enterprise"}

// String returns the wire name of p ("team", "enterprise") or "unknown".
func (p Plan) String() string {
	if int(p) < len(planNames) {
		return planNames[p]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler].
func (p Plan) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]. Unknown names decode to
// [PlanUnknown] without error; validation reports them.
func (p *Plan) UnmarshalText(b []byte) error {
	*p = PlanUnknown
	for i, n := range planNames {
		if i > 0 && n == string(b) {
			*p = Plan(i)
		}
	}
	return nil
}

// Enterprise reports whether the plan has the Enterprise-only controls: custom roles and
// per-group settings.
func (p Plan) Enterprise() bool { return p == PlanEnterprise }
