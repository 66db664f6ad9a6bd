package telemetry

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/coworkgov/cowork/internal/fastutf8"
	"github.com/coworkgov/cowork/internal/jsonstr"
)

// jsonScanner is a small zero-copy JSON reader over the whole input. Strings without escapes
// are substrings of src. Syntax errors are returned and end decoding; semantic problems (a
// value of the wrong shape) are recorded in sem so that the enclosing record can be skipped
// while the scan goes on.
type jsonScanner struct {
	src      string
	pos      int
	maxDepth int
	strict   bool  // unknown fields are semantic errors
	sem      error // first semantic problem in the current record
	semAt    int
	arena    arena
	// unescaped holds the decoded text of strings with escapes; see strSlow.
	unescaped []byte
}

var errJSONSyntax = fmt.Errorf("%w: invalid JSON", ErrMalformed)

func (s *jsonScanner) syntax(what string) error {
	return &DecodeError{Record: -1, Offset: s.pos, Err: fmt.Errorf("%w: %s", errJSONSyntax, what)}
}

func (s *jsonScanner) semantic(err error) {
	if s.sem == nil {
		s.sem, s.semAt = err, s.pos
	}
}

func (s *jsonScanner) ws() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

func (s *jsonScanner) consume(c byte) bool {
	if s.peek() == c {
		s.pos++
		return true
	}
	return false
}

// object reads an object, calling fn for each key with the scanner before its value. fn must
// consume the value.
func (s *jsonScanner) object(fn func(key string) error) error {
	if !s.consume('{') {
		return s.syntax("expected an object")
	}
	if s.consume('}') {
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.syntax("expected a key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if !s.consume(':') {
			return s.syntax("expected ':'")
		}
		if err := fn(key); err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return nil
		}
		return s.syntax("expected ',' or '}'")
	}
}

// array reads an array, calling fn for each element; fn must consume it. null is an empty array.
func (s *jsonScanner) array(fn func() error) error {
	if s.null() {
		return nil
	}
	if !s.consume('[') {
		return s.syntax("expected an array")
	}
	if s.consume(']') {
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return nil
		}
		return s.syntax("expected ',' or ']'")
	}
}

func (s *jsonScanner) null() bool {
	s.ws()
	if strings.HasPrefix(s.src[s.pos:], "null") {
		s.pos += 4
		return true
	}
	return false
}

// str reads a string. Without escapes or invalid UTF-8 it is a substring of the input.
func (s *jsonScanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.syntax("expected a string")
	}
	start := s.pos + 1
	ascii := true
	for i := jsonstr.SkipPlain(s.src, start); i < len(s.src); i++ {
		c := s.src[i]
		switch {
		case c == '"':
			s.pos = i + 1
			v := s.src[start:i]
			if !ascii && !fastutf8.Valid(v) {
				return strings.ToValidUTF8(v, "\uFFFD"), nil
			}
			return v, nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			s.pos = i
			return "", s.syntax("control character in string")
		case c >= 0x80:
			ascii = false
		}
	}
	s.pos = len(s.src)
	return "", s.syntax("unterminated string")
}

func (s *jsonScanner) strSlow(start int) (string, error) {
	end := jsonstr.End(s.src, start-1)
	if end < 0 {
		s.pos = len(s.src)
		return "", s.syntax("unterminated string")
	}
	raw := s.src[start : end-1]
	// Decoded strings share the request's buffer of unescaped text: one allocation for many
	// strings. Bytes once handed out are never written again.
	// The decoded text is no longer than raw unless it replaces invalid bytes; then append
	// moves on to a new array, which leaves the strings already handed out as they are.
	if cap(s.unescaped)-len(s.unescaped) < len(raw) {
		s.unescaped = make([]byte, 0, max(len(s.src)/16, 1<<10, len(raw)))
	}
	at := len(s.unescaped)
	b, ok := jsonstr.AppendUnquote(s.unescaped, raw)
	if !ok {
		s.pos = start
		return "", s.syntax("invalid escape or control character in string")
	}
	s.unescaped = b
	s.pos = end
	if len(b) == at {
		return "", nil
	}
	return unsafe.String(&b[at], len(b)-at), nil
}

// number reads a JSON number literal.
func (s *jsonScanner) number() (string, error) {
	s.ws()
	start := s.pos
	i := s.pos
	if i < len(s.src) && s.src[i] == '-' {
		i++
	}
	digits := 0
	for i < len(s.src) {
		c := s.src[i]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
			if c >= '0' && c <= '9' {
				digits++
			}
			i++
			continue
		}
		break
	}
	if digits == 0 {
		return "", s.syntax("expected a number")
	}
	s.pos = i
	return s.src[start:i], nil
}

// scalarText reads a number or a string and returns its text (for 64-bit ints and enums that
// may come either way).
func (s *jsonScanner) scalarText() (string, bool, error) {
	switch c := s.peek(); {
	case c == '"':
		v, err := s.str()
		return v, true, err
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := s.number()
		return v, false, err
	case c == 'n':
		if s.null() {
			return "", false, nil
		}
	}
	return "", false, s.syntax("expected a number or a string")
}

// uint64Field reads a uint64 written as a number or a string; a bad value is semantic.
func (s *jsonScanner) uint64Field(name string) (uint64, error) {
	t, _, err := s.scalarText()
	if err != nil || t == "" {
		return 0, err
	}
	n, perr := strconv.ParseUint(t, 10, 64)
	if perr != nil {
		if f, ferr := strconv.ParseFloat(t, 64); ferr == nil && f >= 0 && f == math.Trunc(f) && f < 1<<64 {
			return uint64(f), nil
		}
		s.semantic(fmt.Errorf("%w: %s: %q is not an unsigned integer", ErrMalformed, name, t))
	}
	return n, nil
}

func (s *jsonScanner) int64Field(name string) (int64, error) {
	t, _, err := s.scalarText()
	if err != nil || t == "" {
		return 0, err
	}
	n, perr := strconv.ParseInt(t, 10, 64)
	if perr != nil {
		if f, ferr := strconv.ParseFloat(t, 64); ferr == nil && f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), nil
		}
		s.semantic(fmt.Errorf("%w: %s: %q is not an integer", ErrMalformed, name, t))
	}
	return n, nil
}

func (s *jsonScanner) boolField(name string) (bool, error) {
	s.ws()
	switch {
	case strings.HasPrefix(s.src[s.pos:], "true"):
		s.pos += 4
		return true, nil
	case strings.HasPrefix(s.src[s.pos:], "false"):
		s.pos += 5
		return false, nil
	case s.null():
		return false, nil
	}
	if s.peek() == '"' {
		t, err := s.str()
		if err != nil {
			return false, err
		}
		if b, perr := strconv.ParseBool(t); perr == nil {
			return b, nil
		}
		s.semantic(fmt.Errorf("%w: %s: %q is not a boolean", ErrMalformed, name, t))
		return false, nil
	}
	return false, s.skipValueAs(name, "a boolean")
}

func (s *jsonScanner) doubleField(name string) (float64, error) {
	t, quoted, err := s.scalarText()
	if err != nil || t == "" {
		return 0, err
	}
	if quoted {
		switch t {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	f, perr := strconv.ParseFloat(t, 64)
	if perr != nil && !errors.Is(perr, strconv.ErrRange) {
		s.semantic(fmt.Errorf("%w: %s: %q is not a number", ErrMalformed, name, t))
	}
	return f, nil
}

func (s *jsonScanner) stringField(name string) (string, error) {
	if s.null() {
		return "", nil
	}
	if s.peek() != '"' {
		return "", s.skipValueAs(name, "a string")
	}
	return s.str()
}

// skipValueAs skips a value of the wrong type and records why.
func (s *jsonScanner) skipValueAs(name, want string) error {
	s.semantic(fmt.Errorf("%w: %s: want %s", ErrMalformed, name, want))
	return s.skip()
}

// unknown handles a field OTLP does not define.
func (s *jsonScanner) unknown(key string) error {
	if s.strict {
		s.semantic(fmt.Errorf("%w: %q", ErrUnknownField, key))
	}
	return s.skip()
}

// skip skips one value of any depth without recursion.
func (s *jsonScanner) skip() error {
	depth := 0
	for {
		switch c := s.peek(); c {
		case '{', '[':
			s.pos++
			depth++
			if c == '{' {
				if s.consume('}') {
					depth--
					break
				}
				if _, err := s.str(); err != nil {
					return err
				}
				if !s.consume(':') {
					return s.syntax("expected ':'")
				}
				continue
			}
			if s.consume(']') {
				depth--
				break
			}
			continue
		case '"':
			if _, err := s.str(); err != nil {
				return err
			}
		case 't', 'f', 'n':
			switch {
			case strings.HasPrefix(s.src[s.pos:], "true"), strings.HasPrefix(s.src[s.pos:], "null"):
				s.pos += 4
			case strings.HasPrefix(s.src[s.pos:], "false"):
				s.pos += 5
			default:
				return s.syntax("invalid literal")
			}
		case 0:
			return s.syntax("unexpected end of input")
		default:
			if _, err := s.number(); err != nil {
				return err
			}
		}
		// After a value: close containers or move to the next element.
		for {
			if depth == 0 {
				return nil
			}
			switch s.peek() {
			case ',':
				s.pos++
				// In an object the next element starts with a key; we cannot know the
				// container kind here cheaply, so accept either.
				if s.peek() == '"' {
					save := s.pos
					if _, err := s.str(); err != nil {
						return err
					}
					if !s.consume(':') {
						s.pos = save // an array element that is a string
					}
				}
			case '}', ']':
				s.pos++
				depth--
				continue
			default:
				return s.syntax("expected ',' or a closing bracket")
			}
			break
		}
	}
}

// hexID reads a hex trace or span id of n bytes into dst; an empty string leaves it unset.
func (s *jsonScanner) hexID(name string, dst []byte) error {
	t, err := s.stringField(name)
	if err != nil || t == "" {
		return err
	}
	if len(t) != 2*len(dst) {
		s.semantic(fmt.Errorf("%w: %s: want %d hex digits, got %d", ErrMalformed, name, 2*len(dst), len(t)))
		return nil
	}
	if _, herr := hex.Decode(dst, []byte(t)); herr != nil {
		s.semantic(fmt.Errorf("%w: %s: %v", ErrMalformed, name, herr))
	}
	return nil
}

// anyValue reads an OTLP AnyValue object.
func (s *jsonScanner) anyValue(depth int) (Value, error) {
	var v Value
	if s.null() {
		return v, nil
	}
	if s.peek() != '{' {
		return v, s.skipValueAs("value", "an AnyValue object")
	}
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "stringValue", "string_value":
			var t string
			t, err = s.stringField(key)
			v = strValue(ValueString, t)
		case "boolValue", "bool_value":
			var b bool
			b, err = s.boolField(key)
			v = Bool(b)
		case "intValue", "int_value":
			var n int64
			n, err = s.int64Field(key)
			v = Int(n)
		case "doubleValue", "double_value":
			var f float64
			f, err = s.doubleField(key)
			v = Double(f)
		case "bytesValue", "bytes_value":
			var t string
			t, err = s.stringField(key)
			b, derr := base64.StdEncoding.DecodeString(t)
			if derr != nil {
				if b, derr = base64.URLEncoding.DecodeString(t); derr != nil {
					s.semantic(fmt.Errorf("%w: bytesValue: not base64", ErrMalformed))
				}
			}
			v = strValue(ValueBytes, string(b))
		case "arrayValue", "array_value", "kvlistValue", "kvlist_value":
			if depth+1 > s.maxDepth {
				s.semantic(ErrTooDeep)
				return s.skip()
			}
			isArray := key[0] == 'a'
			var buf [8]Value
			vs := buf[:0]
			var kvs []KeyValue
			if s.null() {
				break
			}
			err = s.object(func(k2 string) error {
				if k2 != "values" {
					return s.unknown(k2)
				}
				return s.array(func() error {
					if isArray {
						e, err := s.anyValue(depth + 1)
						vs = append(vs, e)
						return err
					}
					kv, err := s.keyValue(depth + 1)
					kvs = append(kvs, kv)
					return err
				})
			})
			if isArray {
				v = s.arena.array(vs)
			} else {
				v = Map(kvs...)
			}
		default:
			return s.unknown(key)
		}
		return err
	})
	return v, err
}

// keyValue reads an OTLP KeyValue object.
func (s *jsonScanner) keyValue(depth int) (KeyValue, error) {
	var kv KeyValue
	err := s.keyValueInto(&kv, depth)
	return kv, err
}

// keyValueInto reads an OTLP KeyValue object into dst (an arena slot, say).
func (s *jsonScanner) keyValueInto(dst *KeyValue, depth int) error {
	if s.peek() == '{' && s.fastKeyValue(dst) {
		return nil
	}
	var err error
	*dst, err = s.keyValueObject(depth)
	return err
}

// keyValueObject reads an OTLP KeyValue object in any form.
func (s *jsonScanner) keyValueObject(depth int) (KeyValue, error) {
	var kv KeyValue
	if s.peek() != '{' {
		return kv, s.skipValueAs("attribute", "a KeyValue object")
	}
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "key":
			kv.Key, err = s.stringField(key)
		case "value":
			kv.Value, err = s.anyValue(depth)
		default:
			return s.unknown(key)
		}
		return err
	})
	return kv, err
}

// attributes reads an array of KeyValue into the arena and appends it to dst (see
// arena.endOnto).
func (s *jsonScanner) attributes(dst []KeyValue) ([]KeyValue, error) {
	s.arena.begin()
	err := s.array(func() error {
		return s.keyValueInto(s.arena.slot(), 0)
	})
	return s.arena.endOnto(dst), err
}

// plainEnd returns the index of the quote that ends the string whose first byte is at p, when
// the string has no escape and no control character and is valid UTF-8; else -1 (the general
// path then reads it, reporting or replacing what is wrong).
func plainEnd(src string, p int) int {
	ascii := true
	for i := jsonstr.SkipPlain(src, p); i < len(src); i++ {
		switch c := src[i]; {
		case c == '"':
			if !ascii && !fastutf8.Valid(src[p:i]) {
				return -1
			}
			return i
		case c == '\\' || c < 0x20:
			return -1
		case c >= 0x80:
			ascii = false
		}
	}
	return -1
}

// fastKeyValue reads, in one pass, the compact form in which encoders (the CLI's among them)
// write a scalar attribute: {"key":"K","value":{"stringValue":"V"}}, or boolValue, intValue
// (a number or a string of digits) or doubleValue (a number). Any other shape, white space,
// escape or invalid UTF-8 returns ok=false with the scanner unmoved, and the general path
// reads the attribute; both give the same result.
func (s *jsonScanner) fastKeyValue(kv *KeyValue) (ok bool) {
	src, p := s.src, s.pos
	const open, mid = `{"key":"`, `","value":{"`
	if !strings.HasPrefix(src[p:], open) {
		return false
	}
	p += len(open)
	e := plainEnd(src, p)
	if e < 0 || !strings.HasPrefix(src[e:], mid) {
		return false
	}
	key := src[p:e]
	p = e + len(mid)
	rest := src[p:]
	var val Value
	switch {
	case strings.HasPrefix(rest, `stringValue":"`):
		p += len(`stringValue":"`)
		e := plainEnd(src, p)
		if e < 0 {
			return false
		}
		val = strValue(ValueString, src[p:e])
		p = e + 1
	case strings.HasPrefix(rest, `intValue":`):
		p += len(`intValue":`)
		quoted := p < len(src) && src[p] == '"'
		if quoted {
			p++
		}
		neg := p < len(src) && src[p] == '-'
		if neg {
			p++
		}
		start := p
		var n int64
		for p < len(src) && src[p] >= '0' && src[p] <= '9' && p-start < 18 {
			n = n*10 + int64(src[p]-'0')
			p++
		}
		if p == start || (p < len(src) && src[p] >= '0' && src[p] <= '9') {
			return false // no digits, or more than 18: the general path decides
		}
		if quoted {
			if p >= len(src) || src[p] != '"' {
				return false
			}
			p++
		}
		if neg {
			n = -n
		}
		val = Int(n)
	case strings.HasPrefix(rest, `boolValue":true`):
		p += len(`boolValue":true`)
		val = Bool(true)
	case strings.HasPrefix(rest, `boolValue":false`):
		p += len(`boolValue":false`)
		val = Bool(false)
	case strings.HasPrefix(rest, `doubleValue":`):
		p += len(`doubleValue":`)
		start := p
		if p >= len(src) || (src[p] != '-' && (src[p] < '0' || src[p] > '9')) {
			return false
		}
		for p < len(src) {
			c := src[p]
			if (c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
				break
			}
			p++
		}
		f, err := strconv.ParseFloat(src[start:p], 64)
		if err != nil || p == start {
			return false
		}
		val = Double(f)
	default:
		return false
	}
	if !strings.HasPrefix(src[p:], "}}") {
		return false
	}
	s.pos = p + 2
	kv.Key, kv.Value = key, val
	return true
}
