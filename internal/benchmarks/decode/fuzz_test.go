package decode

import (
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/stretchr/testify/require"
)

// FuzzAgreeProto feeds arbitrary protobuf to both decoders: whenever both accept the input,
// they must read it the same way (see diffLogs).
func FuzzAgreeProto(f *testing.F) { fuzzAgree(f, formatProto) }

// FuzzAgreeJSON is FuzzAgreeProto for OTLP/JSON.
func FuzzAgreeJSON(f *testing.F) { fuzzAgree(f, formatJSON) }

// fuzzAgree seeds with one small request per event name of the corpus (each record alone,
// re-encoded by cowork): small inputs keep the fuzzer fast.
func fuzzAgree(f *testing.F, fm format) {
	seen := map[string]bool{}
	for _, file := range corpus.Files(fm.encoding()) {
		if file.Signal != "logs" {
			continue
		}
		logs, err := decodeCowork(fm, file.Data)
		require.NoError(f, err)
		for _, ev := range logs.Events() {
			if seen[ev.Name()] {
				continue
			}
			seen[ev.Name()] = true
			var b []byte
			if fm == formatProto {
				b, err = telemetry.EncodeLogsProto(telemetry.NewLogs(ev))
			} else {
				b, err = telemetry.EncodeLogsJSON(telemetry.NewLogs(ev))
			}
			require.NoError(f, err)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		logs, err := decodeCowork(fm, b)
		if err != nil {
			return // rejected input: cowork returns partial results, pdata none to compare
		}
		if fm == formatJSON && emptyJSONKey.Match(b) {
			// pdata's generated JSON readers loop "for f := iter.ReadObject(); f != \"\"", so an
			// empty key ends the object early and the rest is misread (testdata seed ee71268bd1b052ce:
			// {"resourceLogs":[{"":[{}]}]} gives pdata two resourceLogs). cowork skips the key.
			return
		}
		if fm == formatJSON && !utf8.Valid(b) {
			// A documented difference: cowork replaces invalid UTF-8 in JSON strings with U+FFFD,
			// pdata keeps the raw bytes (testdata seed 6f714e8fb96b2067).
			return
		}
		ld, perr := decodePdata(fm, b)
		if perr != nil {
			return // cowork is the more lenient here; nothing to compare
		}
		if d := diffLogs(logs, ld); len(d) > 0 {
			t.Fatalf("cowork and pdata disagree on %d fields, first: %s", len(d), d[0])
		}
	})
}

// emptyJSONKey matches an object key that is the empty string.
var emptyJSONKey = regexp.MustCompile(`""\s*:`)
