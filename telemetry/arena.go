package telemetry

// arena hands out the storage of one decoded request: attribute lists, array elements and
// the slice headers that array values point to, in a few large allocations instead of one per
// value. Everything handed out is capped, so a caller's append reallocates instead of
// overwriting a neighbour.
type arena struct {
	hint    int // expected number of attributes in the request, from its size
	kvs     []KeyValue
	vals    []Value
	headers [][]Value
}

func (a *arena) keyValues(kvs []KeyValue) []KeyValue {
	n := len(kvs)
	if n == 0 {
		return nil
	}
	if len(a.kvs) < n {
		a.kvs = make([]KeyValue, max(a.hint, 64, n))
		a.hint = 512
	}
	out := a.kvs[:n:n]
	copy(out, kvs)
	a.kvs = a.kvs[n:]
	return out
}

// array returns an array Value holding a copy of vs.
func (a *arena) array(vs []Value) Value {
	n := len(vs)
	var out []Value
	if n == 0 {
		out = []Value{}
	} else {
		if len(a.vals) < n {
			a.vals = make([]Value, max(128, n))
		}
		out = a.vals[:n:n]
		copy(out, vs)
		a.vals = a.vals[n:]
	}
	if len(a.headers) == 0 {
		a.headers = make([][]Value, 64)
	}
	h := &a.headers[0]
	a.headers = a.headers[1:]
	*h = out
	return Value{kind: ValueArray, ext: h}
}
