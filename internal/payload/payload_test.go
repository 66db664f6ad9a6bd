package payload

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/redact"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

var forms = []Form{Raw, Gzip, S2}

// TestRoundTrip: every form decodes to the request encoded, and is told from its bytes.
func TestRoundTrip(t *testing.T) {
	f := telemetrytest.NewFactory(1)
	l := telemetry.NewLogs(f.UserPrompt(), f.APIRequest(), f.ToolResult())
	want, err := telemetry.EncodeLogsProto(l)
	require.NoError(t, err)
	for _, form := range forms {
		t.Run(form.String(), func(t *testing.T) {
			p, err := Encode(l, form)
			require.NoError(t, err)
			assert.Equal(t, form, FormOf(p))
			raw, err := Decompress(p)
			require.NoError(t, err)
			assert.Equal(t, want, raw)
			got, err := Decode(p)
			require.NoError(t, err)
			b, err := telemetry.EncodeLogsProto(got)
			require.NoError(t, err)
			assert.Equal(t, want, b)
			if form != Raw {
				assert.Less(t, len(p), len(raw), "compressed")
			}
		})
	}
	empty, err := Decode(nil)
	require.NoError(t, err)
	assert.Empty(t, empty.Events())
}

// TestConcatenate: payloads of one form concatenate into one payload of that form, holding
// every request's events in order (what the forwarder sends).
func TestConcatenate(t *testing.T) {
	f := telemetrytest.NewFactory(2)
	a := telemetry.NewLogs(f.UserPrompt(), f.APIRequest())
	b := telemetry.NewLogs(f.ToolDecision(), f.ToolResult(), f.AssistantResponse())
	for _, form := range forms {
		t.Run(form.String(), func(t *testing.T) {
			pa, err := Encode(a, form)
			require.NoError(t, err)
			pb, err := Encode(b, form)
			require.NoError(t, err)
			got, err := Decode(append(append([]byte(nil), pa...), pb...))
			require.NoError(t, err)
			var names []string
			for _, ev := range got.Events() {
				names = append(names, ev.Name())
			}
			assert.Equal(t, []string{"user_prompt", "api_request", "tool_decision", "tool_result", "assistant_response"}, names)
		})
	}
}

// TestBad: a corrupt or truncated compressed payload is an error, and one that decompresses
// to more than MaxSize is refused rather than read into memory.
func TestBad(t *testing.T) {
	f := telemetrytest.NewFactory(3)
	l := telemetry.NewLogs(f.UserPrompt(), f.APIRequest(), f.ToolResult())
	for _, form := range []Form{Gzip, S2} {
		p, err := Encode(l, form)
		require.NoError(t, err)
		_, err = Decode(p[:len(p)-3])
		assert.Error(t, err, "%v truncated", form)
		bad := bytes.Clone(p)
		bad[len(bad)/2] ^= 0xff
		_, err = Decode(bad)
		assert.Error(t, err, "%v corrupt", form)
	}
	zeros := make([]byte, 1<<20)
	for _, form := range []Form{Gzip, S2} {
		var bomb bytes.Buffer
		for range MaxSize/len(zeros) + 1 {
			p, err := Compress(zeros, form)
			require.NoError(t, err)
			bomb.Write(p)
		}
		_, err := Decompress(bomb.Bytes())
		assert.ErrorIs(t, err, ErrTooLarge, "%v", form)
	}
	_, err := Compress(nil, Form(9))
	assert.Error(t, err)
	assert.Equal(t, "Form(9)", Form(9).String())
}

// FuzzDecode: no payload makes Decode panic, and a payload that decodes re-encodes in every
// form to the same request.
func FuzzDecode(f *testing.F) {
	fac := telemetrytest.NewFactory(4)
	l := telemetry.NewLogs(fac.UserPrompt(), fac.ToolResult())
	for _, form := range forms {
		p, err := Encode(l, form)
		require.NoError(f, err)
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(b)
		if err != nil {
			return
		}
		want, err := telemetry.EncodeLogsProto(got)
		if err != nil {
			return // decodable but not re-encodable (e.g. invalid UTF-8 kept as bytes): not this package's concern
		}
		for _, form := range forms {
			p, err := Compress(want, form)
			require.NoError(t, err)
			raw, err := Decompress(p)
			require.NoError(t, err)
			require.True(t, bytes.Equal(want, raw), "%v round trip", form)
		}
	})
}

// BenchmarkCompress compresses the requests of a simulated fleet under strict redaction, 200
// events a request, as the collector stores them: gzip (the peer, and the form of schema 1
// and 2 stores) beside S2, with each one's decompression. MB/s counts protobuf bytes.
func BenchmarkCompress(b *testing.B) {
	o := telemetrytest.Realistic(3)
	o.Users, o.SessionsPerUser, o.PromptsPerSession, o.BatchSize = 20, 2, 10, 200
	e, err := redact.New(redact.Strict, redact.WithKey("k1", []byte("0123456789abcdef0123456789abcdef")))
	require.NoError(b, err)
	var reqs [][]byte
	var size int64
	for l := range telemetrytest.NewFleet(o).Batches() {
		e.Logs(l)
		raw, err := telemetry.EncodeLogsProto(l)
		require.NoError(b, err)
		reqs = append(reqs, raw)
		size += int64(len(raw))
	}
	for _, form := range []Form{Gzip, S2} {
		b.Run(fmt.Sprintf("form=%v/op=compress", form), func(b *testing.B) {
			b.SetBytes(size)
			var out int64
			for b.Loop() {
				out = 0
				for _, r := range reqs {
					p, err := Compress(r, form)
					if err != nil {
						b.Fatal(err)
					}
					out += int64(len(p))
				}
			}
			b.ReportMetric(float64(size)/float64(out), "ratio")
		})
		b.Run(fmt.Sprintf("form=%v/op=decompress", form), func(b *testing.B) {
			ps := make([][]byte, len(reqs))
			for i, r := range reqs {
				ps[i], _ = Compress(r, form)
			}
			b.SetBytes(size)
			for b.Loop() {
				for _, p := range ps {
					if _, err := Decompress(p); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
