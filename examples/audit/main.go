// Command audit writes the weekly audit report of a Cowork fleet: a self-contained HTML page
// (inline CSS and SVG charts drawn by the program; no script, no network) and the same data as
// JSON.
//
//	go run ./examples/audit -data ./cowork-data -policy org.yaml -since 7d
//	go run ./examples/audit -corpus -policy examples/audit/testdata/org.yaml -since 0
//
// The data comes from the collector's SQLite store (-data DIR holding cowork.db, opened
// read-only beside a running collector), from a directory of OTLP logs request bodies (*.pb,
// *.json), or from the embedded recorded corpus (-corpus); files and the corpus are redacted
// first (-redact, strict by default, as the collector does before storing). The report has cost and tokens by
// user, group and model; prompts and chains per day; the top tools, MCP servers and skills;
// rejected tool calls with who or what rejected them; API errors; the files touched (as
// stored, i.e. redacted); drift between the policy (-policy, a snapshot in the format of
// package plugins) and what the fleet did (package drift); and the data retained and its age.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coworkgov/cowork/drift"
	"github.com/coworkgov/cowork/plugins"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "audit:", err)
		}
		os.Exit(2)
	}
}

// run is the whole program, separated from main so that tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dataDir    = fs.String("data", "./cowork-data", "collector data directory (cowork.db), or a directory of OTLP logs files")
		useCorpus  = fs.Bool("corpus", false, "use the embedded recorded corpus instead of -data")
		policyPath = fs.String("policy", "", "policy snapshot (YAML or JSON, package plugins format); without it, no groups and no drift")
		sinceFlag  = fs.String("since", "7d", "window: a duration back from -now (7d, 36h, 90m) or 0 for everything retained")
		nowFlag    = fs.String("now", "", "end of the window, RFC 3339 (default: the current time)")
		out        = fs.String("out", "audit-report.html", "HTML report path")
		jsonOut    = fs.String("json", "", "JSON report path (default: -out with .json)")
		top        = fs.Int("top", 10, "rows in the top tools, MCP servers and skills")
		orgIDs     = fs.String("org-ids", "", "comma-separated organization IDs accepted besides the policy's organization.id (events carry the org UUID)")
		markets    = fs.String("known-marketplaces", "", "comma-separated marketplace names that are never unknown, besides builtin")
		redactSpec = fs.String("redact", "strict", "redaction of OTLP files and the corpus before use: strict, balanced, none or a policy file (the collector's store is already redacted)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := time.Now().UTC()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("-now: %w", err)
		}
		now = t.UTC()
	}
	back, err := parseSince(*sinceFlag)
	if err != nil {
		return err
	}
	var since time.Time
	if back > 0 {
		since = now.Add(-back)
	}

	o := options{since: since, now: now, top: *top,
		drift: drift.Options{OrganizationIDs: splitList(*orgIDs), KnownMarketplaces: splitList(*markets)}}
	if *policyPath != "" {
		b, err := os.ReadFile(*policyPath)
		if err != nil {
			return err
		}
		snap, err := plugins.Load(b)
		if err != nil {
			return fmt.Errorf("%s: %w", *policyPath, err)
		}
		if issues := snap.Validate(); issues.Err() != nil {
			return fmt.Errorf("%s: %w", *policyPath, issues.Err())
		}
		o.snap, o.policyName = snap, filepath.Base(*policyPath)
	}

	red, err := newRedactor(*redactSpec)
	if err != nil {
		return err
	}
	if *redactSpec == "none" {
		red = nil
	}
	var src Source
	if *useCorpus {
		src, err = corpusSource(red)
	} else {
		src, err = openSource(ctx, *dataDir, red)
	}
	if err != nil {
		return err
	}
	defer src.Close()

	rep, err := build(ctx, src, o)
	if err != nil {
		return err
	}
	if *jsonOut == "" {
		*jsonOut = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".json"
	}
	if err := writeFile(*out, func(w io.Writer) error { return render(w, rep) }); err != nil {
		return err
	}
	if err := writeFile(*jsonOut, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep)
	fmt.Fprintf(stdout, "wrote %s and %s\n", *out, *jsonOut)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseSince reads a window length: a Go duration, or a whole number of days with "d"; "0"
// means everything.
func parseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("-since %q: want days such as 7d, or a duration such as 36h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("-since %q: want days such as 7d, or a duration such as 36h", s)
	}
	return d, nil
}

// writeFile writes through a temporary file renamed into place, so a reader never sees half a
// report.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
