package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/policy"
)

func decodeErrors(err error) []*policy.DecodeError {
	var out []*policy.DecodeError
	var walk func(error)
	walk = func(e error) {
		if u, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range u.Unwrap() {
				walk(x)
			}
			return
		}
		var de *policy.DecodeError
		if errors.As(e, &de) {
			out = append(out, de)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestLoadStrict(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		err   error
		line  int
		path  string
		allow bool // AllowUnknownFields
	}{
		{name: "unknown top-level field", doc: "plan: team\ncolour: red\n", err: policy.ErrUnknownField, line: 2, path: "colour"},
		{name: "unknown nested field", doc: "plan: team\nmembers:\n  - id: a\n    role: user\n    shoe: 9\n", err: policy.ErrUnknownField, line: 5, path: "members[0].shoe"},
		{name: "unknown field in JSON", doc: "{\n\t\"plan\": \"team\",\n\t\"telemetry\": {\"endpoint\": \"https://x.example\", \"extra\": 1}\n}", err: policy.ErrUnknownField, line: 3, path: "telemetry.extra"},
		{name: "unknown field allowed on request", doc: "plan: team\ncolour: red\n", allow: true},
		{name: "wrong type", doc: "plan: team\ngroups: {id: g}\n", err: policy.ErrType, line: 2},
		{name: "wrong scalar type", doc: "plan: team\ncowork: maybe\n", err: policy.ErrType, line: 2},
		{name: "syntax error", doc: "plan: [team\n", err: policy.ErrSyntax},
		{name: "json syntax error", doc: "{\"plan\": \"team\",}", err: policy.ErrSyntax},
		{name: "duplicate key", doc: "plan: team\nplan: enterprise\n", err: policy.ErrDuplicate, line: 2},
		{name: "alias rejected", doc: "plan: &p team\ncowork: true\norganization: {name: *p}\n", err: policy.ErrAlias},
		{name: "malformed headers", doc: "telemetry:\n  endpoint: https://x.example\n  headers: \"a=%zz\"\n", err: policy.ErrHeaders, line: 3},
		{name: "headers not a string", doc: "telemetry:\n  headers: [a]\n", err: policy.ErrHeaders, line: 2},
		{name: "empty document", doc: "  \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := policy.DecodeOptions{AllowUnknownFields: tt.allow}.Load([]byte(tt.doc))
			require.NotNil(t, s, "a partial snapshot is always returned")
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			des := decodeErrors(err)
			require.NotEmpty(t, des)
			if tt.line > 0 {
				assert.Equal(t, tt.line, des[0].Line, des[0].Error())
			}
			if tt.path != "" {
				assert.Equal(t, tt.path, des[0].Path)
			}
		})
	}
}

func TestLoadReportsEveryUnknownField(t *testing.T) {
	_, err := policy.Load([]byte("plan: team\na: 1\nb: 2\nmembers: [{id: x, c: 3}]\n"))
	des := decodeErrors(err)
	require.Len(t, des, 3)
	assert.Equal(t, []int{2, 3, 4}, []int{des[0].Line, des[1].Line, des[2].Line})
}

func TestLoadPartialResult(t *testing.T) {
	s, err := policy.Load([]byte("plan: enterprise\nbogus: 1\nmembers: [{id: a, role: owner}]\n"))
	require.ErrorIs(t, err, policy.ErrUnknownField)
	assert.Equal(t, policy.PlanEnterprise, s.Plan)
	assert.Len(t, s.Members, 1)
}

func TestLoadLimits(t *testing.T) {
	_, err := policy.DecodeOptions{MaxBytes: 10}.Load([]byte("plan: enterprise\n"))
	assert.ErrorIs(t, err, policy.ErrTooLarge)

	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	_, err = policy.Load([]byte("organization: " + deep))
	assert.ErrorIs(t, err, policy.ErrTooDeep)

	_, err = policy.DecodeOptions{MaxDepth: 2}.Load([]byte("members: [{id: a, groups: [g]}]"))
	assert.ErrorIs(t, err, policy.ErrTooDeep)
}

func TestDecodeErrorNeverShowsHeaderValues(t *testing.T) {
	_, err := policy.Load([]byte("telemetry:\n  headers: \"Authorization=Bearer%20topsecret%zz\"\n"))
	require.ErrorIs(t, err, policy.ErrHeaders)
	assert.NotContains(t, err.Error(), "topsecret")
}

func TestSourceNeverKeepsHeaderValues(t *testing.T) {
	s, err := policy.Load([]byte("telemetry:\n  endpoint: https://x.example\n  headers: \"Authorization=topsecret\"\n"))
	require.NoError(t, err)
	for path, pos := range s.Source() {
		assert.NotContains(t, pos.Raw, "topsecret", path)
	}
	assert.Equal(t, 3, s.Source().Line("telemetry.headers"))
}
