package telemetry_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

func seedCorpus(f *testing.F, enc corpus.Encoding, signal string) {
	for _, c := range corpus.Files(enc) {
		if c.Signal == signal {
			f.Add(c.Data)
		}
	}
}

// checkLogsRoundTrip asserts that whatever decoded re-encodes in both encodings and decodes
// back to the same events.
func checkLogsRoundTrip(t *testing.T, l *telemetry.Logs) {
	pb, err := telemetry.EncodeLogsProto(l)
	if err != nil {
		t.Fatalf("encode proto: %v", err)
	}
	js, err := telemetry.EncodeLogsJSON(l)
	if err != nil {
		t.Fatalf("encode json: %v", err)
	}
	if !json.Valid(js) {
		t.Fatalf("encoder wrote invalid JSON")
	}
	a, err := telemetry.DecodeOptions{MaxDepth: 1000}.DecodeLogsProto(pb)
	if err != nil {
		t.Fatalf("re-decode proto: %v", err)
	}
	b, err := telemetry.DecodeOptions{MaxDepth: 1000}.DecodeLogsJSON(js)
	if err != nil {
		t.Fatalf("re-decode json: %v", err)
	}
	want := l.Events()
	for _, got := range [][]telemetry.Event{a.Events(), b.Events()} {
		if len(got) != len(want) {
			t.Fatalf("round trip: %d events, want %d", len(got), len(want))
		}
		for i := range want {
			if !want[i].EventRecord().Attrs.Equal(got[i].EventRecord().Attrs) {
				t.Fatalf("round trip changed the attributes of event %d", i)
			}
			if want[i].Name() != got[i].Name() {
				t.Fatalf("round trip changed the name of event %d", i)
			}
		}
	}
}

func FuzzDecodeLogsProto(f *testing.F) {
	seedCorpus(f, corpus.Protobuf, "logs")
	f.Fuzz(func(t *testing.T, b []byte) {
		l, _ := telemetry.DecodeLogsProto(b)
		checkLogsRoundTrip(t, l)
		checkDetach(t, l)
	})
}

// checkDetach asserts that DetachAll's copies of l's events encode as the events do.
func checkDetach(t *testing.T, l *telemetry.Logs) {
	evs := l.Events()
	want, err := telemetry.EncodeLogsProto(telemetry.NewLogs(evs...))
	if err != nil {
		return
	}
	got, err := telemetry.EncodeLogsProto(telemetry.NewLogs(telemetry.DetachAll(evs)...))
	if err != nil {
		t.Fatalf("encoding the detached events: %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("detached events encode differently")
	}
}

func FuzzDecodeLogsJSON(f *testing.F) {
	seedCorpus(f, corpus.JSON, "logs")
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{"kvlistValue":{"values":[{"key":"b","value":{"bytesValue":"AQ=="}}]}}}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, _ := telemetry.DecodeLogsJSON(b)
		for _, ev := range l.Events() {
			for _, kv := range ev.EventRecord().Attrs {
				if !utf8.ValidString(kv.Key) || (kv.Value.Kind() == telemetry.ValueString && !utf8.ValidString(kv.Value.Str())) {
					t.Fatalf("decoder produced invalid UTF-8")
				}
			}
		}
		checkLogsRoundTrip(t, l)
	})
}

func FuzzDecodeMetricsProto(f *testing.F) {
	seedCorpus(f, corpus.Protobuf, "metrics")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _ := telemetry.DecodeMetricsProto(b)
		out, err := telemetry.EncodeMetricsProto(m)
		if err != nil {
			return // e.g. a histogram decoded from protobuf cannot be written as JSON; proto is fine
		}
		back, err := telemetry.DecodeMetricsProto(out)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if back.Len() != m.Len() {
			t.Fatalf("round trip: %d points, want %d", back.Len(), m.Len())
		}
	})
}

func FuzzDecodeMetricsJSON(f *testing.F) {
	seedCorpus(f, corpus.JSON, "metrics")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _ := telemetry.DecodeMetricsJSON(b)
		out, err := telemetry.EncodeMetricsJSON(m)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("encoder wrote invalid JSON")
		}
		back, err := telemetry.DecodeMetricsJSON(out)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if back.Len() != m.Len() {
			t.Fatalf("round trip: %d points, want %d", back.Len(), m.Len())
		}
	})
}

func FuzzParseToolInput(f *testing.F) {
	f.Add(`{"file_path":"/Users/jane.doe/notes.txt","content":"x"}`)
	f.Add(`{"pattern":"*.txt","path":"/tmp"}`)
	f.Add(`{"command":"ls /Users/jane.doe","description":"Li`)
	f.Add(`{"url":"https://example.com/?token=abc","prompt":"Summarize"}`)
	f.Fuzz(func(t *testing.T, s string) {
		in, err := telemetry.ParseToolInput(s)
		if err != nil {
			return
		}
		if json.Valid([]byte(s)) && in.Raw == nil && s != "" && s != "null" {
			t.Fatalf("valid object without Raw")
		}
		for _, v := range []string{in.FilePath, in.Path, in.Pattern, in.URL, in.Command} {
			if !utf8.ValidString(v) && utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 from valid input")
			}
		}
	})
}

func FuzzParseToolParameters(f *testing.F) {
	f.Add(`{"bash_command":"ls","full_command":"ls /Users/jane.doe","description":"List"}`)
	f.Add(`{"mcp_server_name":"crm","mcp_tool_name":"lookup_account"}`)
	f.Add(`{"skill_name":"ci-report","timeout":"1000","dangerouslyDisableSandbox":"true"}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := telemetry.ParseToolParameters(s)
		if err == nil && s != "" && p.Raw == nil {
			t.Fatalf("no Raw for a parsed document")
		}
	})
}

// TestSchemaURLInvalidUTF8 checks that a resource's or scope's schema_url that is not valid
// UTF-8 is reported (at its path, as ErrMalformed) and left empty, the events under it kept,
// so that what was decoded encodes again: it was kept as sent, and the encoder refused it
// (found by FuzzDecodeLogsProto).
func TestSchemaURLInvalidUTF8(t *testing.T) {
	const rl, sl = "schema/resource-1", "schema/scope----1"
	bad := func(s string) string { return s[:len(s)-1] + "\xff" }
	find := func(t *testing.T, signal string) corpus.File {
		for _, f := range corpus.Files(corpus.Protobuf) {
			if f.Signal == signal {
				return f
			}
		}
		t.Fatalf("no %s in the corpus", signal)
		return corpus.File{}
	}
	corrupt := func(t *testing.T, pb []byte, err error) []byte {
		require.NoError(t, err)
		require.Equal(t, 1, bytes.Count(pb, []byte(rl)))
		require.Equal(t, 1, bytes.Count(pb, []byte(sl)))
		pb = bytes.Replace(pb, []byte(rl), []byte(bad(rl)), 1)
		return bytes.Replace(pb, []byte(sl), []byte(bad(sl)), 1)
	}
	check := func(t *testing.T, err error, n, want int) {
		var paths []string
		for _, de := range telemetry.DecodeErrors(err) {
			assert.ErrorIs(t, de, telemetry.ErrMalformed)
			assert.Equal(t, -1, de.Record)
			paths = append(paths, de.Path)
		}
		assert.Len(t, paths, 2)
		for _, p := range paths {
			assert.True(t, strings.HasSuffix(p, ".schemaUrl"), p)
		}
		assert.Equal(t, want, n, "the events under the bad schema URLs are kept")
	}
	t.Run("logs", func(t *testing.T) {
		l := decodeLogs(t, find(t, "logs"))
		l.ResourceLogs = l.ResourceLogs[:1]
		l.ResourceLogs[0].ScopeLogs = l.ResourceLogs[0].ScopeLogs[:1]
		l.ResourceLogs[0].SchemaURL, l.ResourceLogs[0].ScopeLogs[0].SchemaURL = rl, sl
		pb, err := telemetry.EncodeLogsProto(l)
		got, err := telemetry.DecodeLogsProto(corrupt(t, pb, err))
		check(t, err, got.Len(), l.Len())
		assert.Empty(t, got.ResourceLogs[0].SchemaURL)
		assert.Empty(t, got.ResourceLogs[0].ScopeLogs[0].SchemaURL)
		checkLogsRoundTrip(t, got)
	})
	t.Run("metrics", func(t *testing.T) {
		m := decodeMetrics(t, find(t, "metrics"))
		m.ResourceMetrics = m.ResourceMetrics[:1]
		m.ResourceMetrics[0].ScopeMetrics = m.ResourceMetrics[0].ScopeMetrics[:1]
		m.ResourceMetrics[0].SchemaURL, m.ResourceMetrics[0].ScopeMetrics[0].SchemaURL = rl, sl
		pb, err := telemetry.EncodeMetricsProto(m)
		got, err := telemetry.DecodeMetricsProto(corrupt(t, pb, err))
		check(t, err, got.Len(), m.Len())
		assert.Empty(t, got.ResourceMetrics[0].SchemaURL)
		assert.Empty(t, got.ResourceMetrics[0].ScopeMetrics[0].SchemaURL)
		_, err = telemetry.EncodeMetricsProto(got)
		assert.NoError(t, err)
	})
}
