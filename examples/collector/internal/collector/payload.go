package collector

import (
	"fmt"

	"github.com/coworkgov/cowork/internal/payload"
	"github.com/coworkgov/cowork/telemetry"
)

// A batch's payload is the redacted request as OTLP protobuf, in the form of its store's
// schema version (see payloadForm): S2-compressed in new stores, gzip-compressed in stores
// of schema 1 and 2 (so that the builds that created them can still read them), as it is in
// stores of schema 3 (Config.RawPayloads). Package internal/payload encodes and reads all
// three, each told from its first bytes. Payloads of one store concatenate into one payload
// of the same form: the forwarder sends several batches as one body.

// encodePayload encodes l as a payload of the form f.
func encodePayload(l *telemetry.Logs, f payload.Form) ([]byte, error) { return payload.Encode(l, f) }

// decodePayload decodes a stored payload of any form.
func decodePayload(b []byte) (*telemetry.Logs, error) {
	l, err := payload.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("collector: stored payload: %w", err)
	}
	return l, nil
}
