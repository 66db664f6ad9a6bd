package policy

import "errors"

// Sentinel errors. Every error returned by this package, and every [Issue], wraps one of
// them, so callers test with [errors.Is] and never by message.
var (
	// ErrSyntax reports a document that is not well-formed YAML or JSON.
	ErrSyntax = errors.New("policy: syntax error")
	// ErrUnknownField reports a field the snapshot format does not define (strict decoding).
	ErrUnknownField = errors.New("policy: unknown field")
	// ErrType reports a value of the wrong type, such as a list where a string belongs.
	ErrType = errors.New("policy: wrong value type")
	// ErrTooLarge reports input larger than [DecodeOptions.MaxBytes].
	ErrTooLarge = errors.New("policy: input too large")
	// ErrTooDeep reports input nested deeper than [DecodeOptions.MaxDepth].
	ErrTooDeep = errors.New("policy: input nested too deeply")
	// ErrAlias reports a YAML alias or anchor, which snapshots may not use.
	ErrAlias = errors.New("policy: yaml aliases are not allowed")

	// ErrUnknownMember reports a member ID the snapshot does not contain.
	ErrUnknownMember = errors.New("policy: unknown member")
	// ErrUnknownValue reports an enumerated value this version does not name (a plan, a
	// role, a capability, a protocol, an installation preference). It fails closed.
	ErrUnknownValue = errors.New("policy: unknown value")
	// ErrMissing reports a required field left empty, such as a member without an ID.
	ErrMissing = errors.New("policy: required field missing")
	// ErrDuplicate reports two entries with the same ID, or two settings for one target.
	ErrDuplicate = errors.New("policy: duplicate entry")
	// ErrDanglingGroup reports a reference to a group ID the snapshot does not define.
	ErrDanglingGroup = errors.New("policy: unknown group")
	// ErrDanglingRole reports a reference to a custom role the snapshot does not define.
	ErrDanglingRole = errors.New("policy: unknown custom role")
	// ErrTooManyGroups reports more groups than an organization may have ([MaxGroups]).
	ErrTooManyGroups = errors.New("policy: too many groups")
	// ErrPlanFeature reports a setting the organization's plan does not support, such as
	// custom roles or group settings on a Team plan. The setting is ignored.
	ErrPlanFeature = errors.New("policy: setting not available on this plan")

	// ErrEndpoint reports an OTLP endpoint that is not a usable URL.
	ErrEndpoint = errors.New("policy: invalid otlp endpoint")
	// ErrHeaders reports OTLP headers that do not follow the key=value,… syntax.
	ErrHeaders = errors.New("policy: invalid otlp headers")
	// ErrProtocol reports an OTLP protocol Cowork cannot use as configured.
	ErrProtocol = errors.New("policy: otlp protocol")
	// ErrEgressBlocked reports a collector host outside the network egress allow-list:
	// events sent from Cowork sessions would be dropped.
	ErrEgressBlocked = errors.New("policy: collector host blocked by egress allow-list")
	// ErrInsecure reports telemetry sent in clear text to a non-local host.
	ErrInsecure = errors.New("policy: telemetry sent without tls")
)
