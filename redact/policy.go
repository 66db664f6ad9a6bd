package redact

import (
	"strings"

	"github.com/coworkgov/cowork/telemetry"
)

// Action is how a rule changes what it matched. The zero value, ActionUnknown, is invalid in
// a rule.
type Action uint8

// The actions.
const (
	ActionUnknown    Action = iota
	ActionKeep              // leave the value (or detection) unchanged; stops later rules
	ActionDrop              // remove the attribute (or JSON member, or array element)
	ActionMask              // replace with Rule.Mask ("[REDACTED]" when empty)
	ActionLabel             // replace with the entity label: "[EMAIL]", "[GITHUB_TOKEN]", …
	ActionPartial           // keep Rule.KeepFirst / Rule.KeepLast characters (or an e-mail's domain), star the rest
	ActionHash              // keyed pseudonym: entity ":" [key id ":"] 16 hex of HMAC-SHA256, stable per key
	ActionLength            // replace with "[LEN:n]", n the length in characters
	ActionTruncate          // keep the first Rule.MaxLen characters and append "…"
	ActionGeneralize        // generalise a path: home directory to "~", middle directories to "…"
)

var actionNames = [...]string{"", "keep", "drop", "mask", "label", "partial", "hash", "length", "truncate", "generalize"}

// String returns the action's policy name, e.g. "hash".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return ""
}

// ParseAction maps a policy name to an Action ("generalise" is accepted too).
func ParseAction(s string) (Action, bool) {
	s = strings.ToLower(s)
	if s == "generalise" {
		return ActionGeneralize, true
	}
	for i, n := range actionNames[1:] {
		if n == s {
			return Action(i + 1), true
		}
	}
	return ActionUnknown, false
}

// Scope says whether a rule applies to record attributes, resource attributes or both. The
// zero value, ScopeAny, is the unset scope and means both.
type Scope uint8

// The scopes.
const (
	ScopeAny      Scope = iota // record and resource attributes
	ScopeRecord                // log record attributes (and the body)
	ScopeResource              // resource attributes
)

var scopeNames = [...]string{"any", "record", "resource"}

// String returns "any", "record" or "resource".
func (s Scope) String() string {
	if int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return ""
}

// Rule is one line of a policy: where it applies (Events, Keys, Scope), what it matches (the
// whole value, or the detections of some detectors) and how it changes it (Action and the
// action's parameters).
//
// Keys are globs over full attribute paths: an attribute key, followed for JSON-valued
// attributes and maps by member names, joined with ".": "tool_input.file_path",
// "tool_parameters.full_command". "*" matches within one dot-separated segment, "**" any number
// of segments; array elements have the path of their array. Empty Keys match every path.
type Rule struct {
	// Name identifies the rule in audit counts; it must be unique within a policy.
	Name string
	// Events are event names ("user_prompt", globs allowed); empty matches every event.
	// Resource attributes belong to no event, so a rule with Events never applies to them.
	Events []string
	// Keys are path globs; see the type's documentation.
	Keys []string
	// Scope restricts the rule to record or resource attributes; ScopeAny means both.
	Scope Scope
	// Detectors lists what the rule matches: detections of these detectors inside the value
	// (naming a detector here turns it on even if Policy.Detectors omits it). Empty means the
	// whole value.
	Detectors []Detector
	// Action is what happens to the match.
	Action Action
	// Mask is ActionMask's replacement text; "[REDACTED]" when empty.
	Mask string
	// KeepFirst and KeepLast are the characters ActionPartial keeps at each end.
	KeepFirst, KeepLast int
	// KeepDomain makes ActionPartial keep the domain of an e-mail address ("***@acme.example").
	KeepDomain bool
	// MaxLen is ActionTruncate's length in characters; 32 when zero.
	MaxLen int
	// Entity is ActionHash's pseudonym prefix ("email", "user") and ActionLabel's label for
	// whole values; detections use the detector's own when empty.
	Entity string
	// Depth is how many leading directories ActionGeneralize keeps; 2 when zero.
	Depth int
}

// Policy is a complete redaction configuration. The zero Policy redacts nothing. Policy values
// are plain data: build them in Go, start from a preset ([Strict], [Balanced], [None]), or load
// them with [ParsePolicy]. [New] copies what it needs; the presets must not be modified.
type Policy struct {
	// Name names the policy in logs and errors.
	Name string
	// Detectors are the detectors run over values that no whole-value rule claims.
	Detectors []Detector
	// Rules are tried in order; the first whole-value rule matching a path decides the value,
	// and for each detection the first detection rule matching its path and detector decides
	// it. Detections no rule claims get ActionLabel.
	Rules []Rule
	// JSONKeys are path globs whose string values are JSON documents. They are parsed and
	// redacted member by member; a value that does not parse is removed (fail closed). Other
	// string values that look like a JSON object or array are parsed too, and scanned as text
	// when they do not parse. An empty value is left as it is.
	JSONKeys []string
	// Skip are path globs detectors never scan: pseudonymous identifiers that joins need and
	// enumerated fields. Whole-value rules still apply to them.
	Skip []string
}

// protectedKeys are never changed by any rule or detector: the correlation chain needs them.
var protectedKeys = map[string]bool{
	telemetry.KeyPromptID: true, telemetry.KeySessionID: true, telemetry.KeyToolUseID: true, telemetry.KeyMessageUUID: true,
	telemetry.KeySequence: true, telemetry.KeyEventName: true, telemetry.KeyTimestamp: true,
	AuditKeyCount: true, AuditKeyRules: true, AuditKeyKeys: true,
}

// ProtectedKeys returns the attribute keys the engine never changes: prompt.id, session.id,
// tool_use_id, message.uuid, event.sequence, event.name, event.timestamp and its own audit keys.
func ProtectedKeys() []string {
	out := make([]string, 0, len(protectedKeys))
	for k := range protectedKeys {
		out = append(out, k)
	}
	return out
}

// defaultSkip are identifiers and enumerated fields that detectors need not scan.
var defaultSkip = []string{
	telemetry.KeyOrganizationID, telemetry.KeyAccountID, telemetry.KeyAccountUUID, telemetry.KeyUserID,
	telemetry.KeyClientRequestID, telemetry.KeyRequestID, telemetry.KeyMessageID, telemetry.KeyAgentID,
	telemetry.KeyPluginIDHash, telemetry.KeyToolHash, telemetry.KeySystemPromptHash, telemetry.KeyManagedSettingsResolvedSHA256,
	telemetry.KeyWorkflowRunID, telemetry.KeyRequestBodyID, telemetry.KeyBodyRef, telemetry.KeyVCSRefHeadRevision,
	telemetry.KeyTerminalType, telemetry.KeyProvider, telemetry.KeyModel, telemetry.KeyFinalModel, telemetry.KeySpeed,
	telemetry.KeyEffort, telemetry.KeyQuerySource, telemetry.KeyDecision, telemetry.KeySource, telemetry.KeyDecisionSource,
	telemetry.KeyDecisionType, telemetry.KeyToolName, telemetry.KeyToolSource, telemetry.KeyPermissionMode,
	telemetry.KeySuccess, telemetry.KeyStatus, telemetry.KeyTransportType, telemetry.KeyServerScope,
	telemetry.KeyMCPServerScope, telemetry.KeyPluginScope, telemetry.KeyEnabledVia, telemetry.KeySafeMode,
	telemetry.KeySkillSource, telemetry.KeySkillKind, telemetry.KeyInvocationTrigger, telemetry.KeyManagedSettingsTrigger,
	telemetry.KeyManagedSettingsSourceBehavior, telemetry.KeyManagedSettingsHelperState,
	telemetry.KeyManagedSettingsHelperApplied, telemetry.KeyServiceName, telemetry.KeyServiceVersion, telemetry.KeyOSType,
	telemetry.KeyOSVersion, telemetry.KeyHostArch, telemetry.KeyAppVersion, telemetry.KeyAppEntrypoint,
	telemetry.KeyIdentitySource, telemetry.KeyErrorType, telemetry.KeyErrorCategory, telemetry.KeyStatusCode,
	telemetry.KeyDurationMS, telemetry.KeyPromptLength, telemetry.KeyResponseLength, telemetry.KeyToolInputSizeBytes,
	telemetry.KeyToolResultSizeBytes, telemetry.KeyWSLVersion,
}

var defaultJSONKeys = []string{telemetry.KeyToolInput, telemetry.KeyToolParameters, telemetry.KeyManagedSettingsSettings}

var secretDetectors = func() []Detector {
	var out []Detector
	for d := Detector(1); d < detectorCount; d++ {
		if d.IsSecret() {
			out = append(out, d)
		}
	}
	return out
}()

// Strict is the privacy-sensitive default: prompt, response and system prompt text reduced
// to its length and request bodies dropped, file contents in tool inputs reduced to length,
// paths generalised (home directory to "~"), e-mail addresses and account names (user.email,
// process.owner, enduser.id, user names inside paths) replaced by keyed pseudonyms so joins
// still work, and every secret and other personal datum masked with its label everywhere,
// with every detector on.
var Strict = Policy{
	Name:      "strict",
	Detectors: Detectors(),
	JSONKeys:  defaultJSONKeys,
	Skip:      defaultSkip,
	Rules: []Rule{
		{Name: "text-length", Keys: []string{telemetry.KeyPrompt, telemetry.KeyPromptText, telemetry.KeyResponse, telemetry.KeySystemPrompt,
			"tool_input.content", "tool_input.new_string", "tool_input.old_string", "tool_input.new_source", "tool_input.edits",
			"tool_input.todos", "tool_input.prompt"}, Action: ActionLength},
		{Name: "drop-bodies", Keys: []string{telemetry.KeyBody}, Scope: ScopeRecord, Action: ActionDrop},
		{Name: "generalize-paths", Keys: []string{telemetry.KeyWorkspaceHostPaths, "tool_input.file_path", "tool_input.path",
			"tool_input.notebook_path", telemetry.KeyManagedSettingsHelperPath}, Action: ActionGeneralize},
		{Name: "pseudonymize-email", Keys: []string{telemetry.KeyUserEmail}, Action: ActionHash, Entity: "email"},
		{Name: "pseudonymize-account", Keys: []string{telemetry.KeyProcessOwner, telemetry.KeyEnduserID}, Action: ActionHash, Entity: "user"},
		{Name: "emails", Detectors: []Detector{DetectorEmail}, Action: ActionHash},
		{Name: "path-users", Detectors: []Detector{DetectorHomeUser}, Action: ActionHash},
		{Name: "secrets", Detectors: secretDetectors, Action: ActionLabel},
		{Name: "personal-data", Detectors: []Detector{DetectorCard, DetectorIBAN, DetectorSSN, DetectorPhone, DetectorIPv4, DetectorIPv6}, Action: ActionLabel},
	},
}

// Balanced keeps prompt, response and tool text and masks what the detectors find in it:
// secrets by label, card numbers to their last four digits, e-mail addresses to their domain,
// user names in paths and account names by keyed pseudonym, other personal data by label.
var Balanced = Policy{
	Name:      "balanced",
	Detectors: Detectors(),
	JSONKeys:  defaultJSONKeys,
	Skip:      defaultSkip,
	Rules: []Rule{
		{Name: "pseudonymize-account", Keys: []string{telemetry.KeyProcessOwner, telemetry.KeyEnduserID}, Action: ActionHash, Entity: "user"},
		{Name: "emails", Detectors: []Detector{DetectorEmail}, Action: ActionPartial, KeepDomain: true},
		{Name: "cards", Detectors: []Detector{DetectorCard}, Action: ActionPartial, KeepLast: 4},
		{Name: "path-users", Detectors: []Detector{DetectorHomeUser}, Action: ActionHash},
		{Name: "secrets", Detectors: secretDetectors, Action: ActionLabel},
		{Name: "personal-data", Detectors: []Detector{DetectorIBAN, DetectorSSN, DetectorPhone, DetectorIPv4, DetectorIPv6}, Action: ActionLabel},
	},
}

// None redacts nothing.
var None = Policy{Name: "none"}

// Preset returns the preset policy named name ("strict", "balanced", "none").
func Preset(name string) (Policy, bool) {
	switch strings.ToLower(name) {
	case "strict":
		return Strict, true
	case "balanced":
		return Balanced, true
	case "none":
		return None, true
	}
	return Policy{}, false
}
