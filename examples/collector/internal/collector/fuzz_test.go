package collector

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// FuzzAttributesJSON checks that what the events.attributes column stores is always valid JSON
// that sqlite3's JSON functions can read, and that strings survive byte for byte when they are
// valid UTF-8 (invalid bytes become U+FFFD).
func FuzzAttributesJSON(f *testing.F) {
	f.Add("tool_input", `{"file_path":"/Users/jane/notes.txt"}`, int64(49), 1.5, true)
	f.Add("prompt", "line\nbreak \"quoted\" \\ \u2028 \x00 \xff", int64(-1), -0.0, false)
	f.Add("", "", int64(0), 1e308, false)
	f.Fuzz(func(t *testing.T, key, s string, n int64, d float64, b bool) {
		attrs := telemetry.Attributes{
			{Key: key, Value: telemetry.String(s)},
			{Key: "n", Value: telemetry.Int(n)},
			{Key: "d", Value: telemetry.Double(d)},
			{Key: "b", Value: telemetry.Bool(b)},
			{Key: "arr", Value: telemetry.Strings(s, key)},
			{Key: "map", Value: telemetry.Map(telemetry.KeyValue{Key: s, Value: telemetry.Int(n)})},
			{Key: "bytes", Value: telemetry.Bytes([]byte(s))},
		}
		out := appendAttrsJSON(nil, attrs)
		require.True(t, json.Valid(out), "%q", out)
		var m map[string]any
		require.NoError(t, json.Unmarshal(out, &m))
		if utf8.ValidString(key) && utf8.ValidString(s) && key != "n" && key != "d" && key != "b" && key != "arr" && key != "map" && key != "bytes" {
			assert.Equal(t, s, m[key])
		}
		assert.Equal(t, b, m["b"])
	})
}
