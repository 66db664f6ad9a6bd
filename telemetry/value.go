package telemetry

import (
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// ValueKind is the OTLP wire type of a [Value]. The zero value, ValueEmpty, is an unset value.
type ValueKind uint8

// The OTLP AnyValue kinds.
const (
	ValueEmpty ValueKind = iota
	ValueString
	ValueBool
	ValueInt
	ValueDouble
	ValueArray
	ValueMap
	ValueBytes
)

var kindNames = [...]string{"empty", "string", "bool", "int", "double", "array", "map", "bytes"}

// String returns the kind's lower-case name ("string", "int", …).
func (k ValueKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is an OTLP attribute value that remembers its wire type: a number sent as the string
// "49" stays a string on re-encode, while [Value.AsInt] still reads 49. The zero Value is empty.
// Values are immutable once built; slices returned by Array and Map must not be modified.
//
// Compare values with [Value.Equal], not with == or reflect.DeepEqual: a Value refers to its
// contents rather than holding them, so two equal strings from different places compare
// unequal with ==. (This keeps a Value at 16 bytes, which matters: attribute lists are most of
// a decoded event's memory.)
type Value struct {
	// ptr and n pack every kind into 16 bytes with one pointer, which keeps attribute lists
	// small (they are most of a decoded record's memory). For a string or bytes value ptr is
	// its data, for an array its first element and for a map its first entry, and n holds the
	// length in its low 56 bits and the kind in its top 8. For an int, bool or double, ptr
	// points at the kind's byte in scalarTag and n holds the bits. The zero Value is empty.
	ptr unsafe.Pointer
	n   uint64
}

// scalarTag gives each scalar kind an address: a scalar Value points at its kind's byte.
var scalarTag [8]byte

const (
	kindShift = 56
	lenMask   = 1<<kindShift - 1
)

func scalar(k ValueKind, bits uint64) Value {
	return Value{ptr: unsafe.Pointer(&scalarTag[k]), n: bits}
}

// KeyValue is one attribute: a key and its value.
type KeyValue struct {
	Key   string
	Value Value
}

// String returns a string Value.
func String(s string) Value { return strValue(ValueString, s) }

// Int returns an int Value.
func Int(n int64) Value { return scalar(ValueInt, uint64(n)) }

// Double returns a double Value.
func Double(f float64) Value { return scalar(ValueDouble, math.Float64bits(f)) }

// Bool returns a bool Value.
func Bool(b bool) Value {
	var n uint64
	if b {
		n = 1
	}
	return scalar(ValueBool, n)
}

// Bytes returns a bytes Value. The bytes are copied.
func Bytes(b []byte) Value { return strValue(ValueBytes, string(b)) }

// Array returns an array Value holding vs (not copied).
func Array(vs ...Value) Value {
	return arrayValue(vs)
}

// Strings returns an array Value of string Values.
func Strings(ss ...string) Value {
	vs := make([]Value, len(ss))
	for i, s := range ss {
		vs[i] = String(s)
	}
	return Array(vs...)
}

// Map returns a map (kvlist) Value holding kvs (not copied), in order.
func Map(kvs ...KeyValue) Value {
	return mapValue(kvs)
}

// Kind returns the wire type.
func (v Value) Kind() ValueKind {
	if d := uintptr(v.ptr) - uintptr(unsafe.Pointer(&scalarTag)); d < uintptr(len(scalarTag)) {
		return ValueKind(d)
	}
	return ValueKind(v.n >> kindShift)
}

// IsEmpty reports whether the value is unset.
func (v Value) IsEmpty() bool { return v.ptr == nil && v.n == 0 }

// Str returns the string of a string or bytes value, and "" otherwise. See [Value.Text] for a
// rendering of any scalar.
func (v Value) Str() string {
	if k := v.Kind(); k == ValueString || k == ValueBytes {
		return v.s()
	}
	return ""
}

// Text renders a scalar as text whatever its wire type: strings as they are, ints in decimal,
// doubles in the shortest form that round-trips, booleans as "true"/"false". Arrays and maps
// render as "".
func (v Value) Text() string {
	switch v.Kind() {
	case ValueString, ValueBytes:
		return v.s()
	case ValueInt:
		return strconv.FormatInt(int64(v.n), 10)
	case ValueDouble:
		return strconv.FormatFloat(math.Float64frombits(v.n), 'g', -1, 64)
	case ValueBool:
		if v.n != 0 {
			return "true"
		}
		return "false"
	}
	return ""
}

// IntRaw returns the int of an int value, without conversion.
func (v Value) IntRaw() int64 { return int64(v.n) }

// DoubleRaw returns the float of a double value, without conversion.
func (v Value) DoubleRaw() float64 { return math.Float64frombits(v.n) }

// BoolRaw returns the bool of a bool value, without conversion.
func (v Value) BoolRaw() bool { return v.n != 0 }

// AsInt reads the value leniently as an integer: an int, a double with no fraction, or a string
// holding a decimal integer (surrounding spaces allowed). ok is false for anything else.
func (v Value) AsInt() (n int64, ok bool) {
	switch v.Kind() {
	case ValueInt:
		return int64(v.n), true
	case ValueDouble:
		f := math.Float64frombits(v.n)
		if f == math.Trunc(f) && f >= math.MinInt64 && f <= math.MaxInt64 {
			return int64(f), true
		}
	case ValueString:
		s := strings.TrimSpace(v.s())
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return int64(f), true
		}
	}
	return 0, false
}

// AsFloat reads the value leniently as a float: a double, an int, or a numeric string.
func (v Value) AsFloat() (f float64, ok bool) {
	switch v.Kind() {
	case ValueDouble:
		return math.Float64frombits(v.n), true
	case ValueInt:
		return float64(int64(v.n)), true
	case ValueString:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.s()), 64)
		if err == nil {
			return f, true
		}
	}
	return 0, false
}

// AsBool reads the value leniently as a boolean: a bool, or the strings "true"/"false" (any
// case, surrounding spaces allowed), or an int 0/1.
func (v Value) AsBool() (b bool, ok bool) {
	switch v.Kind() {
	case ValueBool:
		return v.n != 0, true
	case ValueString:
		s := strings.TrimSpace(v.s())
		switch {
		case strings.EqualFold(s, "true"):
			return true, true
		case strings.EqualFold(s, "false"):
			return false, true
		}
	case ValueInt:
		switch v.n {
		case 0:
			return false, true
		case 1:
			return true, true
		}
	}
	return false, false
}

// Array returns the elements of an array value, or nil.
func (v Value) Array() []Value {
	if v.Kind() == ValueArray {
		return unsafe.Slice((*Value)(v.ptr), int(v.n&lenMask))
	}
	return nil
}

// Map returns the entries of a map value, or nil.
func (v Value) Map() []KeyValue {
	if v.Kind() == ValueMap {
		return unsafe.Slice((*KeyValue)(v.ptr), int(v.n&lenMask))
	}
	return nil
}

// AsStrings returns the elements of an array as text (see [Value.Text]); a scalar string is a
// one-element list. Other kinds give nil.
func (v Value) AsStrings() []string {
	switch v.Kind() {
	case ValueArray:
		arr := v.Array()
		out := make([]string, len(arr))
		for i, e := range arr {
			out[i] = e.Text()
		}
		return out
	case ValueString:
		return []string{v.s()}
	}
	return nil
}

// Equal reports whether two values have the same kind and contents. Doubles compare by bits, so
// NaN equals NaN.
func (v Value) Equal(w Value) bool {
	k := v.Kind()
	if k != w.Kind() {
		return false
	}
	switch k {
	case ValueString, ValueBytes:
		return v.s() == w.s()
	case ValueInt, ValueBool, ValueDouble:
		return v.n == w.n // a bool is 0 or 1; doubles compare by bits
	case ValueEmpty:
		return true
	case ValueArray:
		a, b := v.Array(), w.Array()
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !a[i].Equal(b[i]) {
				return false
			}
		}
	case ValueMap:
		return Attributes(v.Map()).Equal(Attributes(w.Map()))
	}
	return true
}

// String renders the value for debugging: scalars as [Value.Text] with their kind, e.g.
// `int(15)`, `string("49")`. Values of sensitive keys should not be printed.
func (v Value) String() string {
	switch v.Kind() {
	case ValueString:
		return "string(" + strconv.Quote(v.s()) + ")"
	case ValueBytes:
		return "bytes(" + strconv.Itoa(len(v.s())) + ")"
	case ValueArray:
		var b strings.Builder
		b.WriteString("array[")
		for i, e := range v.Array() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.String())
		}
		b.WriteString("]")
		return b.String()
	case ValueMap:
		var b strings.Builder
		b.WriteString("map{")
		for i, kv := range v.Map() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(kv.Key + ": " + kv.Value.String())
		}
		b.WriteString("}")
		return b.String()
	case ValueEmpty:
		return "empty"
	}
	return v.Kind().String() + "(" + v.Text() + ")"
}

// strValue builds a string or bytes value that shares s's memory.
func strValue(k ValueKind, s string) Value {
	return Value{ptr: unsafe.Pointer(unsafe.StringData(s)), n: uint64(len(s)) | uint64(k)<<kindShift}
}

// arrayValue builds an array value that shares vs's memory.
func arrayValue(vs []Value) Value {
	return Value{ptr: unsafe.Pointer(unsafe.SliceData(vs)), n: uint64(len(vs)) | uint64(ValueArray)<<kindShift}
}

// mapValue builds a map value that shares kvs's memory.
func mapValue(kvs []KeyValue) Value {
	return Value{ptr: unsafe.Pointer(unsafe.SliceData(kvs)), n: uint64(len(kvs)) | uint64(ValueMap)<<kindShift}
}

// s returns the string of a string or bytes value.
func (v Value) s() string { return unsafe.String((*byte)(v.ptr), int(v.n&lenMask)) }
