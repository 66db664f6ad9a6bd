// Command policy loads a Cowork policy snapshot, prints a member's effective Cowork access
// and plugins with the reasons, and previews what a changed snapshot would do to every
// member.
//
// With no flags it uses the two embedded Acme Corp snapshots:
//
//	go run ./examples/policy
//	go run ./examples/policy -member user_bob
//	go run ./examples/policy -snapshot org.yaml -new org-next.yaml -member user_01…
//
// Snapshots are YAML or JSON in the format of package plugins (a policy snapshot plus
// marketplaces, plugins and installation settings in the Admin API shapes).
package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

//go:embed snapshots/*.yaml
var samples embed.FS

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "policy:", err)
		}
		os.Exit(2)
	}
}

// run is the whole program, separated from main so that tests can drive it.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		snapshotPath = fs.String("snapshot", "", "snapshot file (YAML or JSON); default: the embedded snapshots/before.yaml")
		newPath      = fs.String("new", "", "changed snapshot to diff against; default: the embedded snapshots/after.yaml when -snapshot is not given")
		member       = fs.String("member", "user_erin", "member ID to explain")
		noDiff       = fs.Bool("no-diff", false, "skip the diff")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	old, err := load(*snapshotPath, "snapshots/before.yaml")
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "== snapshot %s (%s, %s plan)\n", old.Revision(), nameOf(old), old.Plan)
	if issues := old.Validate(); len(issues) > 0 {
		fmt.Fprintf(stdout, "validation: %d error(s), %d warning(s)\n", issues.Count(policy.SeverityError), issues.Count(policy.SeverityWarning))
		for _, is := range issues {
			fmt.Fprintf(stdout, "  %s\n", is)
		}
	}

	fmt.Fprintf(stdout, "\n== telemetry: the admin form\n%s", old.Telemetry.Form())
	fmt.Fprintf(stdout, "== telemetry: exporter environment\n%s", old.Telemetry.Env())

	d, err := old.Evaluate(*member)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n== Cowork access\n%s", d)

	res, err := plugins.Resolve(old, *member)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n== plugins\n%s", res.String())

	if *noDiff || (*newPath == "" && *snapshotPath != "") {
		return nil
	}
	nw, err := load(*newPath, "snapshots/after.yaml")
	if err != nil {
		return err
	}
	report := plugins.Diff(old, nw, nil)
	fmt.Fprintf(stdout, "\n== dry run: what the new snapshot changes\n%s", report.String())
	return nil
}

func load(path, sample string) (*plugins.Snapshot, error) {
	var (
		data []byte
		err  error
	)
	if path == "" {
		data, err = samples.ReadFile(sample)
		path = sample + " (embedded)"
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	s, err := plugins.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func nameOf(s *plugins.Snapshot) string {
	if s.Organization.Name != "" {
		return s.Organization.Name
	}
	return "unnamed organization"
}
