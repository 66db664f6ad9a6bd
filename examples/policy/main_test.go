package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunDefaults(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(nil, &out, &errOut))
	s := out.String()
	for _, want := range []string{
		"== snapshot rev-",
		`unknown installation preference "pinned"`,
		"OTLP headers: Authorization=[redacted],X-Scope-OrgID=[redacted]",
		"OTEL_EXPORTER_OTLP_HEADERS=[redacted]",
		"cowork for user_erin: enabled",
		"group rbac_group_eng: required  <- winner",
		"combinator: strongest-wins -> required from group settings",
		"== dry run: what the new snapshot changes",
		"locked-in       plugin_lint (auto_install -> required)",
		"totals: 4 of 5 members affected",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "acme-secret-token", "header values are never printed")
	assert.Empty(t, errOut.String())
}

func TestRunMemberAndFiles(t *testing.T) {
	dir := t.TempDir()
	before, err := samples.ReadFile("snapshots/before.yaml")
	require.NoError(t, err)
	after := strings.Replace(string(before), "cowork: true\n", "cowork: false\n", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), before, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(after), 0o600))

	var out bytes.Buffer
	require.NoError(t, run([]string{"-snapshot", filepath.Join(dir, "a.yaml"), "-new", filepath.Join(dir, "b.yaml"), "-member", "user_carol"}, &out, &out))
	s := out.String()
	assert.Contains(t, s, "custom roles:   stopped  no custom role of the member's groups grants Cowork")
	assert.Contains(t, s, "gate: cowork is off")
	assert.Contains(t, s, "cowork +0 -3", "switching the org toggle off removes Cowork from everyone who had it")

	out.Reset()
	require.NoError(t, run([]string{"-snapshot", filepath.Join(dir, "a.yaml"), "-member", "user_bob"}, &out, &out))
	assert.NotContains(t, out.String(), "dry run", "no diff without -new when -snapshot is given")
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	assert.Error(t, run([]string{"-member", "user_nobody"}, &out, &out))
	assert.Error(t, run([]string{"-snapshot", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &out))
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("plan: enterprise\ncolour: red\n"), 0o600))
	err := run([]string{"-snapshot", bad}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `line 2: colour: unknown field "colour"`)
	assert.Error(t, run([]string{"-bogus"}, &out, &out))
}
