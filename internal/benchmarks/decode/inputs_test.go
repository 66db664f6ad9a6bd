package decode

import (
	"testing"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// format is one OTLP wire encoding as named in benchmark names.
type format string

const (
	formatProto format = "proto"
	formatJSON  format = "json"
)

var formats = []format{formatProto, formatJSON}

func (f format) encoding() corpus.Encoding {
	if f == formatProto {
		return corpus.Protobuf
	}
	return corpus.JSON
}

// input is what one benchmark operation decodes: one or more request bodies, decoded in turn.
type input struct {
	name   string // "corpus" or "batch"
	format format
	bodies [][]byte
	bytes  int64 // total length of bodies
	events int   // total log records in bodies
}

// corpusInput is every log file of the corpus in f's encoding.
func corpusInput(tb testing.TB, f format) input {
	tb.Helper()
	in := input{name: "corpus", format: f}
	for _, file := range corpus.Files(f.encoding()) {
		if file.Signal != "logs" {
			continue
		}
		in.add(tb, file.Data)
	}
	require.NotEmpty(tb, in.bodies, "corpus has no %s log files", f)
	return in
}

// batchInput is every log record of the corpus, from the recordings of both encodings (they are
// separate runs, so the records are distinct), re-encoded by cowork's encoder in f into a single
// request: a large batch, as a busy gateway would receive.
func batchInput(tb testing.TB, f format) input {
	tb.Helper()
	var events []telemetry.Event
	for _, src := range formats {
		for _, b := range corpusInput(tb, src).bodies {
			logs, err := decodeCowork(src, b)
			require.NoError(tb, err)
			events = append(events, logs.Events()...)
		}
	}
	logs := telemetry.NewLogs(events...)
	var body []byte
	var err error
	if f == formatProto {
		body, err = telemetry.EncodeLogsProto(logs)
	} else {
		body, err = telemetry.EncodeLogsJSON(logs)
	}
	require.NoError(tb, err)
	in := input{name: "batch", format: f}
	in.add(tb, body)
	require.Equal(tb, len(events), in.events, "re-encoded batch lost records")
	return in
}

func inputs(tb testing.TB, f format) []input {
	return []input{corpusInput(tb, f), batchInput(tb, f)}
}

// add appends one body, counting its records with pdata and checking cowork counts the same.
func (in *input) add(tb testing.TB, body []byte) {
	tb.Helper()
	ld, err := decodePdata(in.format, body)
	require.NoError(tb, err)
	logs, err := decodeCowork(in.format, body)
	require.NoError(tb, err)
	require.Equal(tb, ld.LogRecordCount(), logs.Len(), "record count of a %s body", in.format)
	in.bodies = append(in.bodies, body)
	in.bytes += int64(len(body))
	in.events += logs.Len()
}

func decodeCowork(f format, b []byte) (*telemetry.Logs, error) {
	if f == formatProto {
		return telemetry.DecodeLogsProto(b)
	}
	return telemetry.DecodeLogsJSON(b)
}

func decodePdata(f format, b []byte) (plog.Logs, error) {
	if f == formatProto {
		return (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	}
	return (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
}

// impl is one decoder under test: it decodes every body of an input and returns the number of
// records it produced, so that the work cannot be optimised away.
type impl struct {
	name   string
	decode func(f format, bodies [][]byte) int
}

var impls = []impl{
	{"cowork", func(f format, bodies [][]byte) int {
		n := 0
		for _, b := range bodies {
			logs, err := decodeCowork(f, b)
			if err != nil {
				panic(err) // inputs were checked by input.add
			}
			n += logs.Len()
		}
		return n
	}},
	{"pdata", func(f format, bodies [][]byte) int {
		n := 0
		for _, b := range bodies {
			ld, err := decodePdata(f, b)
			if err != nil {
				panic(err)
			}
			n += ld.LogRecordCount()
		}
		return n
	}},
}
