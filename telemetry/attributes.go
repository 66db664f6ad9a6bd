package telemetry

// Attributes is an ordered list of attributes as they were on the wire. Keys are unique in
// well-formed input; when a key repeats, Get returns the first occurrence and the others are
// kept for re-encoding.
type Attributes []KeyValue

// Get returns the value of key and whether it is present.
func (a Attributes) Get(key string) (Value, bool) {
	for i := range a {
		if a[i].Key == key {
			return a[i].Value, true
		}
	}
	return Value{}, false
}

// Index returns the position of key, or -1.
func (a Attributes) Index(key string) int {
	for i := range a {
		if a[i].Key == key {
			return i
		}
	}
	return -1
}

// Has reports whether key is present.
func (a Attributes) Has(key string) bool { return a.Index(key) >= 0 }

// Set replaces the value of key in place, keeping its position, or appends it. A key the
// list repeats (OTLP forbids it, a sender may still do it) is left once, at its first place,
// with v: no earlier value of it remains in the list.
func (a *Attributes) Set(key string, v Value) {
	i := a.Index(key)
	if i < 0 {
		*a = append(*a, KeyValue{Key: key, Value: v})
		return
	}
	(*a)[i].Value = v
	a.deleteFrom(i+1, key)
}

// Delete removes every occurrence of key and reports whether there was one.
func (a *Attributes) Delete(key string) bool { return a.deleteFrom(0, key) }

// deleteFrom removes the occurrences of key at from and after, keeping the order of the rest,
// and reports whether there was one.
func (a *Attributes) deleteFrom(from int, key string) bool {
	s := *a
	n := from
	for i := from; i < len(s); i++ {
		if s[i].Key != key {
			s[n] = s[i]
			n++
		}
	}
	if n == len(s) {
		return false
	}
	clear(s[n:])
	*a = s[:n]
	return true
}

// Clone returns a deep-enough copy: the list is copied; values are immutable and shared.
func (a Attributes) Clone() Attributes {
	if a == nil {
		return nil
	}
	return append(Attributes(make([]KeyValue, 0, len(a))), a...)
}

// Equal reports whether both lists hold the same keys and values in the same order.
func (a Attributes) Equal(b Attributes) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !a[i].Value.Equal(b[i].Value) {
			return false
		}
	}
	return true
}
