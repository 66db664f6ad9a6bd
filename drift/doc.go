// Package drift compares what a fleet of Cowork and Claude Code agents did with what the
// organization's policy says they may do, and reports every difference as a typed [Finding].
//
// A [Detector] is built from a [plugins.Snapshot] (the policy snapshot with its plugin
// distribution) with [New]; events are added one at a time with [Detector.Add], in any order,
// and [Detector.Report] returns the findings. [Check] does the same for a slice of events and
// [CheckSeq] for an iterator. The result depends only on the snapshot and the set of events
// added, not on their order.
//
// # Findings
//
//   - [KindForeignOrganization]: telemetry whose organization.id is not the organization's
//     ([plugins.Snapshot] Organization.ID, plus [Options.OrganizationIDs]). Such events are
//     not checked further: the policy does not govern them.
//   - [KindUnknownMember]: telemetry from an identity that matches no member of the snapshot.
//   - [KindCoworkNotAllowed]: Cowork activity (resource service.name "cowork") from a member
//     for whom [policy.Snapshot.Evaluate] says Cowork is off; the explanation is the decision
//     with its gates.
//   - [KindForbiddenLoaded]: a plugin loaded, installed or used (plugin_loaded,
//     plugin_installed, skill_activated) that [plugins.Resolve] resolves to not_available for
//     the member, or that the snapshot does not list although its marketplace is the org's
//     (a plugin missing from the snapshot is hidden, as [plugins.Diff] treats it). A plugin
//     is forbidden when the resolver hides it from the member: by its level, or because
//     Cowork is off for the member or Skills for the organization. Plugin loads in Cowork
//     sessions of a member whose Cowork is off are left to [KindCoworkNotAllowed].
//   - [KindUnknownMarketplace]: a plugin from a marketplace the organization does not know.
//   - [KindRequiredMissing]: a plugin that resolves to required (and installed) for a member
//     and was never seen loaded in any of the member's sessions whose plugin loads were
//     observed. Members with no such session give no finding: absence of evidence is not
//     evidence of absence.
//
// Each finding names the member, the plugin or capability, the evidence (one item per
// session: the event name, session.id, event.sequence, prompt.id and time of the earliest
// event, up to [Options.MaxEvidence] sessions, with the total counts) and the policy
// explanation, rendered from the resolver's decision, with the snapshot revision.
//
// # Identity
//
// Events name their user with user.account_id (the tagged `user_…` id of the Admin API),
// user.account_uuid and user.email; snapshot members have an ID (`user_…`) and an email. An
// event is matched to a member by, in order: account_id equal to the member ID, account_uuid
// equal to the member ID, then email (case-insensitive, surrounding space ignored). Snapshots
// exported from the Admin API carry the tagged ID, so the first rule matches; snapshots written
// by hand usually only share the email. Redaction matters here: the strict preset of package
// redact pseudonymises user.email but keeps the account IDs, so events read back from a
// redacting collector only match members whose ID is the tagged account ID. Events without
// any identity are counted in [Stats.Anonymous] and not checked.
//
// Each member's Cowork decision and plugin resolution are computed once, on the member's first
// event, and reused.
//
// # Built-in plugins
//
// Claude Code loads its own plugins at every start (2.1.328 loads four, marketplace
// `builtin`, scope `default-bundle`). They are the CLI's, not the organization's: events from
// a marketplace in [Options.KnownMarketplaces] (by default only `builtin`) are counted in
// [Stats.BuiltinPlugins] and never produce a finding, unless the snapshot itself lists a
// marketplace of that name: then the admin governs it and its plugins are checked like any
// other. They do show that a session's start-up
// plugin loads were observed, so a session with only built-ins counts for
// [KindRequiredMissing].
// Marketplaces are matched by the snapshot's marketplace name or ID.
package drift
