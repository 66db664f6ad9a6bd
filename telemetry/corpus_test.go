package telemetry_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

var update = flag.Bool("update", false, "rewrite golden files")

func decodeLogs(t testing.TB, f corpus.File) *telemetry.Logs {
	t.Helper()
	var l *telemetry.Logs
	var err error
	if f.Encoding == corpus.JSON {
		l, err = telemetry.DecodeLogsJSON(f.Data)
	} else {
		l, err = telemetry.DecodeLogsProto(f.Data)
	}
	require.NoError(t, err, f.Path())
	return l
}

func decodeMetrics(t testing.TB, f corpus.File) *telemetry.Metrics {
	t.Helper()
	var m *telemetry.Metrics
	var err error
	if f.Encoding == corpus.JSON {
		m, err = telemetry.DecodeMetricsJSON(f.Data)
	} else {
		m, err = telemetry.DecodeMetricsProto(f.Data)
	}
	require.NoError(t, err, f.Path())
	return m
}

// TestCorpusDecode decodes every recorded request with zero errors and zero Unknown events.
func TestCorpusDecode(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
		for _, f := range corpus.Files(enc) {
			t.Run(f.Path(), func(t *testing.T) {
				if f.Signal == "metrics" {
					m := decodeMetrics(t, f)
					assert.Positive(t, m.Len())
					for _, p := range m.Points() {
						assert.NotEqual(t, telemetry.CounterUnknown, p.Metric.Counter(), p.Metric.Name)
						assert.Equal(t, telemetry.MetricTypeSum, p.Metric.Type)
						assert.NotEmpty(t, p.Point.Common.SessionID)
					}
					return
				}
				l := decodeLogs(t, f)
				require.Positive(t, l.Len())
				for _, ev := range l.Events() {
					_, unknown := ev.(*telemetry.Unknown)
					assert.False(t, unknown, "unknown event %q", ev.Name())
					r := ev.EventRecord()
					assert.False(t, r.NameMismatch)
					assert.Equal(t, telemetry.ProductCowork, r.Product())
					assert.Equal(t, telemetry.LogsScopeName, r.Scope.Name)
					assert.Equal(t, corpus.Version, r.Scope.Version)
					assert.NotEmpty(t, r.SessionID)
					assert.NotEmpty(t, r.AccountUUID)
					assert.True(t, strings.HasPrefix(r.AccountID, "user_01"))
					assert.Equal(t, "non-interactive", r.TerminalType)
					assert.Len(t, r.WorkspaceHostPaths, 2)
					assert.False(t, r.Timestamp.IsZero())
				}
				require.NoError(t, telemetry.Validate(l.Events()...), "lenient validation")
			})
		}
	}
}

// TestCorpusRoundTrip re-encodes every request to the same bytes, and decode → encode →
// decode gives equal events across encodings.
func TestCorpusRoundTrip(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
		for _, f := range corpus.Files(enc) {
			t.Run(f.Path(), func(t *testing.T) {
				if f.Signal == "metrics" {
					m := decodeMetrics(t, f)
					var out []byte
					var err error
					if enc == corpus.JSON {
						out, err = telemetry.EncodeMetricsJSON(m)
					} else {
						out, err = telemetry.EncodeMetricsProto(m)
					}
					require.NoError(t, err)
					assert.True(t, bytes.Equal(f.Data, out), "metrics re-encode to the same bytes")
					return
				}
				l := decodeLogs(t, f)
				pb, err := telemetry.EncodeLogsProto(l)
				require.NoError(t, err)
				js, err := telemetry.EncodeLogsJSON(l)
				require.NoError(t, err)
				if enc == corpus.JSON {
					assert.True(t, bytes.Equal(f.Data, js), "JSON re-encodes to the same bytes")
				} else {
					assert.True(t, bytes.Equal(f.Data, pb), "protobuf re-encodes to the same bytes")
				}
				fromPB, err := telemetry.DecodeLogsProto(pb)
				require.NoError(t, err)
				fromJS, err := telemetry.DecodeLogsJSON(js)
				require.NoError(t, err)
				assertSameEvents(t, l, fromPB)
				assertSameEvents(t, l, fromJS)
			})
		}
	}
}

func assertSameEvents(t *testing.T, want, got *telemetry.Logs) {
	t.Helper()
	we, ge := want.Events(), got.Events()
	require.Len(t, ge, len(we))
	for i := range we {
		a, b := we[i], ge[i]
		assert.Equal(t, fmt.Sprintf("%T", a), fmt.Sprintf("%T", b))
		ra, rb := a.EventRecord(), b.EventRecord()
		assert.True(t, ra.Attrs.Equal(rb.Attrs), "attributes of event %d", i)
		assert.True(t, ra.Body.Equal(rb.Body))
		assert.Equal(t, ra.TimeUnixNano, rb.TimeUnixNano)
		assert.Equal(t, ra.ObservedTimeUnixNano, rb.ObservedTimeUnixNano)
		assert.True(t, ra.Resource.Attrs.Equal(rb.Resource.Attrs))
		assert.Equal(t, ra.Common, rb.Common)
	}
}

// TestCorpusEncodingsAgree checks that both recordings of a scenario give the same event kinds
// and counts, and writes them to a readable golden file.
func TestCorpusEncodingsAgree(t *testing.T) {
	var golden strings.Builder
	golden.WriteString("# Events per scenario in the real corpus (CLI " + corpus.Version + "), identical in both encodings.\n")
	golden.WriteString("# Regenerate with: go test ./telemetry -run TestCorpusEncodingsAgree -update\n")
	for _, s := range corpus.Scenarios() {
		counts := map[corpus.Encoding]map[string]int{}
		for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
			counts[enc] = map[string]int{}
			for _, f := range corpus.Logs(enc, s) {
				for _, ev := range decodeLogs(t, f).Events() {
					counts[enc][ev.Name()]++
				}
			}
			for _, f := range corpus.Metrics(enc, s) {
				for _, p := range decodeMetrics(t, f).Points() {
					counts[enc]["metric "+p.Metric.Name]++
				}
			}
		}
		assert.Equal(t, counts[corpus.JSON], counts[corpus.Protobuf], "scenario %s", s)
		names := make([]string, 0, len(counts[corpus.JSON]))
		for n := range counts[corpus.JSON] {
			names = append(names, n)
		}
		sort.Strings(names)
		golden.WriteString("\n[" + s + "]\n")
		for _, n := range names {
			fmt.Fprintf(&golden, "%-40s %d\n", n, counts[corpus.JSON][n])
		}
	}
	checkGolden(t, "corpus_counts.golden", golden.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run with -update")
	assert.Equal(t, string(want), got)
}

// TestCorpusViews checks the typed views against what the scenarios did.
func TestCorpusViews(t *testing.T) {
	events := func(s string) []telemetry.Event {
		var out []telemetry.Event
		for _, f := range corpus.Logs(corpus.Protobuf, s) {
			out = append(out, decodeLogs(t, f).Events()...)
		}
		return out
	}
	t.Run("files", func(t *testing.T) {
		ops := map[string]bool{}
		for _, ev := range events("files") {
			if tr, ok := ev.(*telemetry.ToolResult); ok {
				for _, fa := range tr.FileAccess() {
					ops[fa.Op.String()] = true
					if fa.Op != telemetry.FileOpSearch {
						assert.Equal(t, "/Users/jane.doe/Documents/competitive-intel/notes.txt", fa.Path)
					}
				}
			}
		}
		assert.Equal(t, map[string]bool{"read": true, "write": true, "edit": true, "search": true}, ops)
	})
	t.Run("deny", func(t *testing.T) {
		var rejected []*telemetry.ToolDecision
		results := map[string]bool{}
		for _, ev := range events("deny") {
			switch e := ev.(type) {
			case *telemetry.ToolDecision:
				if !e.Decision.Accepts() {
					rejected = append(rejected, e)
				}
			case *telemetry.ToolResult:
				results[e.ToolUseID] = true
			}
		}
		require.Len(t, rejected, 1)
		d := rejected[0]
		assert.Equal(t, telemetry.DecisionReject, d.Decision)
		assert.Equal(t, telemetry.DecisionSourceConfig, d.Source)
		assert.False(t, d.Source.IsHuman())
		assert.False(t, results[d.ToolUseID], "a rejected call has no result")
		p, err := d.Parameters()
		require.NoError(t, err)
		assert.Equal(t, "rm", p.BashCommand)
		assert.Contains(t, p.FullCommand, "rm -rf")
	})
	t.Run("mcp", func(t *testing.T) {
		calls := 0
		for _, ev := range events("mcp") {
			if tr, ok := ev.(*telemetry.ToolResult); ok {
				c, isMCP := tr.MCP()
				require.True(t, isMCP)
				assert.Equal(t, telemetry.MCPCall{Server: "crm", Tool: "lookup_account"}, c)
				calls++
			}
		}
		assert.Equal(t, 2, calls)
	})
	t.Run("skill", func(t *testing.T) {
		var skills []string
		for _, ev := range events("skill") {
			switch e := ev.(type) {
			case *telemetry.SkillActivated:
				skills = append(skills, e.SkillName)
			case *telemetry.ToolResult:
				if e.ToolName == "Skill" {
					assert.Equal(t, "ci-report", telemetry.AttributionOf(e).Skill)
				}
			}
		}
		assert.Equal(t, []string{"ci-report"}, skills)
	})
	t.Run("fatal", func(t *testing.T) {
		var errs []*telemetry.APIError
		for _, ev := range events("fatal") {
			if e, ok := ev.(*telemetry.APIError); ok {
				errs = append(errs, e)
			}
		}
		require.Len(t, errs, 1)
		assert.Equal(t, int64(400), errs[0].StatusCode)
		assert.Contains(t, errs[0].Error, "prompt is too long")
	})
	t.Run("web", func(t *testing.T) {
		for _, ev := range events("web") {
			if e, ok := ev.(*telemetry.ToolResult); ok && e.ToolName == "WebFetch" {
				assert.False(t, e.Success)
				assert.NotEmpty(t, e.ErrorType)
				in, err := e.Input()
				require.NoError(t, err)
				assert.Equal(t, "https://example.com/pricing?token=abc123", in.URL)
			}
		}
	})
	t.Run("usage", func(t *testing.T) {
		var raw struct {
			TotalCostUSD float64 `json:"total_cost_usd"`
		}
		for _, s := range corpus.Scenarios() {
			require.NoError(t, json.Unmarshal(corpus.CLIResult(corpus.Protobuf, s), &raw))
			var micros int64
			for _, ev := range events(s) {
				if e, ok := ev.(*telemetry.APIRequest); ok {
					u := e.Usage()
					assert.Positive(t, u.InputTokens)
					micros += e.CostUSDMicros
				}
			}
			assert.InDelta(t, raw.TotalCostUSD, float64(micros)/1e6, 1e-9, s)
		}
	})
}

// TestDecodeKeepsNoReferenceToInput checks that decoded events stay the same when the caller
// reuses its buffer: nothing returned may point into the input.
func TestDecodeKeepsNoReferenceToInput(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
		for _, f := range corpus.Files(enc) {
			g := f
			g.Data = bytes.Clone(f.Data)
			var encode func() ([]byte, error)
			if f.Signal == "metrics" {
				m := decodeMetrics(t, g)
				encode = func() ([]byte, error) { return telemetry.EncodeMetricsProto(m) }
			} else {
				l := decodeLogs(t, g)
				encode = func() ([]byte, error) { return telemetry.EncodeLogsProto(l) }
			}
			want, err := encode()
			require.NoError(t, err)
			for i := range g.Data {
				g.Data[i] = 0xAA
			}
			got, err := encode()
			require.NoError(t, err)
			require.Equal(t, want, got, "%s: decoded values changed with the input buffer", f.Path())
		}
	}
}

// TestDecodeSpareAttrs decodes the corpus with DecodeOptions.SpareAttrs: the same events, each
// record's attributes with the room asked for after them, and that room its own: filling
// every record's room leaves every other record's attributes as decoded.
func TestDecodeSpareAttrs(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
		for _, f := range corpus.Files(enc) {
			if f.Signal != "logs" {
				continue
			}
			t.Run(f.Path(), func(t *testing.T) {
				o := telemetry.DecodeOptions{SpareAttrs: 3}
				decode := o.DecodeLogsProto
				if enc == corpus.JSON {
					decode = o.DecodeLogsJSON
				}
				got, err := decode(f.Data)
				require.NoError(t, err)
				want := decodeLogs(t, f)
				assertSameEvents(t, want, got)
				evs := got.Events()
				roomy := 0
				for _, ev := range evs {
					r := ev.EventRecord()
					if cap(r.Attrs)-len(r.Attrs) >= 3 {
						roomy++
					}
					for i := range 3 {
						r.Attrs = append(r.Attrs, telemetry.KeyValue{Key: fmt.Sprint("spare.", i), Value: telemetry.Int(int64(i))})
					}
				}
				// Every list but one at the end of an arena chunk has its room.
				assert.GreaterOrEqual(t, roomy, len(evs)-2)
				for i, ev := range evs {
					r := ev.EventRecord()
					w := want.Events()[i].EventRecord()
					require.Len(t, r.Attrs, len(w.Attrs)+3)
					assert.True(t, r.Attrs[:len(w.Attrs)].Equal(w.Attrs), "attributes of event %d", i)
				}
			})
		}
	}
}
