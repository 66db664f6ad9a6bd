package plugins_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
)

// FuzzLoad: the snapshot loader never panics; what it accepts validates, resolves
// deterministically for every member, and diffs empty against itself.
func FuzzLoad(f *testing.F) {
	b, err := os.ReadFile("testdata/acme.yaml")
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(exampleOrg))
	f.Add([]byte("plan: team\nmembers: [{id: m, role: user, groups: [g]}]\ngroups: [{id: g}]\nplugins: [{id: p}]\n" +
		"installation_settings: [{plugin_id: p, installation_preference: required, target: {type: rbac_group, rbac_group_id: g}}]\n"))
	f.Add([]byte(`{"plan": "enterprise", "combinator": "ranked", "group_ranking": ["b", "a"], "groups": [{"id": "a"}, {"id": "b"}],
		"members": [{"id": "m", "role": "user", "groups": ["a", "b"]}], "plugins": [{"id": "p", "organization_installation_preference": "weird"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := plugins.LoadOptions(policy.DecodeOptions{MaxBytes: 1 << 16}, data)
		require.NotNil(t, s)
		if err != nil {
			return
		}
		_ = s.Validate()
		for _, m := range s.Members {
			r1, err1 := plugins.Resolve(s, m.ID)
			r2, err2 := plugins.Resolve(s, m.ID)
			assert.Equal(t, err1, err2)
			if err1 == nil {
				assert.Equal(t, r1, r2)
				assert.Len(t, r1.Plugins, len(r1.Plugins))
				for _, d := range r1.Plugins {
					assert.False(t, d.Editable)
					assert.True(t, d.Level.Known(), "unknown levels fail closed")
					if d.Installed {
						assert.True(t, d.Visible)
					}
				}
			}
		}
		assert.True(t, func() bool { d := plugins.Diff(s, s, nil); return d.Empty() }())
	})
}

// FuzzParseManifest: the plugin.json parser never panics, reports problems as issues, and
// returns a manifest whenever the input is a JSON object.
func FuzzParseManifest(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/packages/*/.claude-plugin/plugin.json")
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, issues := plugins.ParseManifest(data)
		if m == nil {
			require.NotEmpty(t, issues)
			assert.Positive(t, issues.Count(policy.SeverityError))
		}
		for _, is := range issues {
			assert.NotEmpty(t, is.Path)
			assert.True(t, errors.Is(is, plugins.ErrManifest) || errors.Is(is, plugins.ErrAdvice), "every finding wraps a manifest sentinel: %v", is)
		}
	})
}

// FuzzParseMarketplace: the marketplace.json parser never panics and every finding has a path.
func FuzzParseMarketplace(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/packages/*/.claude-plugin/marketplace.json")
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, issues := plugins.ParseMarketplace(data)
		if m == nil {
			require.NotEmpty(t, issues)
		}
		for _, is := range issues {
			assert.NotEmpty(t, is.Path)
		}
	})
}
