package redact

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

func TestParsePolicy(t *testing.T) {
	doc := `
name: acme
extends: strict
rules:
  - name: customers
    events: [tool_result, tool_decision]
    keys: ["tool_input.customer_*"]
    what: value
    action: hash
    entity: customer
  - name: phones-last4
    what: [phone]
    action: partial
    keep_last: 4
  - name: emails-domain
    what: email
    action: partial
    keep_domain: true
`
	p, err := ParsePolicy([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, "acme", p.Name)
	require.GreaterOrEqual(t, len(p.Rules), 3)
	assert.Equal(t, Rule{Name: "customers", Events: []string{"tool_result", "tool_decision"}, Keys: []string{"tool_input.customer_*"},
		Action: ActionHash, Entity: "customer"}, p.Rules[0])
	assert.Equal(t, []Detector{DetectorPhone}, p.Rules[1].Detectors)
	assert.Equal(t, len(Strict.Rules)+3, len(p.Rules), "the preset's rules follow")
	assert.Equal(t, Strict.Detectors, p.Detectors)

	e, err := New(p, WithKey("k", testKey))
	require.NoError(t, err)
	v, ok := e.Value("prompt", telemetry.String("x"))
	require.True(t, ok)
	assert.Equal(t, "[LEN:1]", v.Str(), "strict's rules still apply")
	// Our emails rule comes before strict's, so e-mails keep their domain.
	v, _ = e.Value("error", telemetry.String("mail jane@acme.example or +1 415 555 0132"))
	assert.Equal(t, "mail ***@acme.example or +* *** *** 0132", v.Str())
}

func TestParsePolicyJSON(t *testing.T) {
	doc := `{
  "name": "j",
  "detectors": ["email", "github_token"],
  "rules": [
    {"name": "drop-prompts", "keys": ["prompt"], "action": "drop"}
  ]
}`
	p, err := ParsePolicy([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, []Detector{DetectorEmail, DetectorGitHubToken}, p.Detectors)
	assert.Equal(t, ActionDrop, p.Rules[0].Action)
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int
		msg  string
	}{
		{"unknown top-level field", "name: x\ncolour: red\n", 2, "unknown field"},
		{"unknown rule field", "rules:\n  - name: a\n    action: drop\n    kees: [x]\n", 4, "unknown field"},
		{"bad key pattern", "rules:\n  - name: a\n    action: drop\n    keys:\n      - \"a.[b\"\n", 5, "bad pattern"},
		{"bad skip pattern", "skip: [\"[\"]\n", 1, "bad pattern"},
		{"unknown detector", "detectors: [email, bogus]\n", 1, "unknown detector"},
		{"unknown action", "rules:\n  - name: a\n    action: hide\n", 3, "unknown action"},
		{"missing action", "rules:\n  - name: a\n    keys: [x]\n", 2, "action"},
		{"unknown preset", "extends: paranoid\n", 1, "unknown preset"},
		{"syntax error", "rules: [\n", 1, ""},
		{"JSON unknown field", "{\n  \"name\": \"x\",\n  \"bogus\": 1\n}", 3, "unknown field"},
		{"duplicate rule", "rules:\n  - name: a\n    action: drop\n  - name: a\n    action: drop\n", 4, "duplicate"},
		{"protected key", "rules:\n  - name: a\n    keys: [session.id]\n    action: drop\n", 2, "protected"},
		{"bad keep_last", "rules:\n  - name: a\n    action: partial\n    keep_last: many\n", 4, "integer"},
		{"empty", "", 0, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.doc))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrPolicy), err.Error())
			var pe *PolicyError
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, tt.line, pe.Line, err.Error())
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestLoadPolicyAndPresets(t *testing.T) {
	p, err := LoadPolicy(strings.NewReader("extends: balanced\n"))
	require.NoError(t, err)
	assert.Equal(t, Balanced.Rules, p.Rules)
	for _, n := range []string{"strict", "balanced", "none"} {
		pre, ok := Preset(n)
		require.True(t, ok)
		_, err := New(pre)
		assert.NoError(t, err, n)
	}
	_, ok := Preset("x")
	assert.False(t, ok)
}

func TestEnumsRoundTrip(t *testing.T) {
	for _, d := range Detectors() {
		got, ok := ParseDetector(d.String())
		assert.True(t, ok)
		assert.Equal(t, d, got)
		assert.NotEmpty(t, d.Label())
	}
	_, ok := ParseDetector("nope")
	assert.False(t, ok)
	for a := ActionKeep; a <= ActionGeneralize; a++ {
		got, ok := ParseAction(a.String())
		assert.True(t, ok)
		assert.Equal(t, a, got)
	}
	assert.Equal(t, "", DetectorUnknown.String())
	assert.Equal(t, "resource", ScopeResource.String())
	assert.Equal(t, "keys", AuditKeys.String())
}
