package policy_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/policy"
)

// FuzzLoad: the loader never panics, always returns a snapshot, and anything it accepts
// validates, evaluates deterministically and has a stable revision.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"testdata/acme.yaml", "testdata/acme.json"} {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(exampleSnapshot))
	f.Add([]byte("plan: team\ncowork: false\n"))
	f.Add([]byte("{\"plan\": \"enterprise\", \"members\": [{\"id\": \"a\", \"role\": \"custom\"}]}"))
	f.Add([]byte("telemetry: {headers: \"a=%zz,=b\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := policy.DecodeOptions{MaxBytes: 1 << 16}.Load(data)
		require.NotNil(t, s)
		if err != nil {
			return
		}
		_ = s.Validate()
		rev := s.Revision()
		assert.Equal(t, rev, s.Clone().Revision())
		for _, m := range s.Members {
			d1, err1 := s.Evaluate(m.ID)
			d2, err2 := s.Evaluate(m.ID)
			assert.Equal(t, d1, d2)
			assert.Equal(t, err1, err2)
			if err1 == nil {
				assert.Equal(t, rev, d1.Revision)
			}
		}
	})
}

// FuzzParseHeaders: parsing never panics, and what parses survives an Encode round trip.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"a=b", "Authorization=Bearer%20x,X-T=1", "k=%zz", "=,=,", " a = b , c=d%2Ce "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := policy.ParseHeaders(s)
		if err != nil {
			return
		}
		back, err := policy.ParseHeaders(h.Encode())
		require.NoError(t, err)
		assert.Equal(t, h, back)
	})
}
