// Package pyjson encodes JSON byte for byte the way Python's json.dumps does with its default
// arguments: ", " and ": " separators, every non-ASCII character escaped as a lower-case \uXXXX
// (surrogate pairs above the BMP), '<', '>' and '&' left as they are, and object keys in
// insertion order. The real-client stand-ins are ports of Python scripts; encoding their
// replies the same way keeps what the CLI receives, and so what it exports, identical.
package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Object is a JSON object whose members are encoded in slice order, as a Python dict keeps
// insertion order.
type Object []Member

// Member is one key and value of an Object.
type Member struct {
	Key   string
	Value any
}

// ErrUnsupported is returned by Marshal for a Go value it has no rule for.
var ErrUnsupported = errors.New("pyjson: unsupported type")

// Marshal encodes v like Python's json.dumps(v). It accepts nil, bool, string, the integer
// types, float64 (integral values only, as Python writes ints), Object, []any, []string,
// []Object, map[string]any (keys sorted, since Go maps have no insertion order) and
// json.RawMessage, which is re-encoded with its key order kept. Marshal is pure and safe for
// concurrent use.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encode(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Reformat re-encodes the JSON text raw in Python's style, keeping its key order and number
// spelling.
func Reformat(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b bytes.Buffer
	if err := reformat(&b, dec); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("pyjson: trailing data after JSON value")
	}
	return b.Bytes(), nil
}

func encode(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if x != float64(int64(x)) {
			return fmt.Errorf("%w: non-integral float %v", ErrUnsupported, x)
		}
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case json.Number:
		b.WriteString(x.String())
	case Object:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeString(b, m.Key)
			b.WriteString(": ")
			if err := encode(b, m.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := make(Object, 0, len(keys))
		for _, k := range keys {
			o = append(o, Member{k, x[k]})
		}
		return encode(b, o)
	case []any:
		return encodeList(b, len(x), func(i int) any { return x[i] })
	case []string:
		return encodeList(b, len(x), func(i int) any { return x[i] })
	case []Object:
		return encodeList(b, len(x), func(i int) any { return x[i] })
	case json.RawMessage:
		out, err := Reformat(x)
		if err != nil {
			return err
		}
		b.Write(out)
	default:
		return fmt.Errorf("%w: %T", ErrUnsupported, v)
	}
	return nil
}

func encodeList(b *bytes.Buffer, n int, at func(int) any) error {
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := encode(b, at(i)); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// reformat copies one JSON value from dec to b.
func reformat(b *bytes.Buffer, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("pyjson: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := byte('}')
		if t == '[' {
			closing = ']'
		}
		b.WriteByte(byte(t))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return fmt.Errorf("pyjson: %w", err)
				}
				writeString(b, k.(string))
				b.WriteString(": ")
			}
			if err := reformat(b, dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return fmt.Errorf("pyjson: %w", err)
		}
		b.WriteByte(closing)
		return nil
	default:
		return encode(b, t)
	}
}

// writeString writes s as Python's json.dumps does with ensure_ascii=True.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&0xf])
		b.WriteByte(hex[r>>8&0xf])
		b.WriteByte(hex[r>>4&0xf])
		b.WriteByte(hex[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			u(r)
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			u(r1)
			u(r2)
		default:
			u(r)
		}
	}
	b.WriteByte('"')
}
