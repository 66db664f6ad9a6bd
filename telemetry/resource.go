package telemetry

// Product tells the streams that share this schema apart, from the resource's service.name.
// Its zero value, ProductUnknown, covers names this version does not know.
type Product uint8

// The known products.
const (
	ProductUnknown           Product = iota
	ProductCowork                    // service.name "cowork"
	ProductClaudeCode                // "claude-code": the terminal CLI
	ProductClaudeCodeDesktop         // "claude-code-desktop": Desktop's Code tab
	ProductClaudeDesktop             // "claude-desktop": Desktop's own events
)

var productNames = [...]string{"", "cowork", "claude-code", "claude-code-desktop", "claude-desktop"}

// String returns the service.name of the product, or "" when unknown.
func (p Product) String() string {
	if int(p) < len(productNames) {
		return productNames[p]
	}
	return ""
}

// ParseProduct maps a service.name to a Product.
func ParseProduct(serviceName string) Product {
	for i, n := range productNames[1:] {
		if n == serviceName {
			return Product(i + 1)
		}
	}
	return ProductUnknown
}

// Resource attribute keys read into typed fields.
const (
	KeyServiceName    = "service.name"
	KeyServiceVersion = "service.version"
	KeyOSType         = "os.type"
	KeyOSVersion      = "os.version"
	KeyHostArch       = "host.arch"
	KeyEnduserID      = "enduser.id"
	KeyWSLVersion     = "wsl.version"
)

// Resource is the OTLP resource of a batch of events: the product and the machine. Attrs is
// the truth for encoding; the named fields are a view of it, filled by the decoder (or by
// [Resource.Refresh] after editing Attrs).
type Resource struct {
	Attrs                  Attributes
	DroppedAttributesCount uint32

	ServiceName    string // service.name: cowork, claude-code, claude-code-desktop, claude-desktop
	ServiceVersion string // service.version: the app (Cowork: Desktop) version
	OSType         string // os.type
	OSVersion      string // os.version
	HostArch       string // host.arch
	ProcessOwner   string // process.owner: the OS login name (PII)
	EnduserID      string // enduser.id: the user on third-party deployments (PII)
	WSLVersion     string // wsl.version
}

// Product returns the product named by service.name.
func (r *Resource) Product() Product { return ParseProduct(r.ServiceName) }

// named returns the named fields, in the order of their declaration.
func (r *Resource) named() [8]*string {
	return [8]*string{&r.ServiceName, &r.ServiceVersion, &r.OSType, &r.OSVersion,
		&r.HostArch, &r.ProcessOwner, &r.EnduserID, &r.WSLVersion}
}

// Refresh re-reads the named fields from Attrs.
func (r *Resource) Refresh() {
	for _, f := range r.named() {
		*f = ""
	}
	for _, kv := range r.Attrs {
		s := kv.Value.Text()
		switch kv.Key {
		case KeyServiceName:
			r.ServiceName = s
		case KeyServiceVersion:
			r.ServiceVersion = s
		case KeyOSType:
			r.OSType = s
		case KeyOSVersion:
			r.OSVersion = s
		case KeyHostArch:
			r.HostArch = s
		case KeyProcessOwner:
			r.ProcessOwner = s
		case KeyEnduserID:
			r.EnduserID = s
		case KeyWSLVersion:
			r.WSLVersion = s
		}
	}
}

// Scope is an OTLP instrumentation scope: LogsScopeName for Claude Code's events, with the CLI
// version.
type Scope struct {
	Name                   string
	Version                string
	Attrs                  Attributes
	DroppedAttributesCount uint32
}

// Logs is a decoded OTLP ExportLogsServiceRequest: events grouped by resource and scope as they
// were on the wire.
type Logs struct {
	ResourceLogs []ResourceLogs
}

// ResourceLogs is the events of one resource.
type ResourceLogs struct {
	Resource  *Resource
	SchemaURL string
	ScopeLogs []ScopeLogs
}

// ScopeLogs is the events of one scope.
type ScopeLogs struct {
	Scope     *Scope
	SchemaURL string
	Events    []Event
}

// Len returns the number of events.
func (l *Logs) Len() int {
	n := 0
	for _, rl := range l.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			n += len(sl.Events)
		}
	}
	return n
}

// Events returns every event in wire order.
func (l *Logs) Events() []Event {
	out := make([]Event, 0, l.Len())
	for _, rl := range l.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			out = append(out, sl.Events...)
		}
	}
	return out
}

// NewLogs groups events into a Logs by their Resource and Scope pointers, keeping first-seen
// order. Events with a nil Resource or Scope share an empty one.
func NewLogs(events ...Event) *Logs {
	l := &Logs{}
	type rsKey struct {
		r *Resource
		s *Scope
	}
	rIdx := map[*Resource]int{}
	sIdx := map[rsKey]int{}
	for _, ev := range events {
		rec := ev.EventRecord()
		ri, ok := rIdx[rec.Resource]
		if !ok {
			res := rec.Resource
			if res == nil {
				res = &Resource{}
			}
			ri = len(l.ResourceLogs)
			rIdx[rec.Resource] = ri
			l.ResourceLogs = append(l.ResourceLogs, ResourceLogs{Resource: res})
		}
		k := rsKey{rec.Resource, rec.Scope}
		si, ok := sIdx[k]
		if !ok {
			sc := rec.Scope
			if sc == nil {
				sc = &Scope{}
			}
			si = len(l.ResourceLogs[ri].ScopeLogs)
			sIdx[k] = si
			l.ResourceLogs[ri].ScopeLogs = append(l.ResourceLogs[ri].ScopeLogs, ScopeLogs{Scope: sc})
		}
		sl := &l.ResourceLogs[ri].ScopeLogs[si]
		sl.Events = append(sl.Events, ev)
	}
	return l
}
