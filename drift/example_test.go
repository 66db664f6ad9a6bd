package drift_test

import (
	"fmt"

	"github.com/coworkgov/cowork/drift"
	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

const org = `
organization: {id: 00000000-0000-4000-8000-0000000000aa}
plan: enterprise
groups: [{id: rbac_group_sales}]
members:
  - {id: user_01ann, email: ann@acme.example, role: user, groups: [rbac_group_sales]}
marketplaces:
  - {id: marketplace_acme, name: acme-internal, default_installation_preference: available}
plugins:
  - {id: plugin_dlp, name: dlp, marketplace_id: marketplace_acme, organization_installation_preference: required}
  - {id: plugin_legal, name: acme-legal-review, marketplace_id: marketplace_acme}
installation_settings:
  - {plugin_id: plugin_legal, installation_preference: not_available, target: {type: rbac_group, rbac_group_id: rbac_group_sales}}
`

// Check a Cowork session start against the organization's plugin policy: Ann's session
// loaded a plugin hidden from her group and not the one required for everyone.
func Example() {
	snap, err := plugins.Load([]byte(org))
	if err != nil {
		panic(err)
	}
	f := telemetrytest.NewFactory(7)
	f.Identity.OrganizationID = "00000000-0000-4000-8000-0000000000aa"
	f.Identity.AccountID, f.Identity.Email = "user_01ann", "ann@acme.example"
	events := []telemetry.Event{
		f.ManagedSettingsResolved(),
		f.PluginLoaded(), // cc-plugin-agents-md@builtin: the CLI's own, never a finding
		f.PluginLoaded(func(e *telemetry.PluginLoaded) {
			e.PluginName, e.MarketplaceName = "acme-legal-review", "acme-internal"
		}),
		f.UserPrompt(),
	}

	rep, err := drift.Check(snap, events, drift.Options{})
	if err != nil {
		panic(err)
	}
	for _, fd := range rep.Findings {
		fmt.Println(fd.Summary())
		fmt.Printf("  first evidence: %s #%d\n", fd.Evidence[0].Event, fd.Evidence[0].Sequence)
	}
	fmt.Println("built-in plugin loads:", rep.Stats.BuiltinPlugins)
	// Output:
	// high forbidden_loaded: user_01ann: acme-legal-review@acme-internal (1 event(s) in 1 session(s))
	//   first evidence: plugin_loaded #2
	// medium required_missing: user_01ann: dlp@acme-internal (1 event(s) in 1 session(s))
	//   first evidence: plugin_loaded #1
	// built-in plugin loads: 1
}

// A Detector takes events one at a time, as a pipeline streams them, and reports at any
// point.
func ExampleDetector() {
	snap, err := plugins.Load([]byte(org + "cowork: false\n"))
	if err != nil {
		panic(err)
	}
	d, err := drift.New(snap, drift.Options{})
	if err != nil {
		panic(err)
	}
	f := telemetrytest.NewFactory(7)
	f.Identity.OrganizationID = "00000000-0000-4000-8000-0000000000aa"
	f.Identity.Email = "Ann@Acme.example" // matched to the member by email
	d.Add(f.UserPrompt())
	d.Add(f.APIRequest())

	rep := d.Report()
	fmt.Println(rep.Findings[0].Summary())
	fmt.Println(rep.Findings[0].Member.ID)
	// Output:
	// high cowork_not_allowed: user_01ann: cowork (2 event(s) in 1 session(s))
	// user_01ann
}
