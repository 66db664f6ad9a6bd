package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendMatchesJSONStringify(t *testing.T) {
	tests := map[string]string{
		"plain":        `"plain"`,
		"q\"b\\":       `"q\"b\\"`,
		"\n\r\t\b\f":   `"\n\r\t\b\f"`,
		"\x01":         `"\u0001"`,
		"é😀":           `"é😀"`,
		"bad\xffbyte":  "\"bad\ufffdbyte\"",
		"<tag>&\u2028": "\"<tag>&\u2028\"",
		// Longer than eight bytes, with the special byte at each position of a word.
		"0123456789abcdef":        `"0123456789abcdef"`,
		"01234567\"9abcdefg":      `"01234567\"9abcdefg"`,
		"0123456\\89abcdefgh":     `"0123456\\89abcdefgh"`,
		"abcdefghijklmno\n":       `"abcdefghijklmno\n"`,
		"abcdefghé—ijklmnopq\xff": "\"abcdefghé—ijklmnopq\ufffd\"",
		"abcdefgh\x1fzzzzzzzz":    `"abcdefgh\u001fzzzzzzzz"`,
	}
	for in, want := range tests {
		got := string(Append(nil, in))
		assert.Equal(t, want, got, in)
		assert.True(t, json.Valid([]byte(got)))
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\\u00e9", "\xff", "\\ud83d", "x\\ud83d\\ude00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := Append(nil, s)
		require.True(t, json.Valid(enc))
		end := End(string(enc), 0)
		require.Equal(t, len(enc), end)
		got, ok := Unquote(string(enc[1 : len(enc)-1]))
		require.True(t, ok)
		if utf8.ValidString(s) {
			require.Equal(t, s, got)
		}
		var std string
		require.NoError(t, json.Unmarshal(enc, &std))
		require.Equal(t, std, got)
		// Unquote agrees with encoding/json on any raw body it accepts.
		if u, ok := Unquote(s); ok {
			var v string
			if json.Unmarshal([]byte(`"`+s+`"`), &v) == nil {
				require.Equal(t, v, u)
			}
		}
	})
}

// TestAppendHTMLSafe: AppendHTMLSafe writes what encoding/json writes for every byte.
func TestAppendHTMLSafe(t *testing.T) {
	// Every byte, alone and inside runs that cross the eight-byte fast path.
	for c := range 256 {
		for _, s := range []string{string(rune(c)), string([]byte{byte(c)}), strings.Repeat("a", 5) + string([]byte{byte(c)}) + strings.Repeat("b", 12)} {
			want, err := json.Marshal(s)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(AppendHTMLSafe(nil, s)), "%q", s)
		}
	}
}
