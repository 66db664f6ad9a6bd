package telemetry

import (
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
)

// decodeWithSource decodes a protobuf request as DecodeLogsProto does and also returns the
// string every decoded string is a part of.
func decodeWithSource(t testing.TB, b []byte) (*Logs, string) {
	t.Helper()
	logs := &Logs{}
	d := protoDecoder{src: string(b), maxDepth: DecodeOptions{}.maxDepth()}
	d.arena.hint = len(b) / 40
	d.decodeRequest(logs)
	require.Empty(t, d.errs)
	return logs, d.src
}

var (
	valueType = reflect.TypeFor[Value]()
	timeType  = reflect.TypeFor[time.Time]()
)

// span is a range of memory [lo, hi).
type span struct{ lo, hi uintptr }

// memoryOf walks v (addressable) and reports the memory of every string and slice in it,
// Values' included; pointers are followed once.
func memoryOf(v reflect.Value, seen map[uintptr]bool, strs, slices func(span)) {
	switch {
	case v.Type() == valueType:
		val := *(*Value)(unsafe.Pointer(v.UnsafeAddr()))
		switch val.Kind() {
		case ValueString, ValueBytes:
			if s := val.s(); len(s) > 0 {
				p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
				strs(span{p, p + uintptr(len(s))})
			}
		case ValueArray:
			vs := val.Array()
			p := uintptr(unsafe.Pointer(unsafe.SliceData(vs)))
			slices(span{p, p + uintptr(len(vs))*unsafe.Sizeof(Value{})})
			memoryOf(reflect.ValueOf(vs), seen, strs, slices)
		case ValueMap:
			kvs := val.Map()
			p := uintptr(unsafe.Pointer(unsafe.SliceData(kvs)))
			slices(span{p, p + uintptr(len(kvs))*unsafe.Sizeof(KeyValue{})})
			memoryOf(reflect.ValueOf(kvs), seen, strs, slices)
		}
		return
	case v.Type() == timeType:
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n := v.Len(); n > 0 {
			p := uintptr(unsafe.Pointer(unsafe.StringData(*(*string)(unsafe.Pointer(v.UnsafeAddr())))))
			strs(span{p, p + uintptr(n)})
		}
	case reflect.Slice:
		if v.Len() > 0 {
			p := v.Pointer()
			slices(span{p, p + uintptr(v.Len())*v.Type().Elem().Size()})
		}
		for i := range v.Len() {
			memoryOf(v.Index(i), seen, strs, slices)
		}
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		memoryOf(v.Elem(), seen, strs, slices)
	case reflect.Interface:
		if !v.IsNil() {
			memoryOf(addressable(v.Elem()), seen, strs, slices)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			memoryOf(v.Field(i), seen, strs, slices)
		}
	case reflect.Array:
		for i := range v.Len() {
			memoryOf(v.Index(i), seen, strs, slices)
		}
	}
}

// addressable returns an addressable copy of v.
func addressable(v reflect.Value) reflect.Value {
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// sameContent compares a and b (addressable, of one type) field by field: strings by value,
// Values with Equal, times with Equal, pointers by what they point to.
func sameContent(a, b reflect.Value) bool {
	switch {
	case a.Type() == valueType:
		return (*(*Value)(unsafe.Pointer(a.UnsafeAddr()))).Equal(*(*Value)(unsafe.Pointer(b.UnsafeAddr())))
	case a.Type() == timeType:
		return (*(*time.Time)(unsafe.Pointer(a.UnsafeAddr()))).Equal(*(*time.Time)(unsafe.Pointer(b.UnsafeAddr())))
	}
	switch a.Kind() {
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float() || a.Float() != a.Float() && b.Float() != b.Float()
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameContent(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameContent(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameContent(a.Elem(), b.Elem())
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return sameContent(addressable(a.Elem()), addressable(b.Elem()))
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameContent(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return false
}

func inside(s span, in []span) bool {
	for _, r := range in {
		if s.lo < r.hi && r.lo < s.hi {
			return true
		}
	}
	return false
}

// TestDetachCorpus detaches every event of the protobuf corpus, one at a time and a request at
// a time: each copy has the original's type, fields and encoding, and no string or list of it
// is in the request's memory.
func TestDetachCorpus(t *testing.T) {
	n := 0
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		t.Run(f.Path(), func(t *testing.T) {
			logs, src := decodeWithSource(t, f.Data)
			evs := logs.Events()
			require.NotEmpty(t, evs)
			srcSpan := span{uintptr(unsafe.Pointer(unsafe.StringData(src))), 0}
			srcSpan.hi = srcSpan.lo + uintptr(len(src))
			var origLists []span
			for _, ev := range evs {
				memoryOf(reflect.ValueOf(&ev).Elem(), map[uintptr]bool{}, func(span) {}, func(s span) { origLists = append(origLists, s) })
			}
			for name, copies := range map[string][]Event{"Detach": detachEach(evs), "DetachAll": DetachAll(evs)} {
				require.Len(t, copies, len(evs), name)
				for i, ev := range evs {
					c := copies[i]
					require.IsType(t, ev, c, name)
					assert.Equal(t, ev.Name(), c.Name())
					assert.True(t, sameContent(reflect.ValueOf(&ev).Elem(), reflect.ValueOf(&c).Elem()),
						"%s: %s differs from the original", name, ev.Name())
					memoryOf(reflect.ValueOf(&c).Elem(), map[uintptr]bool{},
						func(s span) {
							assert.False(t, inside(s, []span{srcSpan}), "%s: %s keeps a string of the request", name, ev.Name())
						},
						func(s span) {
							assert.False(t, inside(s, origLists), "%s: %s shares a list with the original", name, ev.Name())
						})
					n++
				}
				// Copies made one by one have a resource each, and so encode one by one as
				// the originals do; those made together share them as the originals do.
				groups := [][2][]Event{{evs, copies}}
				if name == "Detach" {
					groups = groups[:0]
					for i := range evs {
						groups = append(groups, [2][]Event{evs[i : i+1], copies[i : i+1]})
					}
				}
				for _, g := range groups {
					want, err := EncodeLogsProto(NewLogs(g[0]...))
					require.NoError(t, err)
					got, err := EncodeLogsProto(NewLogs(g[1]...))
					require.NoError(t, err)
					assert.Equal(t, want, got, "%s: the copies encode differently", name)
				}
			}
		})
	}
	require.Positive(t, n)
}

func detachEach(evs []Event) []Event {
	out := make([]Event, len(evs))
	for i, ev := range evs {
		out[i] = Detach(ev)
	}
	return out
}

// TestDetachIndependent checks that a copy can be changed without changing the original, and
// that appending to its lists never writes into a neighbour's.
func TestDetachIndependent(t *testing.T) {
	f := corpus.Logs(corpus.Protobuf, "mcp")[0]
	logs, _ := decodeWithSource(t, f.Data)
	evs := logs.Events()
	before, err := EncodeLogsProto(NewLogs(evs...))
	require.NoError(t, err)
	copies := DetachAll(evs)
	next, err := EncodeLogsProto(NewLogs(copies[1:]...))
	require.NoError(t, err)
	Set(copies[0], "cowork.test", String("x"))
	Set(copies[0], KeySessionID, String("changed"))
	copies[0].EventRecord().Resource.Attrs.Set("service.name", String("changed"))
	assert.Equal(t, "changed", copies[0].EventRecord().SessionID)
	after, err := EncodeLogsProto(NewLogs(evs...))
	require.NoError(t, err)
	assert.Equal(t, before, after, "changing a copy changed the original")
	if len(copies) > 1 {
		got, err := EncodeLogsProto(NewLogs(copies[1:]...))
		require.NoError(t, err)
		// The resource is shared among the copies, as among the originals; the rest is not.
		copies[0].EventRecord().Resource.Attrs.Set("service.name", String(evs[0].EventRecord().Resource.ServiceName))
		got2, err := EncodeLogsProto(NewLogs(copies[1:]...))
		require.NoError(t, err)
		assert.NotEqual(t, next, got)
		assert.Equal(t, next, got2, "an append to one copy's attributes changed another copy")
	}
}

// TestDetachBuiltInGo checks that events built in Go, nil events and empty lists are handled.
func TestDetachBuiltInGo(t *testing.T) {
	ev := &ToolResult{ToolName: "Bash", ToolUseID: "toolu_1"}
	ev.SessionID = "s"
	c := Detach(ev)
	require.IsType(t, ev, c)
	assert.Equal(t, "Bash", c.(*ToolResult).ToolName)
	assert.Equal(t, "s", c.EventRecord().SessionID)
	c.(*ToolResult).ToolName = "Read"
	assert.Equal(t, "Bash", ev.ToolName)
	assert.Nil(t, Detach(nil))
	assert.Empty(t, DetachAll(nil))
	out := DetachAll([]Event{nil, ev})
	assert.Nil(t, out[0])
	assert.Equal(t, "toolu_1", out[1].(*ToolResult).ToolUseID)
}

// TestDetachResourceFields: a resource's named fields are copied as they are, also when they
// are not views of its attributes (a resource built in Go under a decoded event).
func TestDetachResourceFields(t *testing.T) {
	logs, _ := decodeWithSource(t, corpus.Logs(corpus.Protobuf, "mcp")[0].Data)
	ev := logs.Events()[0]
	res := &Resource{ServiceName: "cowork", OSType: "darwin"}
	ev.EventRecord().Resource = res
	c := Detach(ev)
	got := c.EventRecord().Resource
	require.NotNil(t, got)
	assert.NotSame(t, res, got)
	assert.Equal(t, "cowork", got.ServiceName)
	assert.Equal(t, "darwin", got.OSType)
	assert.Nil(t, got.Attrs)
}

// TestDetachKeepsRoom checks that a copy keeps the room its record's attributes had after them
// (DecodeOptions.SpareAttrs), its own: filling every copy's room adds to it without
// reallocating and leaves every other copy as it was.
func TestDetachKeepsRoom(t *testing.T) {
	f := corpus.Logs(corpus.Protobuf, "mcp")[0]
	logs, err := DecodeOptions{SpareAttrs: 3}.DecodeLogsProto(f.Data)
	require.NoError(t, err)
	evs := logs.Events()
	require.Greater(t, len(evs), 1)
	for name, copies := range map[string][]Event{"Detach": detachEach(evs), "DetachAll": DetachAll(evs)} {
		for i, c := range copies {
			want := cap(evs[i].EventRecord().Attrs) - len(evs[i].EventRecord().Attrs)
			require.Equal(t, want, cap(c.EventRecord().Attrs)-len(c.EventRecord().Attrs), "%s: event %d", name, i)
		}
		encoded := func(i int) []byte {
			b, err := EncodeLogsProto(NewLogs(copies[i]))
			require.NoError(t, err)
			return b
		}
		before := make([][]byte, len(copies))
		for i := range copies {
			before[i] = encoded(i)
		}
		for i, c := range copies {
			r := c.EventRecord()
			first := &r.Attrs[:1][0]
			for k := range cap(r.Attrs) - len(r.Attrs) {
				r.Attrs = append(r.Attrs, KeyValue{Key: fmt.Sprint("spare.", k), Value: Int(int64(k))})
			}
			assert.Same(t, first, &r.Attrs[0], "%s: filling event %d's room reallocated", name, i)
			for j := range copies {
				if j > i { // the ones before have been filled already
					assert.Equal(t, before[j], encoded(j), "%s: filling event %d's room changed event %d", name, i, j)
				}
			}
		}
	}
	// Without the option the copies are capped, as the originals are.
	plain, err := DecodeLogsProto(f.Data)
	require.NoError(t, err)
	for _, c := range DetachAll(plain.Events()) {
		assert.Equal(t, len(c.EventRecord().Attrs), cap(c.EventRecord().Attrs))
	}
}

// TestDetachAllSharesRepeats checks that DetachAll stores a string an event repeats from the
// event before it (same place, same key) once, and no key this package names, and that it
// allocates exactly the bytes the copies use.
func TestDetachAllSharesRepeats(t *testing.T) {
	shared, known := 0, 0
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		logs, _ := decodeWithSource(t, f.Data)
		evs := logs.Events()
		copies := DetachAll(evs)
		var naive int
		for i, ev := range evs {
			a, c := ev.EventRecord().Attrs, copies[i].EventRecord().Attrs
			require.Len(t, c, len(a), f.Path())
			for j, kv := range a {
				naive += len(kv.Key)
				if kv.Value.Kind() == ValueString {
					naive += len(kv.Value.Str())
				}
				if k, ok := knownKeys()[kv.Key]; ok {
					known++
					assert.Same(t, unsafe.StringData(k), unsafe.StringData(c[j].Key), "%s: key %s was copied", f.Path(), kv.Key)
				}
				if i > 0 && sameString(evs[i-1].EventRecord().Attrs, j, &a[j]) && kv.Value.Str() != "" {
					shared++
					prev := copies[i-1].EventRecord().Attrs[j].Value.Str()
					assert.Same(t, unsafe.StringData(prev), unsafe.StringData(c[j].Value.Str()), "%s: %s repeated but stored again", f.Path(), kv.Key)
				}
			}
		}
		var d detacher
		for _, ev := range evs {
			d.size(ev)
		}
		d.alloc()
		for _, ev := range evs {
			d.event(ev)
		}
		assert.Equal(t, cap(d.buf), len(d.buf), "%s: the string storage was not used exactly", f.Path())
		assert.Equal(t, cap(d.kvBuf), len(d.kvBuf), "%s: the attribute storage was not used exactly", f.Path())
		if len(evs) > 1 {
			assert.Less(t, len(d.buf), naive, "%s: nothing was shared", f.Path())
		}
	}
	assert.Positive(t, shared)
	assert.Positive(t, known)
}

// TestDetachAllListlessEvent checks that an event without an attribute list between two alike
// makes both passes compare the next event with no list: the storage stays exact.
func TestDetachAllListlessEvent(t *testing.T) {
	f := corpus.Logs(corpus.Protobuf, "mcp")[0]
	logs, _ := decodeWithSource(t, f.Data)
	evs := logs.Events()
	require.NotEmpty(t, evs)
	bare := Clone(evs[0])
	bare.EventRecord().Attrs = nil
	require.True(t, bare.EventRecord().attrsValid)
	in := []Event{evs[0], bare, evs[0]}
	var d detacher
	for _, ev := range in {
		d.size(ev)
	}
	d.alloc()
	out := make([]Event, len(in))
	for i, ev := range in {
		out[i] = d.event(ev)
	}
	assert.Equal(t, cap(d.buf), len(d.buf), "the string storage was not used exactly")
	assert.Equal(t, cap(d.kvBuf), len(d.kvBuf), "the attribute storage was not used exactly")
	assert.Nil(t, out[1].EventRecord().Attrs)
	want, got := evs[0].EventRecord().Attrs, out[2].EventRecord().Attrs
	require.Len(t, got, len(want))
	for j := range want {
		assert.Equal(t, want[j].Key, got[j].Key)
		assert.True(t, want[j].Value.Equal(got[j].Value), "%s differs", want[j].Key)
	}
}
