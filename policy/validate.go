package policy

import (
	"fmt"
	"strconv"
)

// Validate reports every problem with the snapshot at once, in document order: unknown
// enumerated values, missing and duplicate IDs, dangling group and role references, more
// than [MaxGroups] groups, custom roles or custom-role members on a Team plan, and the
// telemetry findings of [Telemetry.Check]. Issues carry the line of the value when the
// snapshot was decoded by [Load]. Use [Issues.Err] for an error of the errors only.
func (s *Snapshot) Validate() Issues {
	var out Issues
	add := func(sev Severity, path string, err error, format string, args ...any) {
		out = append(out, Issue{Severity: sev, Path: path, Err: err, Message: fmt.Sprintf(format, args...)})
	}
	unknownEnum := func(path, what string, unknown bool) {
		if !unknown {
			return
		}
		if raw := s.src[path].Raw; raw != "" {
			add(SeverityError, path, ErrUnknownValue, "unknown %s %q", what, raw)
		} else {
			add(SeverityError, path, ErrUnknownValue, "%s is missing", what)
		}
	}

	unknownEnum("plan", "plan", s.Plan == PlanUnknown)
	if s.Plan == PlanUnknown {
		out[len(out)-1].Message += "; evaluated as a Team plan"
	}

	groups := map[string]int{}
	if len(s.Groups) > MaxGroups {
		add(SeverityError, "groups", ErrTooManyGroups, "%d groups; an organization may have at most %d", len(s.Groups), MaxGroups)
	}
	for i, g := range s.Groups {
		p := "groups[" + strconv.Itoa(i) + "]"
		if s.src[p+".source"].Raw != "" && g.Source == GroupSourceUnknown {
			add(SeverityWarning, p+".source", ErrUnknownValue, "unknown group source %q", s.src[p+".source"].Raw)
		}
		if g.ID == "" {
			add(SeverityError, p+".id", ErrMissing, "group without an id")
			continue
		}
		if j, dup := groups[g.ID]; dup {
			add(SeverityError, p+".id", ErrDuplicate, "group %q is also defined at groups[%d]", g.ID, j)
			continue
		}
		groups[g.ID] = i
	}

	roles := map[string]int{}
	for i, r := range s.Roles {
		p := "roles[" + strconv.Itoa(i) + "]"
		if !s.Plan.Enterprise() {
			add(SeverityWarning, p, ErrPlanFeature, "custom role %q is ignored: custom roles need an Enterprise plan", r.ID)
		}
		if r.ID == "" {
			add(SeverityError, p+".id", ErrMissing, "custom role without an id")
		} else if j, dup := roles[r.ID]; dup {
			add(SeverityError, p+".id", ErrDuplicate, "custom role %q is also defined at roles[%d]", r.ID, j)
		} else {
			roles[r.ID] = i
		}
		for k, c := range r.Grants {
			if c == CapabilityUnknown {
				gp := p + ".grants[" + strconv.Itoa(k) + "]"
				add(SeverityWarning, gp, ErrUnknownValue, "unknown capability %q grants nothing", s.src[gp].Raw)
			}
		}
		for k, g := range r.Groups {
			if _, ok := groups[g]; !ok {
				add(SeverityError, p+".groups["+strconv.Itoa(k)+"]", ErrDanglingGroup, "custom role %q is attached to unknown group %q", r.ID, g)
			}
		}
	}

	members := map[string]int{}
	for i, m := range s.Members {
		p := "members[" + strconv.Itoa(i) + "]"
		if m.ID == "" {
			add(SeverityError, p+".id", ErrMissing, "member without an id")
		} else if j, dup := members[m.ID]; dup {
			add(SeverityError, p+".id", ErrDuplicate, "member %q is also defined at members[%d]", m.ID, j)
		} else {
			members[m.ID] = i
		}
		if m.Role == RoleUnknown {
			unknownEnum(p+".role", "role", true)
			out[len(out)-1].Message += "; evaluated as a user"
		}
		if m.Role == RoleCustom && !s.Plan.Enterprise() {
			add(SeverityWarning, p+".role", ErrPlanFeature, "member %q has custom roles, which need an Enterprise plan; they follow the org toggle instead", m.ID)
		}
		seen := map[string]bool{}
		for k, g := range m.Groups {
			gp := p + ".groups[" + strconv.Itoa(k) + "]"
			if _, ok := groups[g]; !ok {
				add(SeverityError, gp, ErrDanglingGroup, "member %q is in unknown group %q; the membership is ignored", m.ID, g)
			}
			if seen[g] {
				add(SeverityWarning, gp, ErrDuplicate, "member %q lists group %q twice", m.ID, g)
			}
			seen[g] = true
		}
	}

	if raw := s.src["telemetry.protocol"].Raw; raw != "" && s.Telemetry.Protocol == ProtocolUnknown {
		add(SeverityError, "telemetry.protocol", ErrUnknownValue, "unknown protocol %q; use http/json, http/protobuf or grpc", raw)
	}
	out = append(out, s.Telemetry.Check(s.Egress)...)
	return out.WithLines(s.src)
}
