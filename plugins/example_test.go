package plugins_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/coworkgov/cowork/plugins"
)

const exampleOrg = `
plan: enterprise
groups: [{id: rbac_group_sales}, {id: rbac_group_contractors}]
members:
  - {id: user_ann, role: user, groups: [rbac_group_sales]}
  - {id: user_cy, role: user, groups: [rbac_group_sales, rbac_group_contractors]}
  - {id: user_dee, role: user}
marketplaces:
  - {id: marketplace_tools, default_installation_preference: required}
plugins:
  - {id: plugin_crm, name: crm, marketplace_id: marketplace_tools, organization_installation_preference: not_available}
  - {id: plugin_baseline, name: baseline, marketplace_id: marketplace_tools}
installation_settings:
  # Auto-install crm for sales, hidden from everyone else.
  - {plugin_id: plugin_crm, installation_preference: auto_install, target: {type: rbac_group, rbac_group_id: rbac_group_sales}}
  # baseline is required for everyone but contractors.
  - {plugin_id: plugin_baseline, installation_preference: not_available, target: {type: rbac_group, rbac_group_id: rbac_group_contractors}}
`

// Resolve gives every plugin's state for a member, with the reasons.
func ExampleResolve() {
	s, err := plugins.Load([]byte(exampleOrg))
	if err != nil {
		panic(err)
	}
	for _, m := range []string{"user_ann", "user_cy", "user_dee"} {
		r, _ := plugins.Resolve(s, m)
		for _, d := range r.Plugins {
			fmt.Printf("%s %s: %s visible=%t installed=%t can-uninstall=%t\n", m, d.Name, d.Level, d.Visible, d.Installed, d.CanUninstall)
		}
	}
	// Output:
	// user_ann baseline: required visible=true installed=true can-uninstall=false
	// user_ann crm: auto_install visible=true installed=true can-uninstall=true
	// user_cy baseline: not_available visible=false installed=false can-uninstall=false
	// user_cy crm: auto_install visible=true installed=true can-uninstall=true
	// user_dee baseline: required visible=true installed=true can-uninstall=false
	// user_dee crm: not_available visible=false installed=false can-uninstall=false
}

// An explanation lists the base, each of the member's groups, the combinator and the winner.
func ExampleDecision_String() {
	s, _ := plugins.Load([]byte(exampleOrg))
	r, _ := plugins.Resolve(s, "user_cy")
	d, _ := r.Plugin("plugin_baseline")
	fmt.Print(d)
	// Output:
	// baseline (plugin_baseline): not_available
	//   state: hidden, not installed, cannot install, cannot uninstall, not editable (org-managed)
	//   gate: cowork on, skills on
	//   base: required from marketplace default
	//   group rbac_group_contractors: not_available  <- winner
	//   group rbac_group_sales: no setting
	//   combinator: strongest-wins -> not_available from group settings
}

// Member actions are checked against the policy; refusals are typed errors.
func ExampleSnapshot_Uninstall() {
	s, _ := plugins.Load([]byte(exampleOrg))
	_, err := s.Uninstall("user_ann", "plugin_baseline")
	fmt.Println(errors.Is(err, plugins.ErrRequired), err)
	st, err := s.Uninstall("user_ann", "plugin_crm")
	fmt.Println(st.Uninstalled, err)
	_, err = s.Install("user_dee", "plugin_crm")
	fmt.Println(errors.Is(err, plugins.ErrHidden))
	fmt.Println(errors.Is(s.Edit("user_ann", "plugin_crm"), plugins.ErrOrgManaged))
	// Output:
	// true uninstall plugin_baseline for user_ann: plugins: plugin is required (level required)
	// [plugin_crm] <nil>
	// true
	// true
}

// Diff previews a change for every member before it ships.
func ExampleDiff() {
	old, _ := plugins.Load([]byte(exampleOrg))
	next := old.Clone()
	// Hide crm from contractors too, under deny-overrides.
	next.Combinator = plugins.DenyOverrides
	next.InstallationSettings = append(next.InstallationSettings, plugins.InstallationSetting{
		PluginID: "plugin_crm", InstallationPreference: plugins.LevelNotAvailable,
		Target: plugins.Target{Type: plugins.TargetRBACGroup, RBACGroupID: "rbac_group_contractors"},
	})
	d := plugins.Diff(old, next, nil)
	for _, m := range d.Members {
		for _, c := range m.Changes {
			fmt.Println(m.Member, c.Kind, c.Plugin, c.Old, "->", c.New)
		}
	}
	fmt.Println("affected:", d.Totals.Affected, "of", d.Totals.Members)
	// Output:
	// user_cy lost plugin_crm auto_install -> not_available
	// affected: 1 of 3
}

// ValidateDir checks a plugin directory the way `claude plugin validate` does.
func ExampleValidateDir() {
	r := plugins.ValidateDir(os.DirFS("testdata/packages/plugin-parent-path"))
	fmt.Println(r.Kind, r.OK())
	for _, is := range r.Issues {
		fmt.Println(is)
	}
	// Output:
	// plugin false
	// error: agents: path "../agents" must start with "./"
	// error: agents: path "../agents" must end with ".md"
	// error: agents[0]: path "../agents" contains ".." (path traversal)
}
