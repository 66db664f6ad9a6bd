package fastutf8

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValid(t *testing.T) {
	cases := []string{
		"", "a", "session.id", "abcdefgh", "abcdefghi", strings.Repeat("x", 63),
		"é", "aé", "abcdefgé", "abcdefghé", "é" + strings.Repeat("a", 20) + "—" + strings.Repeat("b", 9),
		"\xff", "abcdefgh\xff", "abcdefghijklmn\xc3", "\xc3\x28", "ab\xe2\x82", "\xed\xa0\x80", // surrogate
		"\xf4\x90\x80\x80", "\xef\xbf\xbd", strings.Repeat("日本語", 5), "\x00\x7f", "abcdefg\xf0\x9f\x98\x80",
		strings.Repeat("a", 16) + "\xf0\x9f\x98", "\xc0\xaf", strings.Repeat("—", 3) + strings.Repeat("z", 30) + "\x80",
	}
	for _, s := range cases {
		assert.Equal(t, utf8.ValidString(s), Valid(s), "%q", s)
	}
}

func FuzzValid(f *testing.F) {
	f.Add("session.id")
	f.Add("abcdefgh\xffé")
	f.Add(strings.Repeat("日本語", 5))
	f.Fuzz(func(t *testing.T, s string) {
		if utf8.ValidString(s) != Valid(s) {
			t.Fatalf("Valid(%q) = %v", s, !utf8.ValidString(s))
		}
		// Every suffix and prefix, to reach each alignment and tail case.
		for i := range min(len(s), 16) {
			if utf8.ValidString(s[i:]) != Valid(s[i:]) || utf8.ValidString(s[:len(s)-i]) != Valid(s[:len(s)-i]) {
				t.Fatalf("validUTF8 disagrees on a part of %q at %d", s, i)
			}
		}
	})
}

// TestValidAround checks Valid against utf8.ValidString on ASCII runs of every length
// around its eight-byte steps with a valid or broken multi-byte sequence at every offset.
func TestValidAround(t *testing.T) {
	pieces := []string{"", "é", "😀", "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "€"}
	for n := 0; n <= 26; n++ {
		ascii := strings.Repeat("a", n)
		for _, p := range pieces {
			for at := 0; at <= n; at++ {
				s := ascii[:at] + p + ascii[at:]
				require.Equal(t, utf8.ValidString(s), Valid(s), "%q", s)
				s2 := s + p
				require.Equal(t, utf8.ValidString(s2), Valid(s2), "%q", s2)
			}
		}
	}
}
