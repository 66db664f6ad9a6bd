package collector

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"sync"

	"github.com/coworkgov/cowork/telemetry"
)

// A batch's payload is the redacted request as OTLP protobuf, gzip-compressed at the fastest
// level: Claude Code's records repeat the same keys and identifiers, so this cuts what the
// single SQLite writer has to write (and checkpoint) several times over, and the compression
// runs in the request goroutines, in parallel. Concatenated gzip members are one valid gzip
// stream whose content is the concatenated requests, which protobuf reads as one merged
// request: the forwarder sends several batches as one body without recompressing.

var gzPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, flate.BestSpeed)
	return w
}}

// rawPool holds the protobuf encoding buffers: a request of 200 events encodes to ~200 KB,
// which growing by append would allocate several times over for every request.
var rawPool = sync.Pool{New: func() any { return new([]byte) }}

func encodePayload(l *telemetry.Logs) ([]byte, error) {
	rp := rawPool.Get().(*[]byte)
	defer rawPool.Put(rp)
	raw, err := telemetry.EncodeOptions{}.AppendLogsProto((*rp)[:0], l)
	if err != nil {
		return nil, err
	}
	if cap(raw) <= 4<<20 { // keep buffers of ordinary requests only
		*rp = raw
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/4 + 64)
	zw := gzPool.Get().(*gzip.Writer)
	defer gzPool.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxPayload bounds a stored payload's decompressed size when it is read back.
const maxPayload = 256 << 20

func decodePayload(b []byte) (*telemetry.Logs, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("collector: stored payload: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxPayload))
	if err != nil {
		return nil, fmt.Errorf("collector: stored payload: %w", err)
	}
	return telemetry.DecodeLogsProto(raw)
}
