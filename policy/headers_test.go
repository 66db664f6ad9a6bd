package policy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/policy"
)

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		in    string
		want  policy.Headers
		nErrs int
	}{
		{in: "", want: nil},
		{in: "a=b", want: policy.Headers{{Name: "a", Value: "b"}}},
		{in: " Authorization = Bearer%20tok , x-tenant=acme ", want: policy.Headers{{Name: "Authorization", Value: "Bearer tok"}, {Name: "x-tenant", Value: "acme"}}},
		{in: "a=b,,c=d,", want: policy.Headers{{Name: "a", Value: "b"}, {Name: "c", Value: "d"}}},
		{in: "k=a%3Db%2Cc", want: policy.Headers{{Name: "k", Value: "a=b,c"}}},
		{in: "k=x=y", want: policy.Headers{{Name: "k", Value: "x=y"}}},
		{in: "k=", want: policy.Headers{{Name: "k", Value: ""}}},
		{in: "novalue", nErrs: 1},
		{in: "=v", nErrs: 1},
		{in: "bad name=v", nErrs: 1},
		{in: "k=%zz", nErrs: 1},
		{in: "k=a%0Ab", nErrs: 1},
		{in: "a=1,A=2", want: policy.Headers{{Name: "a", Value: "1"}}, nErrs: 1},
		{in: "x,=y,k=%", nErrs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := policy.ParseHeaders(tt.in)
			assert.Equal(t, tt.want, got)
			if tt.nErrs == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, policy.ErrHeaders)
			var he *policy.HeaderError
			require.ErrorAs(t, err, &he)
			n := 1
			if u, ok := err.(interface{ Unwrap() []error }); ok {
				n = len(u.Unwrap())
			}
			assert.Equal(t, tt.nErrs, n)
		})
	}
}

func TestEndpointCredentialsNotPrinted(t *testing.T) {
	tel := policy.Telemetry{Endpoint: "https://user:hunter2@otel.example"}
	for _, o := range []string{tel.Env().String(), tel.Form().String(), fmt.Sprintf("%v", tel.Form())} {
		assert.NotContains(t, o, "hunter2")
	}
	s, err := policy.Load([]byte("telemetry:\n  endpoint: https://user:hunter2@otel.example\n"))
	require.NoError(t, err)
	for _, pos := range s.Source() {
		assert.NotContains(t, pos.Raw, "hunter2")
	}
	assert.NotContains(t, s.Validate().String(), "hunter2")
}

func TestHeadersRoundTrip(t *testing.T) {
	h := policy.Headers{{Name: "Authorization", Value: "Bearer a,b=c%d é"}, {Name: "X", Value: ""}}
	got, err := policy.ParseHeaders(h.Encode())
	require.NoError(t, err)
	assert.Equal(t, h, got)
}

// TestHeadersNeverPrinted checks every way a value could leak: fmt verbs, slog, JSON, and
// structs that contain headers.
func TestHeadersNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-value"
	h := policy.Headers{{Name: "Authorization", Value: secret}}
	tel := policy.Telemetry{Endpoint: "https://x.example", Headers: h}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, h), fmt.Sprintf(verb, h[0]), fmt.Sprintf(verb, tel), fmt.Sprintf(verb, &tel),
			fmt.Sprintf(verb, tel.Env()), fmt.Sprintf(verb, tel.Form()))
	}
	outs = append(outs, h.String(), tel.Env().String(), tel.Form().String())
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("settings", "headers", h, "one", h[0], "env", tel.Env(), "vars", []policy.EnvVar(tel.Env()), "form", tel.Form())
	slog.New(slog.NewTextHandler(&buf, nil)).Info("settings", "headers", h, "env", tel.Env(), "form", tel.Form(), "tel", tel)
	outs = append(outs, buf.String())
	j, err := json.Marshal(tel)
	require.NoError(t, err)
	outs = append(outs, string(j))
	for _, o := range outs {
		assert.NotContains(t, o, secret)
	}
	assert.Contains(t, buf.String(), "Authorization")
	// The real value is there for those who ask for it.
	assert.Contains(t, tel.Env().Environ(), "OTEL_EXPORTER_OTLP_HEADERS=Authorization="+secret)
}
