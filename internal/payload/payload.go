// Package payload encodes and decodes the requests the collector stores (its batches'
// payload column): a redacted OTLP/protobuf logs request, kept as it is or compressed with
// gzip or S2. Each form is told from its first bytes, so a reader needs no other clue: a
// protobuf request starts with a field tag (0x0a for resourceLogs), gzip with its magic
// (1f 8b) and an S2 stream with its stream identifier. Payloads of one form concatenate into
// one valid payload of that form (gzip members into a gzip stream, S2 streams into an S2
// stream, protobuf requests into one request whose resourceLogs are the union, in order).
//
// It is shared by the collector, which writes payloads, and the readers of its stores
// (examples/audit).
package payload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"

	"github.com/coworkgov/cowork/telemetry"
)

// Form is how a payload is stored.
type Form uint8

const (
	// Raw is the OTLP/protobuf request as it is.
	Raw Form = iota
	// Gzip is the request gzip-compressed at the fastest level (github.com/klauspost/compress:
	// the standard library's format and ratio at about twice its speed).
	Gzip
	// S2 is the request as an S2 stream (github.com/klauspost/compress/s2, Snappy's framing
	// format with S2 blocks): about 3.5 times faster than Gzip to compress and 2.4 times to
	// decompress, for output about 8% larger (BenchmarkCompress).
	S2
)

// String returns the form's name: raw, gzip or s2.
func (f Form) String() string {
	switch f {
	case Raw:
		return "raw"
	case Gzip:
		return "gzip"
	case S2:
		return "s2"
	}
	return fmt.Sprintf("Form(%d)", uint8(f))
}

// MaxSize bounds a payload's decompressed size when it is read back.
const MaxSize = 256 << 20

// ErrTooLarge means a payload decompresses to more than MaxSize bytes.
var ErrTooLarge = errors.New("payload: decompresses to more than 256 MiB")

// s2Magic is the stream identifier chunk every S2 stream starts with.
const s2Magic = "\xff\x06\x00\x00S2sTwO"

// FormOf returns the form of the payload b, told from its first bytes.
func FormOf(b []byte) Form {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return Gzip
	case bytes.HasPrefix(b, []byte(s2Magic)):
		return S2
	}
	return Raw
}

// rawPool holds the protobuf encoding buffers: a request of 200 events encodes to ~200 KB,
// which growing by append would allocate several times over for every request.
var rawPool = sync.Pool{New: func() any { return new([]byte) }}

// Encode returns l as OTLP/protobuf in the form f.
func Encode(l *telemetry.Logs, f Form) ([]byte, error) {
	rp := rawPool.Get().(*[]byte)
	defer rawPool.Put(rp)
	raw, err := telemetry.EncodeOptions{}.AppendLogsProto((*rp)[:0], l)
	if err != nil {
		return nil, err
	}
	if cap(raw) <= 4<<20 { // keep buffers of ordinary requests only
		*rp = raw
	}
	return Compress(raw, f) // a copy in every form: raw goes back to the pool
}

var (
	gzPool = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		return w
	}}
	// One goroutine per stream: the collector compresses each request on the goroutine that
	// serves it, and both cores are busy already.
	s2Pool = sync.Pool{New: func() any { return s2.NewWriter(nil, s2.WriterConcurrency(1)) }}
)

// Compress returns the protobuf bytes raw in the form f (a copy for Raw).
func Compress(raw []byte, f Form) ([]byte, error) {
	if f == Raw {
		return bytes.Clone(raw), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/4 + 64) // the fleet's requests compress about 8×
	var w io.WriteCloser
	switch f {
	case Gzip:
		zw := gzPool.Get().(*gzip.Writer)
		defer gzPool.Put(zw)
		zw.Reset(&buf)
		w = zw
	case S2:
		sw := s2Pool.Get().(*s2.Writer)
		defer func() {
			sw.Reset(nil) // let go of buf
			s2Pool.Put(sw)
		}()
		sw.Reset(&buf)
		w = sw
	default:
		return nil, fmt.Errorf("payload: unknown form %v", f)
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var s2Readers = sync.Pool{New: func() any { return s2.NewReader(nil) }}

// Decompress returns the protobuf bytes of the payload b, of any form: b itself when it is
// raw, else a new slice. A payload that decompresses to more than MaxSize is refused.
func Decompress(b []byte) ([]byte, error) {
	var r io.Reader
	switch FormOf(b) {
	case Raw:
		return b, nil
	case Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
		r = zr
	case S2:
		sr := s2Readers.Get().(*s2.Reader)
		defer func() {
			sr.Reset(nil)
			s2Readers.Put(sr)
		}()
		sr.Reset(bytes.NewReader(b))
		r = sr
	}
	var out bytes.Buffer
	out.Grow(min(8*len(b), MaxSize)) // the fleet's requests compress about 8×
	if _, err := out.ReadFrom(io.LimitReader(r, MaxSize+1)); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if out.Len() > MaxSize {
		return nil, ErrTooLarge
	}
	return out.Bytes(), nil
}

// Decode decodes the payload b, of any form.
func Decode(b []byte) (*telemetry.Logs, error) {
	raw, err := Decompress(b)
	if err != nil {
		return nil, err
	}
	return telemetry.DecodeLogsProto(raw)
}
