package plugins_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

var update = flag.Bool("update", false, "regenerate golden files (the CLI golden needs CLAUDE_BIN)")

const cliGolden = "testdata/cli-validate.golden"

// verdict is one line of the CLI golden file.
type verdict struct {
	pass             bool
	errors, warnings []string
}

func (v verdict) String() string {
	j := func(xs []string) string {
		if len(xs) == 0 {
			return "-"
		}
		return strings.Join(xs, ",")
	}
	return fmt.Sprintf("%s\terrors=%s\twarnings=%s", map[bool]string{true: "pass", false: "fail"}[v.pass], j(v.errors), j(v.warnings))
}

var dotIndex = regexp.MustCompile(`\.(\d+)(\.|$)`)

// normPath writes indexes as [n], as in "plugins.0.name" -> "plugins[0].name".
func normPath(p string) string {
	for dotIndex.MatchString(p) {
		p = dotIndex.ReplaceAllString(p, "[$1]$2")
	}
	return p
}

func uniqSorted(xs []string) []string {
	slices.Sort(xs)
	return slices.Compact(xs)
}

func ourVerdict(dir string) verdict {
	r := plugins.ValidateDir(os.DirFS(dir))
	v := verdict{pass: r.OK()}
	for _, is := range r.Issues {
		switch is.Severity {
		case policy.SeverityError:
			v.errors = append(v.errors, normPath(is.Path))
		case policy.SeverityWarning:
			v.warnings = append(v.warnings, normPath(is.Path))
		}
	}
	v.errors, v.warnings = uniqSorted(v.errors), uniqSorted(v.warnings)
	return v
}

func readGolden(t *testing.T) (header []string, lines map[string]string) {
	t.Helper()
	f, err := os.Open(cliGolden)
	require.NoError(t, err)
	defer f.Close()
	lines = map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			header = append(header, l)
			continue
		}
		name, rest, ok := strings.Cut(l, "\t")
		if ok {
			lines[name] = rest
		}
	}
	require.NoError(t, sc.Err())
	return header, lines
}

func packages(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata/packages")
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestValidatorMatchesCLIGolden compares our verdicts on every fixture package with what
// `claude plugin validate` said about it (recorded in testdata/cli-validate.golden): pass or
// fail, and the set of error and warning paths.
func TestValidatorMatchesCLIGolden(t *testing.T) {
	_, golden := readGolden(t)
	names := packages(t)
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := golden[name]
			require.True(t, ok, "package %s has no CLI verdict in %s; run with CLAUDE_BIN set and -update", name, cliGolden)
			got := ourVerdict(filepath.Join("testdata/packages", name))
			assert.Equal(t, want, got.String())
		})
	}
}

// cliVerdict runs the real CLI on dir.
func cliVerdict(t *testing.T, bin, dir string) verdict {
	t.Helper()
	cmd := exec.Command(bin, "plugin", "validate", "--json", dir)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "CLAUDE_CONFIG_DIR="+t.TempDir())
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %s: %v", bin, err)
	}
	var rep struct {
		Success  bool `json:"success"`
		Manifest struct {
			Errors   []struct{ Path string } `json:"errors"`
			Warnings []struct{ Path string } `json:"warnings"`
		} `json:"manifest"`
	}
	require.NoError(t, json.Unmarshal(out, &rep), "CLI output: %s", out)
	v := verdict{pass: rep.Success}
	for _, e := range rep.Manifest.Errors {
		v.errors = append(v.errors, normPath(e.Path))
	}
	for _, w := range rep.Manifest.Warnings {
		v.warnings = append(v.warnings, normPath(w.Path))
	}
	v.errors, v.warnings = uniqSorted(v.errors), uniqSorted(v.warnings)
	return v
}

// TestCLIGolden re-checks the golden file against a real Claude Code CLI, when one is
// installed at $CLAUDE_BIN; with -update it rewrites the golden file from the CLI.
func TestCLIGolden(t *testing.T) {
	bin := os.Getenv("CLAUDE_BIN")
	if bin == "" {
		t.Skip("CLAUDE_BIN is not set: the live comparison with `claude plugin validate` needs the Claude Code CLI " +
			"(npm install @anthropic-ai/claude-code, then CLAUDE_BIN=node_modules/@anthropic-ai/claude-code/bin/claude.exe); " +
			"TestValidatorMatchesCLIGolden still compares against the recorded verdicts")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("CLAUDE_BIN=%s is not usable: %v", bin, err)
	}
	header, golden := readGolden(t)
	var b strings.Builder
	for _, l := range header {
		b.WriteString(l + "\n")
	}
	for _, name := range packages(t) {
		got := cliVerdict(t, bin, filepath.Join("testdata/packages", name))
		fmt.Fprintf(&b, "%s\t%s\n", name, got)
		if !*update {
			assert.Equal(t, golden[name], got.String(), "package %s: the CLI now says something else than the golden file", name)
		}
	}
	if *update {
		require.NoError(t, os.WriteFile(cliGolden, []byte(b.String()), 0o644))
	}
}
