package plugins

import "errors"

// Sentinel errors. Snapshot problems reuse the sentinels of package policy
// ([policy.ErrDanglingGroup], [policy.ErrDuplicate], [policy.ErrUnknownValue],
// [policy.ErrPlanFeature], …); these are the ones specific to plugins.
var (
	// ErrUnknownPlugin reports a plugin ID the snapshot does not contain.
	ErrUnknownPlugin = errors.New("plugins: unknown plugin")
	// ErrUnknownMarketplace reports a plugin whose marketplace the snapshot does not contain.
	ErrUnknownMarketplace = errors.New("plugins: unknown marketplace")

	// ErrRequired: a required plugin cannot be uninstalled.
	ErrRequired = errors.New("plugins: plugin is required")
	// ErrHidden: a not_available plugin cannot be installed (the member cannot see it).
	ErrHidden = errors.New("plugins: plugin is not available")
	// ErrCoworkOff: no plugin action is possible while Cowork is off for the member.
	ErrCoworkOff = errors.New("plugins: cowork is off")
	// ErrSkillsOff: no plugin action is possible while Skills is off for the organization.
	ErrSkillsOff = errors.New("plugins: skills is off")
	// ErrOrgManaged: members cannot edit organization-managed plugins.
	ErrOrgManaged = errors.New("plugins: plugin is managed by the organization")

	// ErrManifest reports a plugin or marketplace manifest that Claude Code would refuse.
	ErrManifest = errors.New("plugins: invalid manifest")
	// ErrAdvice marks advisory manifest warnings (missing version, description or author,
	// unknown fields), which, like the CLI, are only given when there are no errors.
	ErrAdvice = errors.New("plugins: manifest advice")
	// ErrNoManifest reports a directory without .claude-plugin/plugin.json or marketplace.json.
	ErrNoManifest = errors.New("plugins: no manifest")
)
