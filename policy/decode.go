package policy

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Default decoding limits.
const (
	DefaultMaxBytes = 8 << 20 // 8 MiB
	DefaultMaxDepth = 64
)

// DecodeOptions configures decoding of snapshot documents. The zero value is ready to use:
// strict about unknown fields, 8 MiB and 64 levels at most. DecodeOptions are values and
// safe for concurrent use.
type DecodeOptions struct {
	// MaxBytes bounds the input size. Zero means [DefaultMaxBytes].
	MaxBytes int
	// MaxDepth bounds the nesting of mappings and sequences. Zero means [DefaultMaxDepth].
	MaxDepth int
	// AllowUnknownFields ignores fields the format does not define instead of reporting
	// them. The default, false, is strict: every unknown field is an error with its line.
	AllowUnknownFields bool
}

// DecodeError is one problem found while decoding: where it is and which sentinel it is.
// Messages never contain the value of a secret field.
type DecodeError struct {
	// Path is the dotted path of the offending value, such as `members[2].role`; empty for
	// the document itself.
	Path string
	// Line and Column locate the value (1-based); zero when unknown.
	Line, Column int
	// Err is the sentinel: [ErrSyntax], [ErrUnknownField], [ErrType], [ErrTooLarge],
	// [ErrTooDeep], [ErrAlias], [ErrHeaders].
	Err error
	// Detail says what is wrong, without echoing secret values.
	Detail string
}

// Error returns "line L: path: detail".
func (e *DecodeError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Detail != "" {
		b.WriteString(e.Detail)
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel.
func (e *DecodeError) Unwrap() error { return e.Err }

// Load decodes a snapshot from YAML or JSON with the default [DecodeOptions].
func Load(data []byte) (*Snapshot, error) { return DecodeOptions{}.Load(data) }

// Load decodes a snapshot from YAML or JSON (JSON is read as YAML, so both give the same
// snapshot and the same revision). On error it returns what could be decoded together with
// an error joining one [*DecodeError] per problem. Load does not validate the snapshot's
// meaning; call [Snapshot.Validate].
func (o DecodeOptions) Load(data []byte) (*Snapshot, error) {
	s := &Snapshot{}
	src, err := o.Unmarshal(data, s)
	s.src = src
	return s, err
}

// Unmarshal decodes a YAML or JSON document into v (a pointer to a struct whose fields have
// yaml tags) with the same strictness and limits as [DecodeOptions.Load], and returns the
// position of every value it saw. Package plugins uses it for documents that embed a
// policy snapshot.
func (o DecodeOptions) Unmarshal(data []byte, v any) (Source, error) {
	maxBytes, maxDepth := o.MaxBytes, o.MaxDepth
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if len(data) > maxBytes {
		return nil, &DecodeError{Err: ErrTooLarge, Detail: fmt.Sprintf("input is %d bytes, limit %d", len(data), maxBytes)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Source{}, nil
	}
	if looksJSON(data) {
		if err := checkJSON(data); err != nil {
			return nil, err
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(jsonTabs(data), &doc); err != nil {
		return nil, syntaxError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return Source{}, nil
		}
		root = root.Content[0]
	}
	if err := checkShape(root, "", 0, maxDepth); err != nil {
		return nil, err
	}
	w := walker{src: Source{}, strict: !o.AllowUnknownFields}
	w.walk(root, reflect.TypeOf(v), "")
	if err := root.Decode(v); err != nil {
		w.errs = append(w.errs, typeErrors(err)...)
	}
	if len(w.errs) == 0 {
		return w.src, nil
	}
	return w.src, errors.Join(w.errs...)
}

func looksJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// checkJSON holds JSON input to JSON's grammar (YAML would accept trailing commas and
// comments), reporting the line of a syntax error.
func checkJSON(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte{'\n'})
		return &DecodeError{Line: line, Err: ErrSyntax, Detail: se.Error()}
	}
	return nil
}

// jsonTabs replaces tab indentation, which JSON allows and YAML does not, when the input
// looks like JSON. Tabs inside strings are escaped in valid JSON, so no value changes.
func jsonTabs(data []byte) []byte {
	if !looksJSON(data) || bytes.IndexByte(data, '\t') < 0 {
		return data
	}
	return bytes.ReplaceAll(data, []byte{'\t'}, []byte{' '})
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(err error) error {
	msg := err.Error()
	line := 0
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return &DecodeError{Line: line, Err: ErrSyntax, Detail: msg}
}

func typeErrors(err error) []error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []error{&DecodeError{Err: ErrType, Detail: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	out := make([]error, 0, len(te.Errors))
	for _, e := range te.Errors {
		d := &DecodeError{Err: ErrType, Detail: e}
		if m := lineRE.FindStringSubmatch(e); m != nil {
			d.Line, _ = strconv.Atoi(m[1])
			d.Detail = m[2]
		}
		switch {
		case strings.Contains(d.Detail, "otlp headers"):
			d.Err = ErrHeaders
		case strings.Contains(d.Detail, "already defined"):
			d.Err = ErrDuplicate
		}
		out = append(out, d)
	}
	return out
}

// checkShape rejects aliases and excessive nesting anywhere in the tree, before any typed
// decoding expands them.
func checkShape(n *yaml.Node, path string, depth, maxDepth int) error {
	if depth > maxDepth {
		return &DecodeError{Path: path, Line: n.Line, Column: n.Column, Err: ErrTooDeep, Detail: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &DecodeError{Path: path, Line: n.Line, Column: n.Column, Err: ErrAlias}
	}
	for _, c := range n.Content {
		if err := checkShape(c, path, depth+1, maxDepth); err != nil {
			return err
		}
	}
	return nil
}

// Position locates one decoded value.
type Position struct {
	// Line and Column are 1-based.
	Line, Column int
	// Raw is the text as written of an enumerated value (plan, role, level, …); empty for
	// free text, which may hold secrets, and for mappings and sequences.
	Raw string
}

// Source maps value paths (`members[2].role`) to their positions in the decoded document.
type Source map[string]Position

// Line returns the line of path, or 0 when unknown.
func (s Source) Line(path string) int { return s[path].Line }

type walker struct {
	src    Source
	strict bool
	errs   []error
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlUnmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	headersType         = reflect.TypeFor[Headers]()
)

type fieldInfo struct {
	typ reflect.Type
}

var fieldCache sync.Map // reflect.Type -> map[string]fieldInfo

func fieldsOf(t reflect.Type) map[string]fieldInfo {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]fieldInfo)
	}
	m := map[string]fieldInfo{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
					m[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = fieldInfo{typ: f.Type}
	}
	fieldCache.Store(t, m)
	return m
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	pos := Position{Line: n.Line, Column: n.Column}
	// Keep the text of enumerated values only (validation quotes unknown ones); free text
	// such as an endpoint or headers may hold secrets.
	if et := derefType(t); et != headersType && reflect.PointerTo(et).Implements(textUnmarshalerType) {
		pos.Raw = scalarText(n)
	}
	w.src[path] = pos
	for t.Kind() == reflect.Pointer {
		if reflect.PointerTo(t).Implements(yamlUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
			return
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(yamlUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := fieldsOf(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				if w.strict {
					w.errs = append(w.errs, &DecodeError{Path: p, Line: k.Line, Column: k.Column, Err: ErrUnknownField, Detail: fmt.Sprintf("unknown field %q", k.Value)})
				}
				continue
			}
			w.walk(v, f.typ, p)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
		}
	}
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func scalarText(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
