package pyjson

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"object order", Object{{"b", 1}, {"a", "x"}}, `{"b": 1, "a": "x"}`},
		{"nested", Object{{"l", []any{1, nil, true, Object{}}}}, `{"l": [1, null, true, {}]}`},
		{"escapes", "a\"b\\c\nd\te\x01<&>", `"a\"b\\c\nd\te\u0001<&>"`},
		{"non-ascii", "café €😀", `"caf\u00e9 \u20ac\ud83d\ude00"`},
		{"map sorted", map[string]any{"z": 1, "a": 2}, `{"a": 2, "z": 1}`},
		{"raw keeps order", json.RawMessage(`{"z":1,"a":[1.5,"é"]}`), `{"z": 1, "a": [1.5, "\u00e9"]}`},
		{"float int", float64(42), `42`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	_, err := Marshal(struct{}{})
	assert.True(t, errors.Is(err, ErrUnsupported))
	_, err = Marshal(1.5)
	assert.True(t, errors.Is(err, ErrUnsupported))
	_, err = Reformat([]byte(`{"a":`))
	assert.Error(t, err)
	_, err = Reformat([]byte(`{} {}`))
	assert.Error(t, err)
}
