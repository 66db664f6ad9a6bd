package telemetry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseTimestampMatchesTimeParse(t *testing.T) {
	for _, s := range []string{
		"2026-11-24T10:07:43.229Z", "2024-02-29T23:59:59.999Z", "2026-02-31T00:00:00.000Z",
		"2026-13-01T00:00:00.000Z", "2026-11-24T10:07:43Z", "2026-11-24T10:07:43.229+01:00",
		"2026-11-24T24:00:00.000Z", "2026-1x-24T10:07:43.229Z", "",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			want = time.Time{}
		}
		assert.True(t, want.Equal(parseTimestamp(s)), s)
	}
}

func TestJSONStringScanAgreesWithBytewise(t *testing.T) {
	for _, in := range []string{`"plain ascii that is long enough"`, `"quote late \" here"`, `"ctrl` + "\x01" + `"`,
		`"unicode é in the middle of a long string"`, `"exactly8"`, `"back\\slash at sixteen"`} {
		s := jsonScanner{src: in}
		got, err := s.str()
		s2 := jsonScanner{src: in}
		want, err2 := s2.strSlow(1) // the general path, without the fast scan
		assert.Equal(t, err2 == nil, err == nil, in)
		assert.Equal(t, want, got, in)
	}
}
