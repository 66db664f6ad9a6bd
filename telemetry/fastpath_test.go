package telemetry

import (
	"math"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkFastKeyValueJSON asserts that the JSON attribute fast path, when it accepts src, reads
// what the general path reads and stops where it stops.
func checkFastKeyValueJSON(t *testing.T, src string) (accepted bool) {
	fast := jsonScanner{src: src, maxDepth: 8}
	var kv KeyValue
	if !fast.fastKeyValue(&kv) {
		require.Zero(t, fast.pos, "a refused input must leave the scanner unmoved")
		return false
	}
	gen := jsonScanner{src: src, maxDepth: 8}
	want, err := gen.keyValueObject(0)
	require.NoError(t, err, "fast path accepted %q, the general path fails", src)
	require.NoError(t, gen.sem, "fast path accepted %q, the general path reports it", src)
	require.Equal(t, want.Key, kv.Key, "%q", src)
	require.True(t, want.Value.Equal(kv.Value), "%q: fast %v, general %v", src, kv.Value, want.Value)
	require.Equal(t, gen.pos, fast.pos, "%q", src)
	return true
}

func TestFastKeyValueJSON(t *testing.T) {
	for _, tc := range []struct {
		src  string
		fast bool
	}{
		{`{"key":"session.id","value":{"stringValue":"5fe8c30a"}}`, true},
		{`{"key":"k","value":{"stringValue":""}},`, true},
		{`{"key":"","value":{"boolValue":true}}`, true},
		{`{"key":"k","value":{"boolValue":false}}`, true},
		{`{"key":"k","value":{"intValue":0}}`, true},
		{`{"key":"k","value":{"intValue":"-42"}}`, true},
		{`{"key":"k","value":{"intValue":123456789012345678}}`, true},
		{`{"key":"k","value":{"intValue":"9223372036854775807"}}`, false}, // 19 digits: general path
		{`{"key":"k","value":{"intValue":1.0}}`, false},
		{`{"key":"k","value":{"intValue":+1}}`, false},
		{`{"key":"k","value":{"intValue":"12}}`, false},
		{`{"key":"k","value":{"doubleValue":0.003355}}`, true},
		{`{"key":"k","value":{"doubleValue":-1e-7}}`, true},
		{`{"key":"k","value":{"doubleValue":"NaN"}}`, false},
		{`{"key":"k","value":{"doubleValue":1e999}}`, false},
		{`{"key":"k","value":{"stringValue":"caf\u00e9"}}`, false},
		{`{"key":"k","value":{"stringValue":"café — ok"}}`, true},
		{"{\"key\":\"k\",\"value\":{\"stringValue\":\"bad \xff\"}}", false},
		{"{\"key\":\"k\",\"value\":{\"stringValue\":\"tab\t\"}}", false},
		{`{"key":"k", "value":{"stringValue":"v"}}`, false},
		{`{"value":{"stringValue":"v"},"key":"k"}`, false},
		{`{"key":"k","value":{"stringValue":"v","x":1}}`, false},
		{`{"key":"k","value":{"arrayValue":{"values":[]}}}`, false},
		{`{"key":"k","value":{"stringValue":"v"}`, false},
	} {
		assert.Equal(t, tc.fast, checkFastKeyValueJSON(t, tc.src), "%q", tc.src)
	}
}

func FuzzFastKeyValueJSON(f *testing.F) {
	for _, s := range []string{
		`{"key":"a","value":{"stringValue":"b"}}`, `{"key":"a","value":{"intValue":"12"}}`,
		`{"key":"a","value":{"doubleValue":1.5e3}}`, `{"key":"a","value":{"boolValue":true}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) { checkFastKeyValueJSON(t, src) })
}

// TestSetFieldNextAgrees checks that the decoder's positional dispatch sets exactly the field
// setField sets, for every attribute of every event, from any predicted position.
func TestSetFieldNextAgrees(t *testing.T) {
	src, err := os.ReadFile("../internal/cmd/genevents/schema.txt")
	require.NoError(t, err)
	var schemaKeys []string
	for _, line := range strings.Split(string(src), "\n") {
		if f := strings.Fields(line); len(f) > 2 && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "@") {
			schemaKeys = append(schemaKeys, f[1])
		}
	}
	require.Greater(t, len(schemaKeys), 200)
	values := []Value{String("42"), Int(7), String("2026-11-24T10:07:41.282Z"), Strings("a", "b")}
	for _, name := range EventNames {
		keys := append([]string(nil), schemaKeys...)
		keys = append(keys, "not.a.field", KeySessionID)
		for _, key := range keys {
			for _, v := range values {
				for _, next := range []int{0, 2, 100} {
					want, got := newEvent(name), newEvent(name)
					wantOK := want.setField(key, v)
					n := next
					gotOK := got.setFieldNext(&n, key, v)
					require.Equal(t, wantOK, gotOK, "%s %s", name, key)
					require.Equal(t, want, got, "%s %s", name, key)
					if !gotOK {
						require.Equal(t, next, n, "a miss leaves the position")
					}
				}
			}
		}
	}
}

func TestValueLayout(t *testing.T) {
	require.Equal(t, uintptr(16), unsafe.Sizeof(Value{}), "attribute lists are sized for a 16-byte Value")
	for _, tc := range []struct {
		v    Value
		kind ValueKind
	}{
		{Value{}, ValueEmpty}, {String(""), ValueString}, {String("x"), ValueString},
		{Bytes(nil), ValueBytes}, {Bool(false), ValueBool}, {Bool(true), ValueBool},
		{Int(0), ValueInt}, {Int(-1), ValueInt}, {Double(0), ValueDouble},
		{Double(math.Inf(-1)), ValueDouble}, {Array(), ValueArray}, {Strings("a"), ValueArray},
		{Map(), ValueMap}, {Map(KeyValue{Key: "k", Value: Int(1)}), ValueMap},
	} {
		assert.Equal(t, tc.kind, tc.v.Kind(), "%v", tc.v)
		assert.Equal(t, tc.kind == ValueEmpty, tc.v.IsEmpty(), "%v", tc.v)
	}
	assert.Equal(t, int64(-1), Int(-1).IntRaw())
	assert.Equal(t, "x", String("x").Str())
	assert.Len(t, Strings("a", "b").Array(), 2)
	assert.True(t, math.IsInf(Double(math.Inf(-1)).DoubleRaw(), -1))
	for _, tc := range []struct {
		a, b Value
		eq   bool
	}{
		{Int(1), Int(1), true}, {Int(1), Int(2), false}, {Bool(true), Bool(false), false},
		{Double(1), Double(2), false}, {Double(math.NaN()), Double(math.NaN()), true},
		{Int(1), Double(1), false}, {String("1"), Int(1), false}, {Value{}, Value{}, true},
		{Strings("a", "b"), Strings("a", "b"), true}, {Strings("a"), Strings("b"), false},
	} {
		assert.Equal(t, tc.eq, tc.a.Equal(tc.b), "%v %v", tc.a, tc.b)
	}
}

// TestEncodeAttributeForms checks the protobuf encoder's short-string fast path against the
// general one: every length around the one-byte limit decodes back to the same attribute, and
// invalid UTF-8 is an error on both paths.
func TestEncodeAttributeForms(t *testing.T) {
	for _, kl := range []int{1, 10, 60, 121, 122, 130} {
		for _, sl := range []int{0, 1, 60, 111, 112, 120, 200} {
			if kl+sl > 260 {
				continue
			}
			kv := KeyValue{Key: strings.Repeat("k", kl), Value: String(strings.Repeat("v", sl))}
			var e protoEncoder
			e.attributes(6, Attributes{kv, {Key: "n", Value: Int(7)}})
			require.NoError(t, e.err)
			d := protoDecoder{src: string(e.buf), maxDepth: 8}
			var got []KeyValue
			for off := 0; off < len(d.src); {
				_, _, s, end, _, next, err := d.field(off, len(d.src))
				require.NoError(t, err)
				kv, err := d.decodeKeyValue(s, end, 0)
				require.NoError(t, err)
				got = append(got, kv)
				off = next
			}
			require.Len(t, got, 2)
			assert.Equal(t, kv.Key, got[0].Key)
			assert.True(t, kv.Value.Equal(got[0].Value), "key %d, value %d bytes", kl, sl)
			assert.Equal(t, int64(7), got[1].Value.IntRaw())
		}
	}
	for _, kv := range []KeyValue{{Key: "bad\xff", Value: String("v")}, {Key: "k", Value: String("bad\xff")}} {
		var e protoEncoder
		e.attributes(6, Attributes{kv})
		assert.ErrorIs(t, e.err, ErrMalformed)
	}
}

// FuzzFastKeyValueProto checks that the protobuf attribute fast path, when it accepts a
// KeyValue message, reads what the general field loop reads.
func FuzzFastKeyValueProto(f *testing.F) {
	for _, kv := range []KeyValue{
		{Key: "session.id", Value: String("5fe8c30a")}, {Key: "k", Value: Int(-3)},
		{Key: "k", Value: Bool(true)}, {Key: "k", Value: Double(0.5)}, {Key: "k", Value: String("é—")},
	} {
		var e protoEncoder
		e.attributes(6, Attributes{kv})
		_, _, s, end, _, _, err := (&protoDecoder{src: string(e.buf)}).field(0, len(e.buf))
		require.NoError(f, err)
		f.Add(e.buf[s:end])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := protoDecoder{src: string(b), maxDepth: 8}
		var kv KeyValue
		if !d.fastKeyValue(&kv, 0, len(b)) {
			require.Equal(t, KeyValue{}, kv, "a refused input must leave the result unwritten")
			return
		}
		want, err := d.keyValueFields(0, len(b), 0)
		require.NoError(t, err, "fast path accepted %x, the general path fails", b)
		require.Equal(t, want.Key, kv.Key)
		require.True(t, want.Value.Equal(kv.Value), "%x: fast %v, general %v", b, kv.Value, want.Value)
	})
}
