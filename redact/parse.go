package redact

import (
	"bytes"
	"errors"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxPolicyBytes bounds a policy document.
const maxPolicyBytes = 1 << 20

// LoadPolicy reads a policy document (YAML or JSON) from r; see [ParsePolicy].
func LoadPolicy(r io.Reader) (Policy, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPolicyBytes+1))
	if err != nil {
		return Policy{}, err
	}
	return ParsePolicy(b)
}

// ParsePolicy parses a policy document in YAML or JSON (JSON is read as YAML, so lines are
// reported for both):
//
//	name: acme
//	extends: strict            # optional: a preset whose rules, detectors, json_keys and skip follow these
//	detectors: [all]           # or a list of detector names; default all
//	json_keys: [tool_input]    # path globs holding JSON documents
//	skip: [model]              # path globs detectors never scan
//	rules:
//	  - name: customer-ids
//	    events: [tool_result]  # optional
//	    keys: ["tool_input.customer_*"]
//	    scope: record          # record, resource or any (default)
//	    what: value            # value (default), a detector name, "secrets", or a list of them
//	    action: hash           # keep drop mask label partial hash length truncate generalize
//	    entity: customer       # hash prefix / label; mask, keep_first, keep_last, keep_domain, max_len, depth
//
// Unknown fields, unknown detectors or actions, duplicate rule names and bad glob patterns are
// errors wrapping [ErrPolicy]; errors.As with *[PolicyError] gives the line. The policy is
// also checked the way [New] checks it.
func ParsePolicy(b []byte) (Policy, error) {
	if len(b) > maxPolicyBytes {
		return Policy{}, &PolicyError{Msg: "document larger than 1 MiB"}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Policy{}, &PolicyError{Msg: "empty document"}
		}
		return Policy{}, &PolicyError{Line: yamlErrLine(err), Msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return Policy{}, &PolicyError{Msg: "empty document"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Policy{}, &PolicyError{Line: root.Line, Msg: "a policy is a mapping"}
	}
	var p Policy
	var ext *Policy
	detectorsSet := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "name":
			s, err := scalar(v, "name")
			if err != nil {
				return Policy{}, err
			}
			p.Name = s
		case "extends":
			s, err := scalar(v, "extends")
			if err != nil {
				return Policy{}, err
			}
			pre, ok := Preset(s)
			if !ok {
				return Policy{}, &PolicyError{Line: v.Line, Field: "extends", Msg: "unknown preset " + strconv.Quote(s)}
			}
			ext = &pre
		case "detectors":
			ss, err := stringList(v, "detectors")
			if err != nil {
				return Policy{}, err
			}
			detectorsSet = true
			for j, s := range ss {
				if s == "all" {
					p.Detectors = append(p.Detectors, Detectors()...)
					continue
				}
				d, ok := ParseDetector(s)
				if !ok {
					return Policy{}, &PolicyError{Line: lineOf(v, j), Field: "detectors", Msg: "unknown detector " + strconv.Quote(s)}
				}
				p.Detectors = append(p.Detectors, d)
			}
		case "json_keys":
			ss, err := globList(v, "json_keys")
			if err != nil {
				return Policy{}, err
			}
			p.JSONKeys = ss
		case "skip":
			ss, err := globList(v, "skip")
			if err != nil {
				return Policy{}, err
			}
			p.Skip = ss
		case "rules":
			if v.Kind != yaml.SequenceNode {
				return Policy{}, &PolicyError{Line: v.Line, Field: "rules", Msg: "must be a list"}
			}
			for j, rn := range v.Content {
				r, err := parseRule(rn, j)
				if err != nil {
					return Policy{}, err
				}
				p.Rules = append(p.Rules, r)
			}
		default:
			return Policy{}, &PolicyError{Line: k.Line, Field: k.Value, Msg: "unknown field"}
		}
	}
	if !detectorsSet && ext == nil {
		p.Detectors = Detectors()
	}
	if ext != nil {
		if !detectorsSet {
			p.Detectors = ext.Detectors
		}
		p.Rules = append(p.Rules, ext.Rules...)
		p.JSONKeys = append(p.JSONKeys, ext.JSONKeys...)
		p.Skip = append(p.Skip, ext.Skip...)
	}
	if _, err := New(p, WithCacheSize(0)); err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) && pe.Line == 0 {
			pe.Line = lineForField(root, pe.Field)
		}
		return Policy{}, err
	}
	return p, nil
}

func yamlErrLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	// yaml.v3 syntax errors read "yaml: line N: …".
	s := err.Error()
	const pre = "yaml: line "
	if len(s) > len(pre) && s[:len(pre)] == pre {
		n := 0
		for i := len(pre); i < len(s) && isDigit(s[i]); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	return 0
}

// lineForField finds the line of "rules[i]" in the document for errors found by New.
func lineForField(root *yaml.Node, field string) int {
	const pre = "rules["
	if len(field) <= len(pre) || field[:len(pre)] != pre {
		return root.Line
	}
	n := 0
	for i := len(pre); i < len(field) && isDigit(field[i]); i++ {
		n = n*10 + int(field[i]-'0')
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "rules" && root.Content[i+1].Kind == yaml.SequenceNode && n < len(root.Content[i+1].Content) {
			return root.Content[i+1].Content[n].Line
		}
	}
	return root.Line
}

func lineOf(v *yaml.Node, j int) int {
	if v.Kind == yaml.SequenceNode && j < len(v.Content) {
		return v.Content[j].Line
	}
	return v.Line
}

func scalar(v *yaml.Node, field string) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", &PolicyError{Line: v.Line, Field: field, Msg: "must be a string"}
	}
	return v.Value, nil
}

func intField(v *yaml.Node, field string) (int, error) {
	if v.Kind != yaml.ScalarNode {
		return 0, &PolicyError{Line: v.Line, Field: field, Msg: "must be a number"}
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil || n < 0 || n > 1<<20 {
		return 0, &PolicyError{Line: v.Line, Field: field, Msg: "must be a non-negative integer"}
	}
	return n, nil
}

// stringList accepts a scalar or a sequence of scalars.
func stringList(v *yaml.Node, field string) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, &PolicyError{Line: c.Line, Field: field, Msg: "must be a list of strings"}
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, &PolicyError{Line: v.Line, Field: field, Msg: "must be a string or a list of strings"}
}

func globList(v *yaml.Node, field string) ([]string, error) {
	ss, err := stringList(v, field)
	if err != nil {
		return nil, err
	}
	for j, s := range ss {
		if _, err := compileGlob(s); err != nil {
			return nil, &PolicyError{Line: lineOf(v, j), Field: field, Msg: "bad pattern " + strconv.Quote(s)}
		}
	}
	return ss, nil
}

func parseRule(n *yaml.Node, idx int) (Rule, error) {
	var r Rule
	base := fieldIdx("rules", idx)
	if n.Kind != yaml.MappingNode {
		return r, &PolicyError{Line: n.Line, Field: base, Msg: "a rule is a mapping"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := base + "." + k.Value
		var err error
		switch k.Value {
		case "name":
			r.Name, err = scalar(v, f)
		case "events":
			r.Events, err = globList(v, f)
		case "keys":
			r.Keys, err = globList(v, f)
		case "scope":
			var s string
			if s, err = scalar(v, f); err == nil {
				switch s {
				case "", "any":
					r.Scope = ScopeAny
				case "record":
					r.Scope = ScopeRecord
				case "resource":
					r.Scope = ScopeResource
				default:
					err = &PolicyError{Line: v.Line, Field: f, Msg: "unknown scope " + strconv.Quote(s)}
				}
			}
		case "what":
			var ss []string
			if ss, err = stringList(v, f); err == nil {
				for j, s := range ss {
					if s == "value" {
						if len(ss) > 1 {
							err = &PolicyError{Line: lineOf(v, j), Field: f, Msg: `"value" cannot be combined with detectors`}
						}
						continue
					}
					if s == "secrets" {
						r.Detectors = append(r.Detectors, secretDetectors...)
						continue
					}
					d, ok := ParseDetector(s)
					if !ok {
						err = &PolicyError{Line: lineOf(v, j), Field: f, Msg: "unknown detector " + strconv.Quote(s)}
						break
					}
					r.Detectors = append(r.Detectors, d)
				}
			}
		case "action":
			var s string
			if s, err = scalar(v, f); err == nil {
				a, ok := ParseAction(s)
				if !ok {
					err = &PolicyError{Line: v.Line, Field: f, Msg: "unknown action " + strconv.Quote(s)}
				}
				r.Action = a
			}
		case "mask":
			r.Mask, err = scalar(v, f)
		case "entity":
			r.Entity, err = scalar(v, f)
		case "keep_first":
			r.KeepFirst, err = intField(v, f)
		case "keep_last":
			r.KeepLast, err = intField(v, f)
		case "max_len":
			r.MaxLen, err = intField(v, f)
		case "depth":
			r.Depth, err = intField(v, f)
		case "keep_domain":
			var s string
			if s, err = scalar(v, f); err == nil {
				b, perr := strconv.ParseBool(s)
				if perr != nil {
					err = &PolicyError{Line: v.Line, Field: f, Msg: "must be true or false"}
				}
				r.KeepDomain = b
			}
		default:
			err = &PolicyError{Line: k.Line, Field: f, Msg: "unknown field"}
		}
		if err != nil {
			return r, err
		}
	}
	if r.Name == "" {
		return r, &PolicyError{Line: n.Line, Field: base + ".name", Msg: "missing"}
	}
	if r.Action == ActionUnknown {
		return r, &PolicyError{Line: n.Line, Field: base + ".action", Msg: "missing"}
	}
	if _, err := compileRule(r); err != nil {
		err.Line = n.Line
		err.Field = base + "." + err.Field
		return r, err
	}
	return r, nil
}
