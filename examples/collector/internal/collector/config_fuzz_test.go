package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzReadTokens checks that a token file either parses into tokens that all have a role and
// a value without blanks, or fails with ErrTokens without quoting the file's text.
func FuzzReadTokens(f *testing.F) {
	f.Add("ingest abc\nread def\n# comment\n\nadmin ghi\n")
	f.Add("root secret-value\n")
	f.Add("ingest\n")
	f.Add("admin a b\n")
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := ReadTokens(strings.NewReader(s))
		if err != nil {
			require.ErrorIs(t, err, ErrTokens)
			for _, w := range strings.Fields(s) {
				if len(w) >= 8 && !strings.Contains("collector: bad token configuration line is not \"role token\" unknown role want ingest, read or admin", w) {
					assert.NotContains(t, err.Error(), w, "errors never quote a token")
				}
			}
			return
		}
		for _, tk := range toks {
			assert.NotEqual(t, RoleUnknown, tk.Role)
			assert.NotEmpty(t, tk.Value)
			assert.Equal(t, tk.Value, strings.Join(strings.Fields(tk.Value), ""))
		}
	})
}

// FuzzParseRetention checks that a retention spec either parses into positive durations or
// fails with ErrRetention.
func FuzzParseRetention(f *testing.F) {
	f.Add("events=30d,chains=400d,metrics=90d")
	f.Add("events=12h")
	f.Add("logs=1d")
	f.Add("events=1e400d")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRetention(s)
		if err != nil {
			require.True(t, errors.Is(err, ErrRetention))
			return
		}
		for _, d := range []int64{int64(r.Events), int64(r.Chains), int64(r.Metrics)} {
			assert.GreaterOrEqual(t, d, int64(0))
		}
	})
}
