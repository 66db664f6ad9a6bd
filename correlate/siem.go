package correlate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// Document is a SIEM document: nested JSON objects as maps. encoding/json writes map keys
// sorted, so a Document's JSON is deterministic.
type Document map[string]any

// set stores v at a dotted path, creating the objects on the way ("a.b.c" → {"a":{"b":{"c":v}}}).
// Empty strings, nil and empty slices are not stored.
func (d Document) set(path string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case string:
		if x == "" {
			return
		}
	case []string:
		if len(x) == 0 {
			return
		}
	}
	m := d
	for {
		head, rest, ok := strings.Cut(path, ".")
		if !ok {
			m[path] = v
			return
		}
		next, isMap := m[head].(Document)
		if !isMap {
			if _, taken := m[head]; taken {
				m[path] = v // a scalar already holds the prefix: keep the dotted key
				return
			}
			next = Document{}
			m[head] = next
		}
		m, path = next, rest
	}
}

// get reads a dotted path (for tests and HEC fields).
func (d Document) get(path string) any {
	m := d
	for {
		head, rest, ok := strings.Cut(path, ".")
		if !ok {
			return m[path]
		}
		next, isMap := m[head].(Document)
		if !isMap {
			return m[path]
		}
		m, path = next, rest
	}
}

func (d Document) setAttrs(kv []telemetry.KeyValue) {
	for _, a := range kv {
		switch a.Value.Kind() {
		case telemetry.ValueString:
			d.set(a.Key, a.Value.Str())
		case telemetry.ValueInt:
			d.set(a.Key, a.Value.IntRaw())
		case telemetry.ValueDouble:
			d.set(a.Key, a.Value.DoubleRaw())
		case telemetry.ValueBool:
			d.set(a.Key, a.Value.BoolRaw())
		default:
			d.set(a.Key, a.Value.Text())
		}
	}
}

// EventID returns a stable id for an event: the first 16 bytes of SHA-256 over its
// [EventKey], as 32 hex digits. Retried copies of an event get the same id, so SIEMs that
// de-duplicate on the document id (ECS event.id, OCSF metadata.uid) drop them too.
func EventID(ev telemetry.Event) string {
	k := KeyOf(ev)
	h := sha256.New()
	h.Write([]byte(k.SessionID))
	h.Write([]byte{0})
	h.Write([]byte(k.Name))
	var b [25]byte
	binary.BigEndian.PutUint64(b[1:], uint64(k.Sequence))
	binary.BigEndian.PutUint64(b[9:], k.TimeUnixNano)
	binary.BigEndian.PutUint64(b[17:], k.ContentHash)
	h.Write(b[:])
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

func rfc3339ms(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// toolView is what the SIEM mappings read from a tool event.
type toolView struct {
	name, id, command, url string
	file                   telemetry.FileAccess
	hasFile                bool
	mcp                    telemetry.MCPCall
	isMCP                  bool
}

func viewTool(name, id, params, input string) toolView {
	v := toolView{name: name, id: id}
	var tf toolFields
	scanToolParameters(params, &tf)
	v.command = tf.fullCommand
	v.mcp, v.isMCP = mcpCall(name, params, &tf)
	if input != "" {
		scanToolInput(input, &tf)
		v.file, v.hasFile = fileAccess(name, input, &tf)
		if name == "WebFetch" || name == "WebSearch" {
			scanTopStrings(input, func(k, val string) bool {
				if k == "url" {
					v.url = val
				}
				return true
			})
		}
		if v.command == "" && (name == "Bash" || name == "PowerShell") {
			scanTopStrings(input, func(k, val string) bool {
				if k == "command" {
					v.command = val
				}
				return true
			})
		}
	}
	return v
}
