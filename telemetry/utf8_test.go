package telemetry

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestValidUTF8(t *testing.T) {
	cases := []string{
		"", "a", "session.id", "abcdefgh", "abcdefghi", strings.Repeat("x", 63),
		"é", "aé", "abcdefgé", "abcdefghé", "é" + strings.Repeat("a", 20) + "—" + strings.Repeat("b", 9),
		"\xff", "abcdefgh\xff", "abcdefghijklmn\xc3", "\xc3\x28", "ab\xe2\x82", "\xed\xa0\x80", // surrogate
		"\xf4\x90\x80\x80", "\xef\xbf\xbd", strings.Repeat("日本語", 5), "\x00\x7f", "abcdefg\xf0\x9f\x98\x80",
		strings.Repeat("a", 16) + "\xf0\x9f\x98", "\xc0\xaf", strings.Repeat("—", 3) + strings.Repeat("z", 30) + "\x80",
	}
	for _, s := range cases {
		assert.Equal(t, utf8.ValidString(s), validUTF8(s), "%q", s)
	}
}

func FuzzValidUTF8(f *testing.F) {
	f.Add("session.id")
	f.Add("abcdefgh\xffé")
	f.Add(strings.Repeat("日本語", 5))
	f.Fuzz(func(t *testing.T, s string) {
		if utf8.ValidString(s) != validUTF8(s) {
			t.Fatalf("validUTF8(%q) = %v", s, !utf8.ValidString(s))
		}
		// Every suffix and prefix, to reach each alignment and tail case.
		for i := range min(len(s), 16) {
			if utf8.ValidString(s[i:]) != validUTF8(s[i:]) || utf8.ValidString(s[:len(s)-i]) != validUTF8(s[:len(s)-i]) {
				t.Fatalf("validUTF8 disagrees on a part of %q at %d", s, i)
			}
		}
	})
}
