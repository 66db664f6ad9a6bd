package receiver

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The OTLP/HTTP paths.
const (
	PathLogs    = "/v1/logs"
	PathMetrics = "/v1/metrics"
)

var _ http.Handler = (*Receiver)(nil)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled bounds the buffers kept for reuse.
const maxPooled = 4 << 20

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		b.Reset()
		bufPool.Put(b)
	}
}

// ServeHTTP serves OTLP/HTTP: POST /v1/logs and POST /v1/metrics, matched on the path's end so
// the receiver may be mounted under a prefix. It answers as the package documentation says;
// the response body is an ExportLogsServiceResponse / ExportMetricsServiceResponse on success
// and a google.rpc.Status on failure, in the request's encoding.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sig := SignalUnknown
	switch {
	case hasSuffix(req.URL.Path, PathLogs):
		sig = SignalLogs
	case hasSuffix(req.URL.Path, PathMetrics):
		sig = SignalMetrics
	}
	json := false
	out := r.serve(w, req, sig, &json)
	r.count(sig, out)
	writeOutcome(w, sig, json, out)
}

func hasSuffix(p, s string) bool { return len(p) >= len(s) && p[len(p)-len(s):] == s }

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request, sig Signal, json *bool) outcome {
	// Every answer, refusals included, is in the request's encoding: read it first.
	mt, err := mediaType(req.Header.Get("Content-Type"))
	*json = mt == "application/json"
	if sig == SignalUnknown {
		return outcome{kind: outcomeNotFound, msg: "not found: use " + PathLogs + " or " + PathMetrics}
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return outcome{kind: outcomeMethod, msg: "method not allowed: use POST"}
	}
	if !r.authorized(req.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="otlp"`)
		return outcome{kind: outcomeUnauthorized, msg: "missing or wrong bearer token"}
	}
	switch {
	case err != nil:
		return outcome{kind: outcomeUnsupported, msg: "unsupported content type: use application/x-protobuf or application/json"}
	case mt == "application/json", mt == "application/x-protobuf", mt == "application/protobuf":
	default:
		return outcome{kind: outcomeUnsupported, msg: "unsupported content type " + strconv.Quote(mt) + ": use application/x-protobuf or application/json"}
	}
	gz, ok := gzipped(req.Header.Values("Content-Encoding"))
	if !ok {
		return outcome{kind: outcomeUnsupported, msg: "unsupported content encoding " + strconv.Quote(strings.Join(req.Header.Values("Content-Encoding"), ", ")) + ": use gzip or none"}
	}
	if req.ContentLength > r.opts.MaxBodyBytes {
		return outcome{kind: outcomeTooLarge, msg: "body of " + strconv.FormatInt(req.ContentLength, 10) + " bytes exceeds the limit of " + strconv.FormatInt(r.opts.MaxBodyBytes, 10)}
	}
	if !r.acquire() {
		return outcome{kind: outcomeUnavailable, msg: "too many concurrent requests", after: r.opts.RetryAfter}
	}
	defer r.release()

	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(r.opts.ReadTimeout)) // not every ResponseWriter supports it
	raw := getBuf()
	defer putBuf(raw)
	if req.ContentLength > 0 {
		raw.Grow(int(req.ContentLength))
	}
	if _, err := raw.ReadFrom(io.LimitReader(req.Body, r.opts.MaxBodyBytes+1)); err != nil {
		return r.readFailure(err)
	}
	if int64(raw.Len()) > r.opts.MaxBodyBytes {
		return outcome{kind: outcomeTooLarge, msg: "body exceeds the limit of " + strconv.FormatInt(r.opts.MaxBodyBytes, 10) + " bytes"}
	}
	_ = rc.SetReadDeadline(time.Time{})
	body := raw.Bytes()
	if gz {
		plain := getBuf()
		defer putBuf(plain)
		if o, ok := r.gunzip(plain, body); !ok {
			return o
		}
		body = plain.Bytes()
	}
	if *json && len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}") // an empty request, as an empty protobuf body is
	}
	return r.process(req.Context(), sig, body, *json)
}

// mediaType is the media type of a Content-Type value, in lower case. A parameter that does
// not parse (`application/json; charset`) does not matter: the receiver reads none.
func mediaType(v string) (string, error) {
	mt, _, err := mime.ParseMediaType(v)
	if errors.Is(err, mime.ErrInvalidMediaParameter) {
		err = nil
	}
	return mt, err
}

// gzipped reads the Content-Encoding values (codings are case-insensitive, and may be listed):
// whether the body is gzip-compressed, and false for ok when a coding is not supported
// (anything but gzip, once, and identity).
func gzipped(values []string) (gz, ok bool) {
	for _, v := range values {
		for c := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(c)) {
			case "", "identity":
			case "gzip", "x-gzip":
				if gz {
					return false, false // gzip twice: not worth a second pass
				}
				gz = true
			default:
				return false, false
			}
		}
	}
	return gz, true
}

// gunzip decompresses body into dst, at most MaxDecompressedBytes.
func (r *Receiver) gunzip(dst *bytes.Buffer, body []byte) (outcome, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return outcome{kind: outcomeMalformed, msg: "invalid gzip body"}, false
	}
	max := r.opts.MaxDecompressedBytes
	if _, err := dst.ReadFrom(io.LimitReader(zr, max+1)); err != nil {
		return outcome{kind: outcomeMalformed, msg: "invalid gzip body"}, false
	}
	if int64(dst.Len()) > max {
		return outcome{kind: outcomeTooLarge, msg: "body decompresses past the limit of " + strconv.FormatInt(max, 10) + " bytes"}, false
	}
	return outcome{}, true
}

func (r *Receiver) readFailure(err error) outcome {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return outcome{kind: outcomeTimeout, msg: "request body not read in time", after: r.opts.RetryAfter}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return outcome{kind: outcomeTooLarge, msg: "body too large"}
	}
	return outcome{kind: outcomeMalformed, msg: "reading the body failed"}
}

// httpStatus maps an outcome to its HTTP status.
func httpStatus(k outcomeKind) int {
	switch k {
	case outcomeOK:
		return http.StatusOK
	case outcomeUnauthorized:
		return http.StatusUnauthorized
	case outcomeUnsupported:
		return http.StatusUnsupportedMediaType
	case outcomeTooLarge:
		return http.StatusRequestEntityTooLarge
	case outcomeTimeout:
		// Not 408, which OTLP exporters do not retry: the batch would be lost.
		return http.StatusServiceUnavailable
	case outcomeSaturated:
		return http.StatusTooManyRequests
	case outcomeUnavailable:
		return http.StatusServiceUnavailable
	case outcomeNotFound:
		return http.StatusNotFound
	case outcomeMethod:
		return http.StatusMethodNotAllowed
	}
	return http.StatusBadRequest
}

func writeOutcome(w http.ResponseWriter, sig Signal, json bool, o outcome) {
	h := w.Header()
	if json {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/x-protobuf")
	}
	code := httpStatus(o.kind)
	if o.kind == outcomeSaturated || o.kind == outcomeUnavailable || o.kind == outcomeTimeout {
		h.Set("Retry-After", retrySeconds(o.after))
	}
	var body []byte
	if o.kind == outcomeOK {
		body = exportResponse(sig, json, o.rejected, o.msg)
	} else {
		body = statusBody(json, grpcCode(o.kind), o.msg)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
