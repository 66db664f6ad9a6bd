// Package plugins resolves Cowork plugin distribution per member, explains every result,
// previews the effect of a policy change, and validates Claude plugin packages.
//
// A [Snapshot] embeds a [policy.Snapshot] and adds marketplaces, plugins and installation
// settings in the Anthropic Admin API shapes ([DecodeMarketplaces], [DecodePlugins] and
// [DecodeInstallationSettings] read the API's JSON), the [Combinator] for members in several
// groups, and member state (what members uninstalled or installed themselves).
//
// [Resolve] gives every plugin's [Decision] for one member: effective [Level], visible,
// installed, can install, can uninstall, editable (always false: plugins are
// organization-managed), and an [Explanation] (gates, base and its source, each group's
// value, the combinator, the winner, the member's own actions). The rules, in order:
//
//  1. Plugins need Cowork on for the member and Skills on for the organization.
//  2. Base level: an installation setting targeting the organization, else the plugin's own
//     organization_installation_preference, else the marketplace's
//     default_installation_preference, else not_available.
//  3. Enterprise only: if any of the member's groups holds a setting, the group values
//     replace the base (a group can narrow as well as widen) and combine by the
//     combinator: [StrongestWins] (default; required > auto_install > available >
//     not_available), [DenyOverrides] (any not_available wins, else strongest) or [Ranked]
//     (the admin's group ranking; the first ranked group with a setting wins; unranked groups
//     follow in ID order). On Team plans group settings are ignored with a warning.
//  4. Unknown levels fail closed as not_available with a warning; an unknown combinator
//     fails closed as deny-overrides; duplicate settings for one target keep the most
//     restrictive.
//  5. Member overlay: required is installed and cannot be uninstalled; auto_install is
//     installed unless the member uninstalled it; available is installed only if the member
//     installed it; not_available hides the plugin and removes a previous install.
//
// [ResolveInto] does the same into a reused [Result], for loops over many members.
//
// Every combinator is commutative over group order, so the result does not depend on the
// order of groups, memberships or settings. [Snapshot.Install], [Snapshot.Uninstall] and
// [Snapshot.Edit] apply member actions and refuse with an [*ActionError] ([ErrRequired],
// [ErrHidden], [ErrCoworkOff], [ErrSkillsOff], [ErrOrgManaged]). [Diff] is the dry run:
// per member what they gain, lose, get force-installed or can no longer uninstall,
// computed with the same resolver. [Snapshot.Validate] reports every problem at once.
//
// [ValidateDir], [ParseManifest] and [ParseMarketplace] check `.claude-plugin/plugin.json`
// and `.claude-plugin/marketplace.json` the way `claude plugin validate` does.
package plugins
