package telemetry

import (
	"sync"
	"unsafe"
)

// Detach returns a copy of a decoded event that shares no memory with the request it was
// decoded from. A decoded event's strings, attribute lists, resource and scope are parts of
// its whole request (one copy of the request's bytes and a few arena blocks, see
// DecodeOptions), so holding one event holds the whole request: a program that keeps a few
// events of each request for long (a session's preamble until its idle timeout, an index of
// recent prompts) keeps every request they came in. The copy holds its strings in one
// allocation and its attributes in another, with the room the record's list had after it
// (DecodeOptions.SpareAttrs, up to 16 entries); its typed fields are bound again from its own
// attributes, as the decoder binds them, so that a typed field assigned directly after
// decoding (rather than with [Set]) is not carried over: the attributes, which encoding
// writes, are what the copy holds.
//
// An event built in Go (one whose attributes were never materialised: see [Record]) has no
// request of its own: Detach returns [Clone] of it, which shares its values, resource and
// scope with ev.
func Detach(ev Event) Event {
	if ev == nil {
		return nil
	}
	var d detacher
	d.size(ev)
	d.alloc()
	return d.event(ev)
}

// DetachAll is [Detach] for each of evs: the copies share one allocation for their strings,
// one for their attributes, and one copy of each resource and scope the events shared. A
// string that an event repeats from the event before it, at the same place in its attribute
// list (the session, user and organization ids, versions and the like, which Claude Code
// writes first and in the same order on every event), is stored once, and an attribute key
// that this package names is not copied at all: on a batch of one session's events the copies
// hold about a third of the bytes of their attribute values and none of their keys. The
// memory is released when the last copy is dropped, so detach together the events that will be
// dropped together.
func DetachAll(evs []Event) []Event {
	var d detacher
	for _, ev := range evs {
		if ev != nil {
			d.size(ev)
		}
	}
	d.alloc()
	out := make([]Event, len(evs))
	for i, ev := range evs {
		if ev != nil {
			out[i] = d.event(ev)
		}
	}
	return out
}

// detacher copies events in two passes: size counts the bytes of their strings and the
// entries of their attribute lists and values, alloc makes storage of exactly that size, then
// event copies them into it.
//
// An event's attribute list is copied against the list of the event before it (see
// DetachAll): size and event take the same decisions from the original lists, so the storage
// is exactly what the copies use.
type detacher struct {
	bytes  int // string bytes
	kvs    int // KeyValue entries: attribute lists and map values
	vals   int // Value entries: array values
	seen   map[unsafe.Pointer]bool
	buf    []byte
	kvBuf  []KeyValue
	valBuf []Value
	res    map[*Resource]*Resource
	scopes map[*Scope]*Scope

	// sizePrev is, in the size pass, the previous event's original attribute list;
	// prev and prevCopy are, in the copy pass, the previous event's list and its copy.
	sizePrev, prev, prevCopy Attributes
}

// knownKeys maps each attribute key this package names to its constant, so that a copied
// key need not be stored.
var knownKeys = sync.OnceValue(func() map[string]string {
	m := make(map[string]string)
	for _, keys := range keyLists {
		for _, k := range keys {
			m[k] = k
		}
	}
	return m
})

// sameKey and sameString report whether entry j of an event's list repeats the previous
// event's entry j: its key, and (sameString) its string value too.
func sameKey(prev Attributes, j int, kv *KeyValue) bool {
	return j < len(prev) && prev[j].Key == kv.Key
}

func sameString(prev Attributes, j int, kv *KeyValue) bool {
	return sameKey(prev, j, kv) && kv.Value.Kind() == ValueString && prev[j].Value.Kind() == ValueString &&
		prev[j].Value.s() == kv.Value.s()
}

func (d *detacher) size(ev Event) {
	r := ev.EventRecord()
	if !r.attrsValid {
		return
	}
	d.sizeList(r.Attrs)
	d.kvs += spareOf(r.Attrs)
	d.sizeValue(r.Body)
	d.bytes += len(r.SeverityText) + len(r.WireEventName)
	if u, ok := ev.(*Unknown); ok {
		d.bytes += len(u.name)
	}
	// A resource or scope is copied once however many events share it.
	if d.seen == nil {
		d.seen = make(map[unsafe.Pointer]bool)
	}
	if res := r.Resource; res != nil && !d.seen[unsafe.Pointer(res)] {
		d.seen[unsafe.Pointer(res)] = true
		d.sizeAttrs(res.Attrs)
		for _, f := range res.named() {
			d.bytes += len(*f)
		}
	}
	if sc := r.Scope; sc != nil && !d.seen[unsafe.Pointer(sc)] {
		d.seen[unsafe.Pointer(sc)] = true
		d.sizeAttrs(sc.Attrs)
		d.bytes += len(sc.Name) + len(sc.Version)
	}
}

// sizeList counts an event's attribute list, as list copies it.
func (d *detacher) sizeList(a Attributes) {
	d.kvs += len(a)
	known := knownKeys()
	prev := d.sizePrev
	for j := range a {
		kv := &a[j]
		if !sameKey(prev, j, kv) {
			if _, ok := known[kv.Key]; !ok {
				d.bytes += len(kv.Key)
			}
		}
		if !sameString(prev, j, kv) {
			d.sizeValue(kv.Value)
		}
	}
	d.sizePrev = a
}

func (d *detacher) sizeAttrs(a Attributes) {
	d.kvs += len(a)
	for _, kv := range a {
		d.bytes += len(kv.Key)
		d.sizeValue(kv.Value)
	}
}

func (d *detacher) sizeValue(v Value) {
	switch v.Kind() {
	case ValueString, ValueBytes:
		d.bytes += len(v.s())
	case ValueArray:
		vs := v.Array()
		d.vals += len(vs)
		for _, e := range vs {
			d.sizeValue(e)
		}
	case ValueMap:
		d.sizeAttrs(v.Map())
	}
}

// alloc makes the storage the size calls counted.
func (d *detacher) alloc() {
	if d.bytes > 0 {
		d.buf = make([]byte, 0, d.bytes)
	}
	if d.kvs > 0 {
		d.kvBuf = make([]KeyValue, 0, d.kvs)
	}
	if d.vals > 0 {
		d.valBuf = make([]Value, 0, d.vals)
	}
}

// event copies ev into the detacher's storage.
func (d *detacher) event(ev Event) Event {
	r := ev.EventRecord()
	if !r.attrsValid {
		return Clone(ev)
	}
	nr := *r
	nr.Common = Common{} // bind sets every field from the attributes
	nr.Attrs = d.list(r.Attrs, spareOf(r.Attrs))
	nr.Body = d.value(r.Body)
	nr.SeverityText, nr.WireEventName = d.str(r.SeverityText), d.str(r.WireEventName)
	nr.Resource, nr.Scope = d.resource(r.Resource), d.scope(r.Scope)
	var out Event
	if u, ok := ev.(*Unknown); ok {
		out = &Unknown{name: d.str(u.name)}
	} else {
		out = newEvent(ev.Name())
	}
	bind(out, &nr)
	out.EventRecord().decoded = r.decoded
	return out
}

// str copies s into the string storage. The storage was sized for every string, so appending
// never reallocates and earlier copies stay where they are.
func (d *detacher) str(s string) string {
	if s == "" {
		return ""
	}
	start := len(d.buf)
	d.buf = append(d.buf, s...)
	return unsafe.String(&d.buf[start], len(s))
}

// maxDetachSpare bounds the room a copy keeps after its record's attributes (see spareOf).
const maxDetachSpare = 16

// spareOf is the room a copy of a record's attribute list keeps after it: the room the list
// had (DecodeOptions.SpareAttrs), so that what the decoder's room was for (redaction adding
// its audit attributes) does not reallocate on the copy either; at most maxDetachSpare.
func spareOf(a Attributes) int {
	if a == nil {
		return 0
	}
	return min(cap(a)-len(a), maxDetachSpare)
}

// list copies an event's attribute list with room for spare more entries, against the
// previous event's list: a key or string value it repeats is taken from that list's copy, a
// key this package names is its constant.
func (d *detacher) list(a Attributes, spare int) Attributes {
	if a == nil {
		d.prev, d.prevCopy = nil, nil // as sizeList: the next list is compared with none
		return nil
	}
	known := knownKeys()
	prev, prevCopy := d.prev, d.prevCopy
	start := len(d.kvBuf)
	d.kvBuf = d.kvBuf[:start+len(a)+spare] // the storage was sized for the room too
	out := d.kvBuf[start : start+len(a) : start+len(a)+spare]
	for j := range a {
		kv := &a[j]
		if sameKey(prev, j, kv) {
			out[j].Key = prevCopy[j].Key
		} else if k, ok := known[kv.Key]; ok {
			out[j].Key = k
		} else {
			out[j].Key = d.str(kv.Key)
		}
	}
	// Values after the list's entries: a map value's entries take storage after them.
	for j := range a {
		if kv := &a[j]; sameString(prev, j, kv) {
			out[j].Value = prevCopy[j].Value
		} else {
			out[j].Value = d.value(kv.Value)
		}
	}
	d.prev, d.prevCopy = a, out
	return out
}

// attrs copies a list into the KeyValue storage, capped at its length so that an append to the
// copy reallocates instead of overwriting a neighbour. A nil list stays nil.
func (d *detacher) attrs(a Attributes) Attributes {
	if a == nil {
		return nil
	}
	start := len(d.kvBuf)
	for _, kv := range a {
		d.kvBuf = append(d.kvBuf, KeyValue{Key: d.str(kv.Key)})
	}
	out := d.kvBuf[start:len(d.kvBuf):len(d.kvBuf)]
	// Values after the list's entries: a map value's entries take storage after them.
	for i, kv := range a {
		out[i].Value = d.value(kv.Value)
	}
	return out
}

func (d *detacher) value(v Value) Value {
	switch v.Kind() {
	case ValueString, ValueBytes:
		return strValue(v.Kind(), d.str(v.s()))
	case ValueArray:
		vs := v.Array()
		start := len(d.valBuf)
		d.valBuf = append(d.valBuf, vs...)
		out := d.valBuf[start:len(d.valBuf):len(d.valBuf)]
		for i := range out {
			out[i] = d.value(vs[i])
		}
		return arrayValue(out)
	case ValueMap:
		return mapValue(d.attrs(v.Map()))
	}
	return v // scalars and the empty value hold no memory of the request
}

func (d *detacher) resource(r *Resource) *Resource {
	if r == nil {
		return nil
	}
	if c, ok := d.res[r]; ok {
		return c
	}
	// The named fields are copied as they are rather than read again from the attributes
	// (Refresh): they may not be views of them (a resource built in Go, or one whose
	// decoding failed part way). They are a few short strings a resource.
	c := &Resource{Attrs: d.attrs(r.Attrs), DroppedAttributesCount: r.DroppedAttributesCount}
	from := r.named()
	for i, f := range c.named() {
		*f = d.str(*from[i])
	}
	if d.res == nil {
		d.res = make(map[*Resource]*Resource)
	}
	d.res[r] = c
	return c
}

func (d *detacher) scope(s *Scope) *Scope {
	if s == nil {
		return nil
	}
	if c, ok := d.scopes[s]; ok {
		return c
	}
	c := &Scope{Name: d.str(s.Name), Version: d.str(s.Version), Attrs: d.attrs(s.Attrs), DroppedAttributesCount: s.DroppedAttributesCount}
	if d.scopes == nil {
		d.scopes = make(map[*Scope]*Scope)
	}
	d.scopes[s] = c
	return c
}
