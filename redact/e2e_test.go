package redact

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// labelledEvent places a labelled text where the corpus says it occurs: a prompt, a Bash
// command line (tool_parameters.full_command), a file's contents (tool_input.content), MCP
// arguments (tool_input) or a fetched URL (tool_input.url).
func labelledEvent(c labelledCase) telemetry.Event {
	var ev telemetry.Event
	switch c.Where {
	case "prompt":
		ev = telemetry.New(telemetry.NameUserPrompt)
		telemetry.Set(ev, telemetry.KeyPrompt, telemetry.String(c.Text))
	case "command":
		ev = telemetry.New(telemetry.NameToolResult)
		b, _ := json.Marshal(map[string]string{"bash_command": "sh", "full_command": c.Text})
		telemetry.Set(ev, telemetry.KeyToolParameters, telemetry.String(string(b)))
	case "file":
		ev = telemetry.New(telemetry.NameToolResult)
		b, _ := json.Marshal(map[string]string{"file_path": "/tmp/f", "content": c.Text})
		telemetry.Set(ev, telemetry.KeyToolInput, telemetry.String(string(b)))
	case "mcp":
		ev = telemetry.New(telemetry.NameToolResult)
		in := c.Text
		if !json.Valid([]byte(in)) {
			b, _ := json.Marshal(map[string]string{"arg": c.Text})
			in = string(b)
		}
		telemetry.Set(ev, telemetry.KeyToolInput, telemetry.String(in))
	default:
		ev = telemetry.New(telemetry.NameToolResult)
		b, _ := json.Marshal(map[string]string{"url": c.Text, "prompt": "summarise"})
		telemetry.Set(ev, telemetry.KeyToolInput, telemetry.String(string(b)))
	}
	return ev
}

// leaves returns every string an event carries, with JSON-valued attributes decoded.
func leaves(ev telemetry.Event) []string {
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch v := x.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, kv := range telemetry.AttributesOf(ev) {
		s := kv.Value.Str()
		var doc any
		if json.Unmarshal([]byte(s), &doc) == nil {
			walk(doc)
		} else {
			out = append(out, s)
		}
	}
	return out
}

// TestLabelledEndToEnd puts every labelled positive into an event where the corpus says it
// occurs and checks that no labelled value survives Balanced or Strict, and that JSON-valued
// attributes stay valid JSON.
func TestLabelledEndToEnd(t *testing.T) {
	cases := loadLabelled(t)
	for _, p := range []Policy{Balanced, Strict} {
		t.Run("policy="+p.Name, func(t *testing.T) {
			e := newEngine(t, p)
			leaked := 0
			for _, c := range cases {
				if len(c.Labels) == 0 {
					continue
				}
				ev := labelledEvent(c)
				rep := e.Event(ev)
				require.Zero(t, rep.Failed, "case %d", c.ID)
				all := strings.Join(leaves(ev), "\n")
				for _, l := range c.Labels {
					if strings.Contains(all, l.Value) {
						leaked++
						t.Errorf("case %d: %s value survived %s", c.ID, l.Detector, p.Name)
					}
				}
				for _, k := range []string{telemetry.KeyToolInput, telemetry.KeyToolParameters} {
					if v, ok := telemetry.AttributesOf(ev).Get(k); ok {
						assert.True(t, json.Valid([]byte(v.Str())), "case %d %s", c.ID, k)
					}
				}
			}
			assert.Zero(t, leaked)
		})
	}
}

// TestHardNegativesUntouched checks Balanced leaves most hard negatives byte for byte.
func TestHardNegativesUntouched(t *testing.T) {
	e := newEngine(t, Balanced)
	changed, total := 0, 0
	for _, c := range loadLabelled(t) {
		if len(c.Labels) > 0 {
			continue
		}
		total++
		v, ok := e.Value("error", telemetry.String(c.Text))
		if !ok || v.Str() != c.Text {
			changed++
			t.Logf("changed hard negative %d: %q -> %q", c.ID, c.Text, v.Str())
		}
	}
	assert.LessOrEqual(t, float64(changed), 0.02*float64(total))
}
