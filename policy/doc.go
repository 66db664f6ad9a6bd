// Package policy models an organization's Cowork admin controls and decides, with reasons,
// whether Cowork is on for a member.
//
// A [Snapshot] is the org at one moment: plan ([PlanTeam] or [PlanEnterprise]), the Cowork
// and Skills toggles (on by default), platform [Entitlements] (features Anthropic forces on
// or off), groups (manual or SCIM, at most [MaxGroups]), Enterprise custom roles with
// capability grants attached to groups, members (built-in role user, admin or owner, or
// custom roles; and their own setting), and the [Telemetry] (OTLP) settings. Load one from
// YAML or JSON with [Load]; decoding is strict (an unknown field is an error with its
// line), bounded in size and depth, and every snapshot has a content-hash
// [Snapshot.Revision] that every [Decision] names.
//
// # Precedence
//
// [Snapshot.Evaluate] walks four gates in order and stops at the first that switches Cowork
// off; the most restrictive level wins:
//
//  1. Entitlement. A platform override forcing Cowork off stops it for everyone. Forcing it
//     on locks the org toggle on; the later gates still apply.
//  2. Org toggle. Off stops Cowork for everyone; no role can re-enable it. Unset means on.
//  3. Custom roles (Enterprise only). A member whose role is [RoleCustom] gets Cowork if any
//     custom role attached to any of their groups grants [CapabilityCowork] (any granting
//     role grants); with none, the gate stops. Members with built-in roles skip the gate
//     and follow the org toggle. On a Team plan (or an unknown plan, treated as Team) the
//     gate does not apply: custom roles and custom-role members are reported by
//     [Snapshot.Validate] and ignored, with a warning in the decision.
//  4. Member setting. A member may switch Cowork off for themselves. Unset means on.
//
// Skills ([FeatureSkills], a prerequisite of plugins) has only the entitlement and the org
// toggle. Unknown enumerated values fail closed or to the narrower meaning: an unknown plan
// is a Team plan, an unknown role is a user, an unknown capability grants nothing.
//
// # Telemetry
//
// No endpoint means nothing is exported (opt-in). [Telemetry.Check] checks the endpoint URL,
// warns that Cowork sessions fall back from gRPC to http/protobuf, and warns when the
// collector host is outside the network [Egress] allow-list (events would be dropped).
// [Telemetry.Env] renders the OTEL_* environment an exporter reads and [Telemetry.Form] the
// admin form's three fields. [Headers] use the OTLP `key=value,…` syntax with
// percent-decoding; their values are secret and never printed, formatted, logged
// ([slog.LogValuer]) or marshalled.
//
// # Errors
//
// Errors wrap sentinels ([ErrUnknownField], [ErrDanglingGroup], …) testable with
// [errors.Is]. [DecodeError] and [Issue] carry paths and lines. [Snapshot.Validate] reports
// every problem at once. DESIGN.md records the decisions and the alternatives rejected.
//
// Package plugins builds on this package for plugin distribution.
package policy
