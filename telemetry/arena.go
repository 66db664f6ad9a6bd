package telemetry

// arena hands out the storage of one decoded request: attribute lists and array elements, in a
// few large allocations instead of one per value. Everything handed out is capped, so a caller's append reallocates instead of
// overwriting a neighbour.
type arena struct {
	hint  int // expected number of attributes in the request, from its size
	spare int // room left after each record's list (DecodeOptions.SpareAttrs)
	kvs   []KeyValue
	n     int // used entries of kvs, for the push API
	start int // first entry of the record being pushed
	vals  []Value
}

// begin starts a record's attribute list; push appends to it, straight into arena storage;
// end returns it.
func (a *arena) begin() { a.start = a.n }

func (a *arena) push(kv KeyValue) { *a.slot() = kv }

// slot appends an entry to the record's list and returns it, zero, to be filled in place
// (fresh arena memory is zero already: no store, and no write barrier, before the caller's);
// unslot takes back the entry of the last slot call.
func (a *arena) slot() *KeyValue {
	if a.n == len(a.kvs) {
		done := a.n - a.start
		chunk := make([]KeyValue, max(a.hint, 64, 2*done+16))
		copy(chunk, a.kvs[a.start:a.n])
		a.kvs, a.start, a.n, a.hint = chunk, 0, done, 512
	}
	a.n++
	return &a.kvs[a.n-1]
}

func (a *arena) unslot() {
	a.n--
	a.kvs[a.n] = KeyValue{}
}

// endOnto ends the list like end and returns it appended to dst: the arena's list itself
// when dst is empty (nil), a copy after dst's entries otherwise (a repeated field merging).
func (a *arena) endOnto(dst []KeyValue) []KeyValue {
	if dst == nil {
		return a.end()
	}
	return append(dst, a.end()...)
}

// endRecord ends a log record's list like end, with room for a.spare more entries after it
// when the chunk has it: zero entries (fresh arena memory, or cleared by unslot) that no
// later list takes.
func (a *arena) endRecord() []KeyValue {
	if a.spare == 0 || a.n == a.start {
		return a.end()
	}
	room := min(a.spare, len(a.kvs)-a.n)
	l := a.kvs[a.start : a.n : a.n+room]
	a.n += room
	return l
}

func (a *arena) end() []KeyValue {
	if a.n == a.start {
		return nil
	}
	return a.kvs[a.start:a.n:a.n]
}

// fieldSetter fills the typed fields of a record as its attributes are decoded. It shares one
// []string between the events of a request whose workspace.host_paths are equal, as they are
// for every event of one session, and it predicts where each standard attribute goes: Claude
// Code writes them in the order of commonKeys, so the key after the last one found is tried
// first, with one comparison instead of a search.
type fieldSetter struct {
	last []string
	next int // index in commonKeys of the expected next standard attribute
	own  int // index of the expected next attribute of the event's own
}

// hostPathsIndex is the index of workspace.host_paths in commonKeys.
var hostPathsIndex = commonIndex(KeyWorkspaceHostPaths)

func (c *fieldSetter) get(v Value) []string {
	arr := v.Array()
	if v.Kind() != ValueArray {
		return v.AsStrings()
	}
	if c.last != nil && len(c.last) == len(arr) {
		same := true
		for i, e := range arr {
			if e.Kind() != ValueString || e.Str() != c.last[i] {
				same = false
				break
			}
		}
		if same {
			return c.last
		}
	}
	c.last = v.AsStrings()
	return c.last
}

// beginRecord resets the prediction for the next record's attributes.
func (c *fieldSetter) beginRecord() { c.next, c.own = 0, 0 }

// setAttr fills the typed field that views kv, on the record and, when known, the event.
func (c *fieldSetter) setAttr(ev Event, r *Record, kv *KeyValue) {
	i := c.next
	if i >= len(commonKeys) || kv.Key != commonKeys[i] {
		// The event's own attributes follow the standard ones; no key is both.
		if ev != nil && ev.setFieldNext(&c.own, kv.Key, kv.Value) {
			return
		}
		if i = commonIndex(kv.Key); i < 0 {
			return
		}
	}
	c.next = i + 1
	if i == hostPathsIndex {
		r.WorkspaceHostPaths = c.get(kv.Value)
		return
	}
	r.Common.setFieldAt(i, kv.Value)
}

// array returns an array Value holding a copy of vs.
func (a *arena) array(vs []Value) Value {
	n := len(vs)
	var out []Value
	if n > 0 {
		if len(a.vals) < n {
			a.vals = make([]Value, max(128, n))
		}
		out = a.vals[:n:n]
		copy(out, vs)
		a.vals = a.vals[n:]
	}
	return arrayValue(out)
}
