package redact

import (
	"errors"
	"strings"

	"github.com/coworkgov/cowork/internal/jsonstr"
)

// A small JSON reader and writer for JSON-valued attributes (tool_input, tool_parameters,
// MCP arguments). It keeps object member order and duplicate keys so that a document with
// nothing to redact can be returned byte for byte, and one with something to redact is
// re-serialised compactly with only the redacted leaves changed.

type jkind uint8

const (
	jString jkind = iota + 1
	jNumber
	jTrue
	jFalse
	jNull
	jObject
	jArray
)

type jvalue struct {
	kind jkind
	s    string // decoded string, or the number's text
	obj  []jfield
	arr  []jvalue
	drop bool // removed by redaction
}

type jfield struct {
	k string
	v jvalue
}

var errJSON = errors.New("redact: invalid JSON")

const maxJSONDepth = 64

type jparser struct {
	s string
	i int
}

// parseJSON parses one JSON document (surrounding whitespace allowed).
func parseJSON(s string) (jvalue, error) {
	p := jparser{s: s}
	v, err := p.value(0)
	if err != nil {
		return jvalue{}, err
	}
	p.ws()
	if p.i != len(s) {
		return jvalue{}, errJSON
	}
	return v, nil
}

func (p *jparser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (jvalue, error) {
	if depth > maxJSONDepth {
		return jvalue{}, errJSON
	}
	p.ws()
	if p.i >= len(p.s) {
		return jvalue{}, errJSON
	}
	switch c := p.s[p.i]; c {
	case '{':
		p.i++
		v := jvalue{kind: jObject, obj: []jfield{}}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return v, nil
		}
		for {
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return jvalue{}, errJSON
			}
			k, err := p.str()
			if err != nil {
				return jvalue{}, err
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return jvalue{}, errJSON
			}
			p.i++
			e, err := p.value(depth + 1)
			if err != nil {
				return jvalue{}, err
			}
			v.obj = append(v.obj, jfield{k, e})
			p.ws()
			if p.i >= len(p.s) {
				return jvalue{}, errJSON
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == '}' {
				p.i++
				return v, nil
			}
			return jvalue{}, errJSON
		}
	case '[':
		p.i++
		v := jvalue{kind: jArray, arr: []jvalue{}}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return v, nil
		}
		for {
			e, err := p.value(depth + 1)
			if err != nil {
				return jvalue{}, err
			}
			v.arr = append(v.arr, e)
			p.ws()
			if p.i >= len(p.s) {
				return jvalue{}, errJSON
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == ']' {
				p.i++
				return v, nil
			}
			return jvalue{}, errJSON
		}
	case '"':
		s, err := p.str()
		return jvalue{kind: jString, s: s}, err
	case 't':
		return p.lit("true", jTrue)
	case 'f':
		return p.lit("false", jFalse)
	case 'n':
		return p.lit("null", jNull)
	default:
		if c == '-' || isDigit(c) {
			return p.num()
		}
	}
	return jvalue{}, errJSON
}

func (p *jparser) lit(w string, k jkind) (jvalue, error) {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return jvalue{kind: k}, nil
	}
	return jvalue{}, errJSON
}

func (p *jparser) num() (jvalue, error) {
	st := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return jvalue{}, errJSON
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return jvalue{}, errJSON
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return jvalue{}, errJSON
		}
	}
	return jvalue{kind: jNumber, s: p.s[st:p.i]}, nil
}

// str reads a JSON string at p.i (which is '"'); strings without escapes share the input.
func (p *jparser) str() (string, error) {
	p.i++
	st := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[st:p.i]
			p.i++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", errJSON
		}
		p.i++
	}
	end := jsonstr.End(p.s, st-1)
	if end < 0 {
		return "", errJSON
	}
	v, ok := jsonstr.Unquote(p.s[st : end-1])
	if !ok {
		return "", errJSON
	}
	p.i = end
	return v, nil
}

// appendJSON writes v compactly.
func appendJSON(b []byte, v *jvalue) []byte {
	switch v.kind {
	case jString:
		return appendJSONString(b, v.s)
	case jNumber:
		return append(b, v.s...)
	case jTrue:
		return append(b, "true"...)
	case jFalse:
		return append(b, "false"...)
	case jNull:
		return append(b, "null"...)
	case jObject:
		b = append(b, '{')
		first := true
		for i := range v.obj {
			if v.obj[i].v.drop {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, v.obj[i].k)
			b = append(b, ':')
			b = appendJSON(b, &v.obj[i].v)
		}
		return append(b, '}')
	case jArray:
		b = append(b, '[')
		first := true
		for i := range v.arr {
			if v.arr[i].drop {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSON(b, &v.arr[i])
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s) }

// looksJSON reports whether s may be a JSON object or array document.
func looksJSON(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 2 && (s[0] == '{' && s[len(s)-1] == '}' || s[0] == '[' && s[len(s)-1] == ']')
}
