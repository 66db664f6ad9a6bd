package policy

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Redacted is what secret values print as.
const Redacted = "[redacted]"

// Header is one OTLP exporter header. Its value is secret (typically a bearer token): it
// prints, formats, logs and marshals as [Redacted]. Read Value directly when you need it.
type Header struct {
	// Name is the HTTP header name, such as "Authorization".
	Name string
	// Value is the decoded value. Secret.
	Value string
}

// String returns "Name=[redacted]".
func (h Header) String() string { return h.Name + "=" + Redacted }

// Format implements [fmt.Formatter] so that every verb, including %#v, masks the value.
func (h Header) Format(f fmt.State, verb rune) { fmt.Fprint(f, h.String()) }

// LogValue implements [slog.LogValuer]: the name with a redacted value.
func (h Header) LogValue() slog.Value { return slog.StringValue(h.String()) }

// Headers are OTLP exporter headers in order, as written in OTEL_EXPORTER_OTLP_HEADERS
// (`key1=value1,key2=value2`, values percent-encoded). Values are secret: String, Format,
// LogValue, MarshalText and MarshalJSON mask them. [Headers.Encode] gives the real text.
type Headers []Header

var (
	_ fmt.Stringer     = Headers(nil)
	_ fmt.Formatter    = Headers(nil)
	_ slog.LogValuer   = Headers(nil)
	_ yaml.Unmarshaler = (*Headers)(nil)
)

// HeaderError reports one malformed entry of an OTLP headers string. It names the entry by
// position and, when it parsed, by name; it never contains a value.
type HeaderError struct {
	// Index is the 0-based position of the entry in the comma-separated list.
	Index int
	// Name is the header name when it could be read.
	Name string
	// Reason says what is wrong.
	Reason string
}

// Error returns a description without the header's value.
func (e *HeaderError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("policy: invalid otlp headers: entry %d (%s): %s", e.Index, e.Name, e.Reason)
	}
	return fmt.Sprintf("policy: invalid otlp headers: entry %d: %s", e.Index, e.Reason)
}

// Unwrap returns [ErrHeaders].
func (e *HeaderError) Unwrap() error { return ErrHeaders }

// ParseHeaders parses the OTLP `key=value,…` syntax (the W3C baggage form the OTLP exporter
// specification uses): entries separated by commas, optional whitespace around keys and
// values, values percent-decoded. Empty entries are skipped. Names must be HTTP tokens and
// unique (case-insensitively); decoded values must not contain control characters. All
// problems are returned joined, one [*HeaderError] each; the valid entries are returned too.
func ParseHeaders(s string) (Headers, error) {
	var (
		hs   Headers
		errs []error
		seen = map[string]bool{}
	)
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if !ok {
			errs = append(errs, &HeaderError{Index: i, Reason: "missing '='"})
			continue
		}
		if k == "" {
			errs = append(errs, &HeaderError{Index: i, Reason: "empty name"})
			continue
		}
		if !isToken(k) {
			errs = append(errs, &HeaderError{Index: i, Reason: "name is not a valid http header name"})
			continue
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, &HeaderError{Index: i, Name: k, Reason: "value is not valid percent-encoding"})
			continue
		}
		if strings.ContainsFunc(dv, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			errs = append(errs, &HeaderError{Index: i, Name: k, Reason: "value contains control characters"})
			continue
		}
		lk := strings.ToLower(k)
		if seen[lk] {
			errs = append(errs, &HeaderError{Index: i, Name: k, Reason: "duplicate name"})
			continue
		}
		seen[lk] = true
		hs = append(hs, Header{Name: k, Value: dv})
	}
	return hs, joinErrs(errs)
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}

// Encode returns the real `key=value,…` text, values percent-encoded, ready for
// OTEL_EXPORTER_OTLP_HEADERS. It contains secrets: do not log it.
func (h Headers) Encode() string {
	var b strings.Builder
	for i, x := range h {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x.Name)
		b.WriteByte('=')
		b.WriteString(escapeValue(x.Value))
	}
	return b.String()
}

// escapeValue percent-encodes what the headers syntax reserves: ',', '=', '%', spaces and
// anything outside printable ASCII.
func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == ',' || c == '%' || c == '=' || c == '"' || c == ';' || c == '\\' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Get returns the value of the header named name (case-insensitive) and whether it exists.
func (h Headers) Get(name string) (string, bool) {
	for _, x := range h {
		if strings.EqualFold(x.Name, name) {
			return x.Value, true
		}
	}
	return "", false
}

// Names returns the header names in order.
func (h Headers) Names() []string {
	out := make([]string, len(h))
	for i, x := range h {
		out[i] = x.Name
	}
	return out
}

// String returns the names with masked values: "Authorization=[redacted],X-Tenant=[redacted]".
func (h Headers) String() string {
	var b strings.Builder
	for i, x := range h {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x.String())
	}
	return b.String()
}

// Format implements [fmt.Formatter] so that every verb, including %#v, masks the values.
func (h Headers) Format(f fmt.State, verb rune) { fmt.Fprint(f, h.String()) }

// LogValue implements [slog.LogValuer]: a group of names with redacted values.
func (h Headers) LogValue() slog.Value {
	attrs := make([]slog.Attr, len(h))
	for i, x := range h {
		attrs[i] = slog.String(x.Name, Redacted)
	}
	return slog.GroupValue(attrs...)
}

// MarshalText implements [encoding.TextMarshaler] with masked values, so that a snapshot
// printed as JSON or YAML never leaks them. Use [Headers.Encode] for the real text.
func (h Headers) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseHeaders].
func (h *Headers) UnmarshalText(b []byte) error {
	hs, err := ParseHeaders(string(b))
	*h = hs
	return err
}

// UnmarshalYAML implements [yaml.Unmarshaler]: a headers string, reported with its line
// and without its value when malformed, so decoding can go on and report other problems.
func (h *Headers) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: otlp headers must be a string of key=value pairs", n.Line)}}
	}
	hs, err := ParseHeaders(n.Value)
	*h = hs
	if err != nil {
		var msgs []string
		for _, e := range unjoin(err) {
			msgs = append(msgs, fmt.Sprintf("line %d: %s", n.Line, strings.TrimPrefix(e.Error(), "policy: ")))
		}
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

func joinErrs(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return joined(errs)
}

// joined is errors.Join with a way back to the parts.
type joined []error

// Error joins the parts with newlines.
func (j joined) Error() string {
	var b strings.Builder
	for i, e := range j {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the parts.
func (j joined) Unwrap() []error { return j }

func unjoin(err error) []error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		return u.Unwrap()
	}
	return []error{err}
}
