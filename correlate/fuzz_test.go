package correlate

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

// corpusToolJSON returns every tool_parameters and tool_input document in the corpus.
func corpusToolJSON(f *testing.F) []string {
	var out []string
	for _, sc := range corpus.Scenarios() {
		for _, ev := range corpusEvents(f, sc) {
			switch e := ev.(type) {
			case *telemetry.ToolResult:
				out = append(out, e.ToolParameters, e.ToolInput)
			case *telemetry.ToolDecision:
				out = append(out, e.ToolParameters)
			}
		}
	}
	return out
}

// FuzzToolFields checks the fold's one-pass scanner against telemetry's encoding/json views:
// on every document they accept, the fields must be equal.
func FuzzToolFields(f *testing.F) {
	for _, s := range corpusToolJSON(f) {
		f.Add(s)
	}
	for _, s := range []string{
		`{"file_path":"a\"b\\c\u00e9\ud83d\ude00","path":null,"pattern":12.5e3}`,
		`{"skill_name":"x","skill_name":{"nested":"y"}}`,
		`{"mcp_server_name":true, "mcp_tool_name" : "t" , "edits":[{"file_path":"inner"}]}`,
		`{"file_path":"\ud800 lone","pattern":"\/slash"}`,
		` { } `,
		`{"file_path":"/a/b","content":"cut sho`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var tf toolFields
		scanToolParameters(s, &tf)
		if p, err := telemetry.ParseToolParameters(s); err == nil {
			got := [5]string{tf.fullCommand, tf.skillName, tf.subagentType, tf.mcpServer, tf.mcpTool}
			want := [5]string{p.FullCommand, p.SkillName, p.SubagentType, p.MCPServerName, p.MCPToolName}
			if got != want {
				t.Fatalf("tool_parameters %q: scan %q, telemetry %q", s, got, want)
			}
		}
		scanToolInput(s, &tf)
		if in, err := telemetry.ParseToolInput(s); err == nil && !in.Truncated {
			got := [5]string{tf.filePath, tf.notebookPath, tf.path, tf.pattern, tf.skill}
			want := [5]string{in.FilePath, in.NotebookPath, in.Path, in.Pattern, in.Skill}
			if got != want {
				t.Fatalf("tool_input %q: scan %q, telemetry %q", s, got, want)
			}
			for _, tool := range []string{"Read", "Edit", "Glob", "NotebookEdit", "Bash"} {
				r := &telemetry.ToolResult{ToolName: tool, ToolInput: s}
				fa, ok := fileAccess(tool, s, &tf)
				tfa := r.FileAccess()
				if ok != (len(tfa) == 1) || (ok && fa != tfa[0]) {
					t.Fatalf("file access %s %q: scan %v %v, telemetry %v", tool, s, fa, ok, tfa)
				}
			}
		}
	})
}

// FuzzReadString checks the fold's JSON string reader against encoding/json: the same
// strings accepted, decoded to the same text.
func FuzzReadString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"\ud800 lone"`,
		`"\udc00\ud800"`, `"\ud83d\u0041"`, "\"bad \xff utf8\"", `"ctl \u0001"`, "\"raw\x01ctl\"", `"\x"`, `"\u12"`,
		`"cut`, `"\'"`, `"cd /tmp \u0026\u0026 ls \u003e x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) == 0 || s[0] != '"' {
			return
		}
		got, next, ok := readString(s, 0)
		var want string
		err := json.Unmarshal([]byte(s[:max(next, 0)]), &want)
		if ok != (err == nil) {
			t.Fatalf("%q: readString ok %v, encoding/json %v", s, ok, err)
		}
		if ok && got != want {
			t.Fatalf("%q: readString %q, encoding/json %q", s, got, want)
		}
		if !ok {
			if json.Unmarshal([]byte(s), &want) == nil {
				t.Fatalf("%q: readString rejects what encoding/json accepts", s)
			}
		}
	})
}

// FuzzDecodeActivities feeds arbitrary bytes to the activity decoder: it must not panic, must
// report failures as ErrMalformed or ErrTooLarge, and must return only records with an id and
// a time.
func FuzzDecodeActivities(f *testing.F) {
	for _, name := range []string{"activities.json", "sessions.json", "messages-clls_01jane.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`[{"id":"a","created_at":"2026-11-24T10:00:00Z","actor":null}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, o := range []ComplianceDecodeOptions{{}, {Strict: true, MaxBytes: 4096}} {
			page, err := o.DecodeActivities(b)
			if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			for _, a := range page.Data {
				if a.ID == "" || a.CreatedAt.IsZero() {
					t.Fatalf("record without id or time: %+v", a)
				}
			}
			if _, err := o.DecodeLocalSessions(b); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("sessions: unexpected error class: %v", err)
			}
			if _, err := o.DecodeMessages(b); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("messages: unexpected error class: %v", err)
			}
		}
	})
}

// FuzzFoldOrder folds the corpus (and a subagent scenario) in an order and with duplicates
// chosen by the fuzzer: the chains must not change.
func FuzzFoldOrder(f *testing.F) {
	base := propertyEvents(f)
	want := exactJSON(f, Fold(base))
	f.Add(uint64(1), uint64(0))
	f.Add(uint64(7), ^uint64(0))
	f.Add(uint64(12345), uint64(0xAAAA5555))
	f.Fuzz(func(t *testing.T, seed, dupMask uint64) {
		evs := append([]telemetry.Event(nil), base...)
		for i, e := range base {
			if dupMask&(1<<(uint(i)%64)) != 0 {
				evs = append(evs, e)
			}
		}
		got := exactJSON(t, Fold(shuffled(evs, seed)))
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Fatalf("chain %d differs for seed %d mask %x", i, seed, dupMask)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("got %d chains, want %d", len(got), len(want))
		}
	})
}
