package plugins

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Owner says who owns a plugin or marketplace, as in the Admin API: the organization, or
// the member whose personal marketplace it lives in.
type Owner struct {
	// Type is "organization" or "organization_member".
	Type string `yaml:"type" json:"type"`
	// UserID names the member for a member-owned object.
	UserID string `yaml:"user_id,omitempty" json:"user_id,omitempty"`
}

// Marketplace is a plugin marketplace in the Admin API shape
// (GET /v1/organizations/plugin_marketplaces). Only ID and DefaultInstallationPreference
// take part in resolution; the other fields are kept so API output decodes strictly.
type Marketplace struct {
	// Type is "plugin_marketplace".
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// ID is the marketplace ID, prefixed `marketplace_`.
	ID string `yaml:"id" json:"id"`
	// Name is the marketplace name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// DefaultInstallationPreference is the org-wide setting of every plugin in the
	// marketplace without one of its own. Nil for a member's personal marketplace.
	DefaultInstallationPreference *Level `yaml:"default_installation_preference,omitempty" json:"default_installation_preference,omitempty"`
	// Owner says who owns the marketplace.
	Owner *Owner `yaml:"owner,omitempty" json:"owner,omitempty"`
	// Source is how its content arrives ("github", "manual", …).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// SyncStatus is the outcome of the last repository sync ("success", "failed_auth", …).
	SyncStatus string `yaml:"sync_status,omitempty" json:"sync_status,omitempty"`
	// LastSyncEndedAt is when the last sync finished (RFC 3339).
	LastSyncEndedAt string `yaml:"last_sync_ended_at,omitempty" json:"last_sync_ended_at,omitempty"`
	// LastSyncReadSHA is the commit the last sync read.
	LastSyncReadSHA string `yaml:"last_sync_read_sha,omitempty" json:"last_sync_read_sha,omitempty"`
	// CreatedAt is when the marketplace was created (RFC 3339).
	CreatedAt string `yaml:"created_at,omitempty" json:"created_at,omitempty"`
}

// Component is one skill, command, agent, hook or MCP server a plugin provides.
type Component struct {
	// Type is "skill", "command", "agent", "mcp_server", ….
	Type string `yaml:"type" json:"type"`
	// Name is the component's name.
	Name string `yaml:"name" json:"name"`
	// Description may be empty.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// ContentScan is the result of Anthropic's scan of a plugin version.
type ContentScan struct {
	// Status is the scan's progress ("completed", …).
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
	// Assessment is the verdict ("pass", …).
	Assessment string `yaml:"assessment,omitempty" json:"assessment,omitempty"`
	// Reason explains a failing assessment.
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
}

// Plugin is an organization plugin in the Admin API shape (GET /v1/organizations/plugins).
// Resolution uses ID, MarketplaceID, OrganizationInstallationPreference and
// OrganizationInstallationPreferenceInherited.
type Plugin struct {
	// Type is "plugin".
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// ID is the plugin ID, prefixed `plugin_`.
	ID string `yaml:"id" json:"id"`
	// Name is the lowercase identifier, unique within its marketplace.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// DisplayName is the served version's display name.
	DisplayName string `yaml:"display_name,omitempty" json:"display_name,omitempty"`
	// Description is the served version's description.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// MarketplaceID names the marketplace the plugin lives in.
	MarketplaceID string `yaml:"marketplace_id,omitempty" json:"marketplace_id,omitempty"`
	// OrganizationInstallationPreference is the org-wide setting: the plugin's own, or its
	// marketplace's default when OrganizationInstallationPreferenceInherited is true. Nil
	// means the snapshot leaves it to the marketplace default.
	OrganizationInstallationPreference *Level `yaml:"organization_installation_preference,omitempty" json:"organization_installation_preference,omitempty"`
	// OrganizationInstallationPreferenceInherited is true while the plugin has no org-wide
	// setting of its own.
	OrganizationInstallationPreferenceInherited bool `yaml:"organization_installation_preference_inherited,omitempty" json:"organization_installation_preference_inherited,omitempty"`
	// Owner says who owns the plugin; nil or "organization" for org plugins.
	Owner *Owner `yaml:"owner,omitempty" json:"owner,omitempty"`
	// ServedVersionID is the version members are served.
	ServedVersionID string `yaml:"served_version_id,omitempty" json:"served_version_id,omitempty"`
	// ServedVersionPinned is true when an admin pinned the served version.
	ServedVersionPinned bool `yaml:"served_version_pinned,omitempty" json:"served_version_pinned,omitempty"`
	// LatestVersionID is the newest stored version.
	LatestVersionID string `yaml:"latest_version_id,omitempty" json:"latest_version_id,omitempty"`
	// ManifestVersion is the version string the served version's manifest declares.
	ManifestVersion string `yaml:"manifest_version,omitempty" json:"manifest_version,omitempty"`
	// Reach classifies what the plugin can touch ("remote", "privileged", "contained").
	Reach string `yaml:"reach,omitempty" json:"reach,omitempty"`
	// CreatedBy names the actor that uploaded the plugin.
	CreatedBy map[string]string `yaml:"created_by,omitempty" json:"created_by,omitempty"`
	// ContentScan is the result of Anthropic's scan of the served version.
	ContentScan *ContentScan `yaml:"content_scan,omitempty" json:"content_scan,omitempty"`
	// Components lists what the served version provides.
	Components []Component `yaml:"components,omitempty" json:"components,omitempty"`
	// CreatedAt is when the plugin was created (RFC 3339).
	CreatedAt string `yaml:"created_at,omitempty" json:"created_at,omitempty"`
	// UpdatedAt is when the plugin last changed (RFC 3339).
	UpdatedAt string `yaml:"updated_at,omitempty" json:"updated_at,omitempty"`
}

// TargetType is the kind of an installation setting's target. The zero value,
// [TargetUnknown], is what an unrecognised type decodes to; such settings are ignored with
// a validation error.
type TargetType uint8

// Target types, named as in the Admin API.
const (
	TargetUnknown            TargetType = iota // not recognised: the setting is ignored
	TargetOrganization                         // "organization": every member
	TargetRBACGroup                            // "rbac_group": the members of one group
	TargetOrganizationMember                   // "organization_member": not used for installation settings; ignored
)

var targetNames = [...]string{"unknown", "organization", "rbac_group", "organization_member"}

// String returns the API name of t, or "unknown".
func (t TargetType) String() string {
	if int(t) < len(targetNames) {
		return targetNames[t]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler].
func (t TargetType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]; unknown names decode to
// [TargetUnknown] without error.
func (t *TargetType) UnmarshalText(b []byte) error {
	*t = TargetUnknown
	for i, n := range targetNames {
		if i > 0 && n == string(b) {
			*t = TargetType(i)
		}
	}
	return nil
}

// Target is who an installation setting applies to.
type Target struct {
	// Type is organization or rbac_group.
	Type TargetType `yaml:"type" json:"type"`
	// RBACGroupID names the group for [TargetRBACGroup].
	RBACGroupID string `yaml:"rbac_group_id,omitempty" json:"rbac_group_id,omitempty"`
	// UserID names the member for [TargetOrganizationMember].
	UserID string `yaml:"user_id,omitempty" json:"user_id,omitempty"`
}

// String returns "organization" or "rbac_group:<id>".
func (t Target) String() string {
	switch t.Type {
	case TargetRBACGroup:
		return "rbac_group:" + t.RBACGroupID
	case TargetOrganizationMember:
		return "organization_member:" + t.UserID
	}
	return t.Type.String()
}

// InstallationSetting is a plugin's setting for one target, in the Admin API shape
// (GET /v1/organizations/plugins/{plugin_id}/installation_settings). A setting for the
// organization is the plugin's own org-wide setting; a group's setting replaces it for
// the group's members.
type InstallationSetting struct {
	// Type is "plugin_installation_setting".
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// PluginID names the plugin.
	PluginID string `yaml:"plugin_id" json:"plugin_id"`
	// Target is who the setting applies to.
	Target Target `yaml:"target" json:"target"`
	// InstallationPreference is the level.
	InstallationPreference Level `yaml:"installation_preference" json:"installation_preference"`
	// CreatedAt is when the setting was created (RFC 3339).
	CreatedAt string `yaml:"created_at,omitempty" json:"created_at,omitempty"`
	// UpdatedAt is when the setting last changed (RFC 3339).
	UpdatedAt string `yaml:"updated_at,omitempty" json:"updated_at,omitempty"`
}

// DecodeMarketplaces decodes Admin API marketplace output: a list page
// (`{"data": [...], "next_page": ...}`), a JSON array, or one object. Unknown fields are
// ignored (the API grows); unknown levels decode to [LevelUnknown].
func DecodeMarketplaces(data []byte) ([]Marketplace, error) { return decodeAPI[Marketplace](data) }

// DecodePlugins decodes Admin API plugin output, like [DecodeMarketplaces].
func DecodePlugins(data []byte) ([]Plugin, error) { return decodeAPI[Plugin](data) }

// DecodeInstallationSettings decodes Admin API installation-setting output, like
// [DecodeMarketplaces].
func DecodeInstallationSettings(data []byte) ([]InstallationSetting, error) {
	return decodeAPI[InstallationSetting](data)
}

func decodeAPI[T any](data []byte) ([]T, error) {
	if len(data) > 64<<20 {
		return nil, fmt.Errorf("plugins: admin api response too large (%d bytes)", len(data))
	}
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, nil
	}
	if t[0] == '[' {
		var out []T
		if err := json.Unmarshal(t, &out); err != nil {
			return nil, fmt.Errorf("plugins: decoding admin api list: %w", err)
		}
		return out, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(t, &probe); err != nil {
		return nil, fmt.Errorf("plugins: decoding admin api response: %w", err)
	}
	if raw, ok := probe["data"]; ok {
		var out []T
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("plugins: decoding admin api page: %w", err)
		}
		return out, nil
	}
	var one T
	if err := json.Unmarshal(t, &one); err != nil {
		return nil, fmt.Errorf("plugins: decoding admin api object: %w", err)
	}
	return []T{one}, nil
}
