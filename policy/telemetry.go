package policy

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
)

// Protocol is the OTLP transport. The zero value, [ProtocolUnknown], means not set (and is
// what an unrecognised name decodes to); [Telemetry.Effective] then uses http/protobuf.
type Protocol uint8

// Protocols, named as in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolUnknown      Protocol = iota // not set or not recognised
	ProtocolHTTPJSON                     // "http/json"
	ProtocolHTTPProtobuf                 // "http/protobuf"
	ProtocolGRPC                         // "grpc": Claude Code only; Cowork sessions fall back to http/protobuf
)

var protocolNames = [...]string{"", "http/json", "http/protobuf", "grpc"}

// String returns the OTLP name of p, or "unknown".
func (p Protocol) String() string {
	if p == ProtocolUnknown || int(p) >= len(protocolNames) {
		return "unknown"
	}
	return protocolNames[p]
}

// MarshalText implements [encoding.TextMarshaler]; the unknown protocol marshals as "".
func (p Protocol) MarshalText() ([]byte, error) {
	if int(p) >= len(protocolNames) {
		return nil, nil
	}
	return []byte(protocolNames[p]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]. Unknown names decode to
// [ProtocolUnknown] without error; [Snapshot.Validate] reports them.
func (p *Protocol) UnmarshalText(b []byte) error {
	*p = ProtocolUnknown
	for i, n := range protocolNames {
		if i > 0 && n == string(b) {
			*p = Protocol(i)
		}
	}
	return nil
}

// Telemetry is the organization's OpenTelemetry export setting for Cowork, the three fields
// of the admin form. No endpoint means nothing is exported: telemetry is opt-in.
type Telemetry struct {
	// Endpoint is the OTLP base URL, such as https://otel.example.com:4318. Exporters
	// append /v1/logs and /v1/metrics for the HTTP protocols.
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// Protocol is the OTLP transport. Unset means http/protobuf.
	Protocol Protocol `yaml:"protocol,omitempty" json:"protocol,omitempty"`
	// Headers are sent with every export, typically for authentication. Secret.
	Headers Headers `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// Enabled reports whether anything is exported (an endpoint is set).
func (t Telemetry) Enabled() bool { return strings.TrimSpace(t.Endpoint) != "" }

// Effective returns the protocol exporters use: Protocol, or http/protobuf when unset.
func (t Telemetry) Effective() Protocol {
	if t.Protocol == ProtocolUnknown {
		return ProtocolHTTPProtobuf
	}
	return t.Protocol
}

// Check reports every problem with the setting, given the egress allow-list of Cowork
// sessions (nil when unknown): the endpoint URL, the protocol, and whether the collector
// host is reachable from Cowork. Paths are relative to the snapshot ("telemetry.endpoint").
func (t Telemetry) Check(egress *Egress) Issues {
	var out Issues
	if !t.Enabled() {
		if len(t.Headers) > 0 || t.Protocol != ProtocolUnknown {
			out = append(out, Issue{Severity: SeverityWarning, Path: "telemetry.endpoint", Err: ErrEndpoint,
				Message: "protocol or headers are set without an endpoint; nothing is exported"})
		}
		return out
	}
	u, err := url.Parse(strings.TrimSpace(t.Endpoint))
	switch {
	case err != nil:
		return append(out, Issue{Severity: SeverityError, Path: "telemetry.endpoint", Err: ErrEndpoint, Message: "not a URL"})
	case u.Scheme != "http" && u.Scheme != "https":
		return append(out, Issue{Severity: SeverityError, Path: "telemetry.endpoint", Err: ErrEndpoint,
			Message: fmt.Sprintf("scheme must be http or https, not %q", u.Scheme)})
	case u.Hostname() == "":
		return append(out, Issue{Severity: SeverityError, Path: "telemetry.endpoint", Err: ErrEndpoint, Message: "no host"})
	}
	if u.User != nil {
		out = append(out, Issue{Severity: SeverityError, Path: "telemetry.endpoint", Err: ErrEndpoint,
			Message: "credentials in the URL; put them in headers"})
	}
	if u.RawQuery != "" || u.Fragment != "" {
		out = append(out, Issue{Severity: SeverityError, Path: "telemetry.endpoint", Err: ErrEndpoint,
			Message: "query or fragment in the URL; OTLP endpoints take neither"})
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			out = append(out, Issue{Severity: SeverityError, Path: "telemetry.endpoint", Err: ErrEndpoint, Message: "invalid port"})
		}
	}
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/v1/logs") || strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/v1/metrics") {
		out = append(out, Issue{Severity: SeverityWarning, Path: "telemetry.endpoint", Err: ErrEndpoint,
			Message: "the endpoint is a base URL; exporters append /v1/logs and /v1/metrics themselves"})
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if u.Scheme == "http" && !isLocal(host) {
		out = append(out, Issue{Severity: SeverityWarning, Path: "telemetry.endpoint", Err: ErrInsecure,
			Message: fmt.Sprintf("events and headers go to %s without TLS", host)})
	}
	switch t.Protocol {
	case ProtocolGRPC:
		out = append(out, Issue{Severity: SeverityWarning, Path: "telemetry.protocol", Err: ErrProtocol,
			Message: "Cowork sessions do not export over gRPC and fall back to http/protobuf: the collector must also accept OTLP/HTTP at this endpoint"})
	case ProtocolUnknown:
		out = append(out, Issue{Severity: SeverityInfo, Path: "telemetry.protocol", Err: ErrProtocol,
			Message: "no protocol set; exporters use http/protobuf"})
	}
	if egress == nil {
		out = append(out, Issue{Severity: SeverityInfo, Path: "network_egress", Err: ErrEgressBlocked,
			Message: "the snapshot has no network egress allow-list; the collector host was not checked"})
	} else if !egress.Allows(host) {
		out = append(out, Issue{Severity: SeverityWarning, Path: "telemetry.endpoint", Err: ErrEgressBlocked,
			Message: fmt.Sprintf("collector host %s is not on the network egress allow-list: events from Cowork sessions would be dropped", host)})
	}
	return out
}

func parsePort(p string) (int, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, ErrEndpoint
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, ErrEndpoint
		}
	}
	return n, nil
}

func isLocal(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// EnvVar is one environment variable of an exporter's configuration. A secret value prints,
// formats and logs as [Redacted].
type EnvVar struct {
	// Name is the variable name, such as OTEL_EXPORTER_OTLP_ENDPOINT.
	Name string
	// Value is the real value.
	Value string
	// Secret marks values that must not be shown (the headers).
	Secret bool
}

// String returns "NAME=value", with a secret value masked.
func (e EnvVar) String() string {
	if e.Secret {
		return e.Name + "=" + Redacted
	}
	return e.Name + "=" + e.Value
}

// Format implements [fmt.Formatter] so that every verb masks secrets.
func (e EnvVar) Format(f fmt.State, verb rune) { fmt.Fprint(f, e.String()) }

// LogValue implements [slog.LogValuer].
func (e EnvVar) LogValue() slog.Value { return slog.StringValue(e.String()) }

// MarshalText implements [encoding.TextMarshaler] as [EnvVar.String], secrets masked.
func (e EnvVar) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// Env is the environment an OpenTelemetry exporter reads, in a stable order. Printing it
// masks secrets; [Env.Environ] gives the real "NAME=value" strings for [os/exec.Cmd.Env].
type Env []EnvVar

// String returns one masked "NAME=value" per line.
func (e Env) String() string {
	var b strings.Builder
	for _, v := range e {
		b.WriteString(v.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Format implements [fmt.Formatter] so that every verb masks secrets.
func (e Env) Format(f fmt.State, verb rune) { fmt.Fprint(f, e.String()) }

// LogValue implements [slog.LogValuer]: a group of variables, secrets masked.
func (e Env) LogValue() slog.Value {
	attrs := make([]slog.Attr, len(e))
	for i, v := range e {
		val := v.Value
		if v.Secret {
			val = Redacted
		}
		attrs[i] = slog.String(v.Name, val)
	}
	return slog.GroupValue(attrs...)
}

// Environ returns the real "NAME=value" strings. They contain secrets.
func (e Env) Environ() []string {
	out := make([]string, len(e))
	for i, v := range e {
		out[i] = v.Name + "=" + v.Value
	}
	return out
}

// Env renders the setting as the environment Claude Code's OpenTelemetry exporter reads. It
// is empty when no endpoint is set (nothing is exported). A gRPC setting is rendered as is;
// Cowork sessions fall back to http/protobuf on their own (see [Telemetry.Check]).
func (t Telemetry) Env() Env {
	if !t.Enabled() {
		return nil
	}
	env := Env{
		{Name: "CLAUDE_CODE_ENABLE_TELEMETRY", Value: "1"},
		{Name: "OTEL_LOGS_EXPORTER", Value: "otlp"},
		{Name: "OTEL_METRICS_EXPORTER", Value: "otlp"},
		{Name: "OTEL_EXPORTER_OTLP_PROTOCOL", Value: t.Effective().String()},
		{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: strings.TrimSpace(t.Endpoint), Secret: hasUserinfo(t.Endpoint)},
	}
	if len(t.Headers) > 0 {
		env = append(env, EnvVar{Name: "OTEL_EXPORTER_OTLP_HEADERS", Value: t.Headers.Encode(), Secret: true})
	}
	return env
}

// AdminForm is the setting as the three fields of the Cowork admin form (Organization
// settings > Cowork > OpenTelemetry). Printing it masks the header values.
type AdminForm struct {
	// Endpoint is the "OTLP endpoint" field.
	Endpoint string
	// Protocol is the "OTLP protocol" field.
	Protocol string
	// Headers is the "OTLP headers" field, in key=value,… form. Secret.
	Headers Headers
}

// String renders the three fields, header values (and any password in the endpoint)
// masked.
func (f AdminForm) String() string {
	return fmt.Sprintf("OTLP endpoint: %s\nOTLP protocol: %s\nOTLP headers: %s\n", redactURL(f.Endpoint), f.Protocol, f.Headers)
}

func hasUserinfo(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && u.User != nil
}

// redactURL masks the password of a URL with credentials (which [Telemetry.Check] reports).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// Format implements [fmt.Formatter] so that every verb masks secrets.
func (f AdminForm) Format(s fmt.State, verb rune) { fmt.Fprint(s, f.String()) }

// LogValue implements [slog.LogValuer], header values masked.
func (f AdminForm) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", redactURL(f.Endpoint)), slog.String("protocol", f.Protocol), slog.Any("headers", f.Headers))
}

// Form renders the setting as the admin form's three fields.
func (t Telemetry) Form() AdminForm {
	if !t.Enabled() {
		return AdminForm{}
	}
	return AdminForm{Endpoint: strings.TrimSpace(t.Endpoint), Protocol: t.Effective().String(), Headers: t.Headers}
}

// Egress is the network egress allow-list of Cowork sessions: the hosts code running in a
// session may reach. Entries are host names ("otel.example.com"), wildcard suffixes
// ("*.example.com", which matches subdomains but not example.com itself) or IP addresses.
// An empty list with AllowAll false allows nothing.
type Egress struct {
	// AllowAll allows every host ("All domains").
	AllowAll bool `yaml:"allow_all,omitempty" json:"allow_all,omitempty"`
	// Domains lists the allowed hosts.
	Domains []string `yaml:"allowed_domains,omitempty" json:"allowed_domains,omitempty"`
}

// Allows reports whether host may be reached. Matching is case-insensitive and ignores a
// trailing dot.
func (e *Egress) Allows(host string) bool {
	if e == nil || e.AllowAll {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range e.Domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if d == "*" {
			return true
		}
		if suffix, ok := strings.CutPrefix(d, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
			continue
		}
		if d == host {
			return true
		}
	}
	return false
}
