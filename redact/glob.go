package redact

import (
	"path"
	"strings"
)

// glob is a compiled path pattern: dot-separated segments, "*" and other path.Match syntax
// within a segment, "**" for any number of segments.
type glob struct {
	segs []string
	lit  string // the pattern itself when it has no wildcard
}

func compileGlob(p string) (glob, error) {
	if p == "" {
		return glob{}, path.ErrBadPattern
	}
	if !strings.ContainsAny(p, `*?[\`) {
		return glob{lit: p}, nil
	}
	segs := strings.Split(p, ".")
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return glob{}, err
		}
	}
	return glob{segs: segs}, nil
}

func (g glob) match(p string) bool {
	if g.segs == nil {
		return g.lit == p
	}
	return matchSegs(g.segs, strings.Split(p, "."))
}

func matchSegs(ps, xs []string) bool {
	for len(ps) > 0 {
		if ps[0] == "**" {
			for i := 0; i <= len(xs); i++ {
				if matchSegs(ps[1:], xs[i:]) {
					return true
				}
			}
			return false
		}
		if len(xs) == 0 {
			return false
		}
		if ok, _ := path.Match(ps[0], xs[0]); !ok {
			return false
		}
		ps, xs = ps[1:], xs[1:]
	}
	return len(xs) == 0
}

type globs []glob

func (gs globs) match(p string) bool {
	for _, g := range gs {
		if g.match(p) {
			return true
		}
	}
	return false
}

func compileGlobs(ps []string) (globs, int, error) {
	out := make(globs, 0, len(ps))
	for i, p := range ps {
		g, err := compileGlob(p)
		if err != nil {
			return nil, i, err
		}
		out = append(out, g)
	}
	return out, -1, nil
}
