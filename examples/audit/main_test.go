package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/drift"
	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/plugins"
)

// testNow is a fixed report time: the corpus was recorded on 2026-11-24 around 10:08 UTC.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// scenarioUser is who ran each corpus scenario (internal/corpus/testdata/README.md), by
// tagged account ID, which redaction keeps.
var scenarioUser = map[string]string{
	"files": "user_01EikcPGzmzE4FeHanisYbhW", "mcp": "user_01EikcPGzmzE4FeHanisYbhW", "skill": "user_01EikcPGzmzE4FeHanisYbhW",
	"deny": "user_016WYJqouEY7JdQKTzgdXcqL", "web": "user_016WYJqouEY7JdQKTzgdXcqL",
	"fatal": "user_01LCzt4WA3a2xsWKHwCLSvC4", "task": "user_01LCzt4WA3a2xsWKHwCLSvC4",
}

func loadPolicy(t testing.TB) *plugins.Snapshot {
	t.Helper()
	b, err := os.ReadFile("testdata/org.yaml")
	require.NoError(t, err)
	s, err := plugins.Load(b)
	require.NoError(t, err)
	return s
}

func strictCorpus(t testing.TB) *memory {
	t.Helper()
	red, err := newRedactor("strict")
	require.NoError(t, err)
	src, err := corpusSource(red)
	require.NoError(t, err)
	return src
}

// TestReportFromCorpus renders the report from the real corpus and checks its numbers against
// the chains, folded independently here, and against the CLI's own run summaries.
func TestReportFromCorpus(t *testing.T) {
	src := strictCorpus(t)
	rep, err := build(context.Background(), src, options{now: testNow, snap: loadPolicy(t), policyName: "org.yaml"})
	require.NoError(t, err)

	chains := correlate.Fold(src.events)
	var total float64
	perUser := map[string]float64{}
	perAccount := map[string]float64{}
	prompts, nonPreamble := 0, 0
	for _, c := range chains {
		total += c.Totals.CostUSD
		perUser[userName(c.User)] += c.Totals.CostUSD
		perAccount[c.User.AccountID] += c.Totals.CostUSD
		if !c.IsPreamble() {
			nonPreamble++
			if c.Prompt != nil && !c.Prompt.TaskNotification {
				prompts++
			}
		}
	}

	// Cost per user is the sum of that user's chain costs; the users add up to the total.
	require.Len(t, rep.Users, 3)
	var sum float64
	for _, u := range rep.Users {
		assert.InDelta(t, perUser[u.Name], u.CostUSD, 1e-12, u.Name)
		assert.True(t, strings.HasPrefix(u.Name, "email:"), "strict redaction pseudonymises e-mails: %s", u.Name)
		sum += u.CostUSD
	}
	assert.InDelta(t, total, rep.Totals.CostUSD, 1e-12)
	assert.InDelta(t, total, sum, 1e-12)

	// And each account's cost is what the CLI itself reported for that account's scenarios.
	cli := map[string]float64{}
	for _, sc := range corpus.Scenarios() {
		var r corpus.Result
		require.NoError(t, json.Unmarshal(corpus.CLIResult(corpus.JSON, sc), &r), sc)
		cli[scenarioUser[sc]] += r.TotalCostUSD
	}
	for acct, want := range cli {
		assert.InDelta(t, want, perAccount[acct], 1e-9, acct)
	}

	// Models and groups: one model; every user is in one group or not a member.
	require.Len(t, rep.Models, 1)
	assert.Equal(t, "claude-sonnet-5-5", rep.Models[0].Name)
	assert.InDelta(t, total, rep.Models[0].CostUSD, 1e-12)
	assert.Equal(t, rep.Totals.APIRequests, rep.Models[0].APIRequests)
	groups := map[string]float64{}
	for _, g := range rep.Groups {
		groups[g.Name] = g.CostUSD
	}
	assert.InDelta(t, perAccount["user_01EikcPGzmzE4FeHanisYbhW"], groups["Engineering"], 1e-12)
	assert.InDelta(t, perAccount["user_016WYJqouEY7JdQKTzgdXcqL"], groups["Operations"], 1e-12)
	assert.InDelta(t, perAccount["user_01LCzt4WA3a2xsWKHwCLSvC4"], groups["(not a member)"], 1e-12)

	// Prompts and chains per day: every scenario was recorded on 2026-11-24; the window is
	// open, so the series runs from that day to the report's.
	assert.Equal(t, prompts, rep.Totals.Prompts)
	assert.Equal(t, nonPreamble, rep.Totals.Chains)
	assert.Equal(t, 7, rep.Totals.Prompts)
	assert.Equal(t, 7, rep.Totals.Sessions)
	require.Equal(t, []Day{{Date: "2026-11-24", Prompts: 7, Chains: 7, CostUSD: rep.Days[0].CostUSD}, {Date: "2026-11-25"}}, rep.Days)
	assert.InDelta(t, total, rep.Days[0].CostUSD, 1e-12)

	// The deny scenario's rm -rf, rejected by configuration: the only rejection.
	require.Len(t, rep.Rejected, 1)
	rj := rep.Rejected[0]
	assert.Equal(t, "Bash", rj.Tool)
	assert.Contains(t, rj.Detail, "rm -rf")
	assert.Equal(t, "config", rj.Source)
	assert.Contains(t, rj.RejectedBy, "configuration")
	assert.Equal(t, 1, rep.Totals.Rejected)

	// The fatal scenario's HTTP 400.
	require.Len(t, rep.APIErrors, 1)
	assert.Equal(t, int64(400), rep.APIErrors[0].StatusCode)
	assert.Equal(t, "api_error", rep.APIErrors[0].Kind)

	// Tools, MCP servers and skills.
	tools := map[string]int{}
	for _, c := range rep.Tools {
		tools[c.Name] = c.Calls
	}
	assert.Equal(t, 4, tools["Bash"])
	assert.Equal(t, 2, tools["mcp:crm/lookup_account"])
	assert.Equal(t, []Count{{Name: "crm", Calls: 2}}, rep.MCPServers)
	assert.Equal(t, []Count{{Name: "ci-report", Calls: 1}}, rep.Skills)

	// Files, as redacted: the home directory is generalised, the user name is gone.
	require.NotEmpty(t, rep.Files)
	ops := map[string]bool{}
	for _, f := range rep.Files {
		ops[f.Operation] = true
		assert.NotContains(t, f.Path, "jane.doe", f.Path)
	}
	assert.Equal(t, map[string]bool{"read": true, "write": true, "edit": true, "search": true}, ops)

	// Drift against org.yaml (the drift package's every-kind snapshot, without the derived
	// events): sam's Cowork is off, priya is unknown, jane loaded a hidden built-in and not
	// the required plugin.
	require.NotNil(t, rep.Drift)
	kinds := map[drift.Kind]int{}
	for _, f := range rep.Drift.Findings {
		kinds[f.Kind]++
	}
	assert.Equal(t, map[drift.Kind]int{drift.KindCoworkNotAllowed: 1, drift.KindUnknownMember: 1,
		drift.KindForbiddenLoaded: 1, drift.KindRequiredMissing: 1}, kinds)

	// Retention covers every event of the source.
	assert.Equal(t, len(src.events), rep.Retention.Events)
	assert.Equal(t, time.Date(2026, 11, 24, 10, 8, 3, 256e6, time.UTC), rep.Retention.Oldest)
	assert.InDelta(t, testNow.Sub(rep.Retention.Oldest).Hours()/24, rep.Retention.OldestAgeDays, 1e-9)
}

// TestWindow checks that -since keeps exactly the chains and events that started inside the
// window.
func TestWindow(t *testing.T) {
	src := strictCorpus(t)
	since := time.Date(2026, 11, 24, 10, 8, 15, 0, time.UTC) // after files, deny, mcp; before fatal
	rep, err := build(context.Background(), src, options{since: since, now: testNow})
	require.NoError(t, err)
	want, events := 0, 0
	for _, c := range correlate.Fold(src.events) {
		if !c.IsPreamble() && !c.StartedAt.Before(since) {
			want++
		}
	}
	for _, ev := range src.events {
		if !ev.EventRecord().Time().Before(since) {
			events++
		}
	}
	assert.Equal(t, 4, want, "fatal, web, task, skill")
	assert.Equal(t, want, rep.Totals.Chains)
	assert.Equal(t, events, rep.Totals.Events)
	assert.Empty(t, rep.Rejected, "the rm -rf was before the window")
	assert.Len(t, rep.Days, 2)
	assert.Nil(t, rep.Drift)
	assert.Equal(t, []string{"(no policy)"}, names(rep.Groups))
}

func names(us []Usage) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

// TestRun drives the command end to end and checks the files it writes.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-corpus", "-policy", "testdata/org.yaml", "-since", "7d",
		"-now", testNow.Format(time.RFC3339), "-out", out}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stdout.String(), "7 prompt(s) in 7 chain(s)")

	page, err := os.ReadFile(out)
	require.NoError(t, err)
	checkHTML(t, page)
	for _, s := range []string{"rm -rf", "configuration (a permission rule)", "prompt is too long", "cowork_not_allowed",
		"required_missing", "security-baseline@security", "Engineering", "claude-sonnet-5-5", "ci-report", "crm"} {
		assert.Contains(t, string(page), s)
	}

	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var rep Report
	require.NoError(t, json.Unmarshal(js, &rep))
	assert.Equal(t, 7, rep.Totals.Prompts)
	assert.Len(t, rep.Rejected, 1)
	assert.Len(t, rep.Drift.Findings, 4)
	assert.Equal(t, testNow.Add(-7*24*time.Hour), rep.Since)
}

// TestRunDriftOptions: with the org's UUID not accepted, every identity is a foreign
// organization; -org-ids accepts it again.
func TestRunDriftOptions(t *testing.T) {
	snap := loadPolicy(t).Clone()
	snap.Organization.ID = "org_01acme"
	b, err := json.Marshal(snap)
	require.NoError(t, err)
	pol := filepath.Join(t.TempDir(), "org.json")
	require.NoError(t, os.WriteFile(pol, b, 0o644))
	for _, tt := range []struct {
		extra   []string
		foreign int
	}{
		{nil, 3},
		{[]string{"-org-ids", " 0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9 ,other"}, 0},
	} {
		out := filepath.Join(t.TempDir(), "r.html")
		args := append([]string{"-corpus", "-policy", pol, "-since", "0", "-now", testNow.Format(time.RFC3339), "-out", out}, tt.extra...)
		require.NoError(t, run(context.Background(), args, io.Discard, io.Discard))
		js, err := os.ReadFile(filepath.Join(filepath.Dir(out), "r.json"))
		require.NoError(t, err)
		var rep Report
		require.NoError(t, json.Unmarshal(js, &rep))
		assert.Equal(t, tt.foreign, rep.Drift.Count(drift.KindForeignOrganization), tt.extra)
	}
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-since", "seven days", "-corpus"},
		{"-now", "yesterday", "-corpus"},
		{"-policy", "testdata/missing.yaml", "-corpus"},
		{"-redact", "testdata/missing-policy.yaml", "-corpus"},
		{"-data", t.TempDir()}, // no store and no OTLP files
	} {
		err := run(context.Background(), append(args, "-out", filepath.Join(t.TempDir(), "r.html")), io.Discard, io.Discard)
		assert.Error(t, err, args)
	}
}

func TestParseSince(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true}, {"0", 0, true}, {"36h", 36 * time.Hour, true}, {"90m", 90 * time.Minute, true},
		{"-1d", 0, false}, {"x", 0, false}, {"1w", 0, false},
	} {
		got, err := parseSince(tt.in)
		if !tt.ok {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

// TestFileSource reads OTLP files (protobuf and JSON) from a directory, as -data does when
// there is no collector store, and gets the same report as the embedded corpus.
func TestFileSource(t *testing.T) {
	write := func(enc corpus.Encoding) string {
		dir := t.TempDir()
		for _, f := range corpus.Files(enc) { // metrics files too: they are skipped by name
			p := filepath.Join(dir, f.Scenario, filepath.Base(f.Name))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, f.Data, 0o644))
		}
		return dir
	}
	ref, err := corpusSource(nil)
	require.NoError(t, err)
	want, err := build(context.Background(), ref, options{now: testNow})
	require.NoError(t, err)

	// The protobuf files are the embedded corpus: the same report.
	src, err := openSource(context.Background(), write(corpus.Protobuf), nil)
	require.NoError(t, err)
	got, err := build(context.Background(), src, options{now: testNow})
	require.NoError(t, err)
	want.Source, got.Source, want.Retention.Store, got.Retention.Store = "", "", "", ""
	assert.Equal(t, want, got)
	assert.Equal(t, "jane.doe@acme.example", got.Users[0].Name, "-redact none keeps e-mails")

	// The JSON files are a separate recording of the same scenarios: the same totals.
	src, err = openSource(context.Background(), write(corpus.JSON), nil)
	require.NoError(t, err)
	got, err = build(context.Background(), src, options{now: testNow})
	require.NoError(t, err)
	assert.Equal(t, want.Totals, got.Totals)
	assert.Equal(t, want.Rejected[0].Detail, got.Rejected[0].Detail)
}

// TestHTMLEscapes puts hostile text where stored data goes and checks that it stays text.
func TestHTMLEscapes(t *testing.T) {
	rep := &Report{Generated: testNow, Until: testNow, Source: `<script>alert("s")</script>`,
		Users:    []Usage{{Name: `"><img src=x onerror=alert(1)>`, CostUSD: 1}},
		Files:    []File{{Path: `</code><script>alert(2)</script>`, Operation: "read", Count: 1}},
		Rejected: []Rejection{{Tool: "Bash", Detail: `rm -rf / </td></tr></table><svg onload=alert(3)>`, Source: "hook", RejectedBy: "a hook"}},
		Days:     []Day{{Date: "2026-11-24", Prompts: 1, Chains: 1}},
	}
	var buf bytes.Buffer
	require.NoError(t, render(&buf, rep))
	checkHTML(t, buf.Bytes())
	assert.NotContains(t, buf.String(), "<img")
	assert.NotContains(t, buf.String(), "<svg onload")
	assert.Contains(t, buf.String(), "&lt;script&gt;")
}

var (
	tagRE    = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>`)
	svgRE    = regexp.MustCompile(`(?s)<svg\b.*?</svg>`)
	styleRE  = regexp.MustCompile(`(?s)<style>.*?</style>`)
	voidTags = map[string]bool{"meta": true, "br": true, "img": true, "hr": true, "input": true, "link": true, "col": true, "wbr": true}
)

// checkHTML checks what a browser would need to render the page as written, without a
// parser outside the standard library: no script, no external resource, a restrictive
// Content-Security-Policy, balanced tags, and every SVG chart well-formed XML.
func checkHTML(t *testing.T, page []byte) {
	t.Helper()
	s := string(page)
	require.True(t, strings.HasPrefix(s, "<!DOCTYPE html>"))
	assert.NotContains(t, strings.ToLower(s), "<script", "the report has no script")
	assert.Contains(t, s, `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`)
	style := styleRE.FindString(s)
	require.NotEmpty(t, style)
	assert.NotContains(t, style, "url(", "no external resource in the style sheet")
	assert.NotContains(t, style, "@import", "no external resource in the style sheet")
	var stack []string
	for _, m := range tagRE.FindAllStringSubmatch(s, -1) {
		assert.NotRegexp(t, `(?i)\s(src|href|on[a-z]+)\s*=`, m[0], "no external resource and no event handler")
		closing, name, self := m[1] == "/", strings.ToLower(m[2]), m[3] == "/"
		switch {
		case voidTags[name] || self:
		case !closing:
			stack = append(stack, name)
		default:
			require.NotEmpty(t, stack, "unexpected </%s>", name)
			require.Equal(t, stack[len(stack)-1], name, "mismatched </%s>", name)
			stack = stack[:len(stack)-1]
		}
	}
	assert.Empty(t, stack, "unclosed tags")
	svgs := svgRE.FindAllString(s, -1)
	assert.GreaterOrEqual(t, len(svgs), 5, "five charts")
	for _, svg := range svgs {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			require.NoError(t, err, "svg is not well-formed XML")
		}
	}
}
