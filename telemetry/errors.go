package telemetry

import (
	"errors"
	"strconv"
)

// Sentinel errors, wrapped by [DecodeError] and others; test with errors.Is.
var (
	// ErrMalformed means the input is not valid OTLP in the encoding it was decoded as.
	ErrMalformed = errors.New("telemetry: malformed input")
	// ErrTooLarge means the input exceeds DecodeOptions.MaxBytes.
	ErrTooLarge = errors.New("telemetry: input too large")
	// ErrTooDeep means a value nests deeper than DecodeOptions.MaxDepth.
	ErrTooDeep = errors.New("telemetry: value nested too deep")
	// ErrUnknownField means strict decoding met a field OTLP does not define.
	ErrUnknownField = errors.New("telemetry: unknown field")
)

// DecodeError reports one problem found while decoding: which record (or the envelope), where,
// and why. A decoder returns every DecodeError it found, joined with errors.Join, together
// with everything it could still decode.
type DecodeError struct {
	// Record is the index of the log record or metric data point in the request, counting
	// across resources and scopes, or -1 when the problem is in the envelope.
	Record int
	// Records, when more than one, is the number of records from Record on that the problem
	// made the decoder skip: a metric dropped whole counts each of its data points. 0 and 1
	// both mean the one record (none for the envelope).
	Records int
	// Path locates the problem, e.g. resourceLogs[0].scopeLogs[0].logRecords[3].attributes[5].
	Path string
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Err is the cause: ErrMalformed, ErrTooDeep, ErrUnknownField, or a more specific error.
	Err error
}

// Error names the record, the path within it, the byte offset and the cause.
func (e *DecodeError) Error() string {
	s := "telemetry: decode"
	if e.Record >= 0 {
		s += " record " + strconv.Itoa(e.Record)
	}
	if e.Path != "" {
		s += " at " + e.Path
	}
	s += " (byte " + strconv.Itoa(e.Offset) + ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// Skipped is the number of records the problem made the decoder skip: 0 for the envelope,
// else Records, at least 1.
func (e *DecodeError) Skipped() int {
	if e.Record < 0 {
		return 0
	}
	return max(e.Records, 1)
}

// DecodeErrors returns the DecodeErrors inside err (as returned by a decoder), in order.
func DecodeErrors(err error) []*DecodeError {
	if err == nil {
		return nil
	}
	var out []*DecodeError
	var walk func(error)
	walk = func(e error) {
		if de, ok := e.(*DecodeError); ok {
			out = append(out, de)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, c := range j.Unwrap() {
				walk(c)
			}
			return
		}
		var de *DecodeError
		if errors.As(e, &de) {
			out = append(out, de)
		}
	}
	walk(err)
	return out
}
