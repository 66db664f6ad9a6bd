package plugins

// Level is a plugin's installation preference, named as in the Anthropic Admin API. The zero
// value, [LevelUnknown], is what a name this version does not know decodes to; it fails
// closed and resolves exactly like [LevelNotAvailable], with a warning.
//
// Levels are ordered by strength: required > auto_install > available > not_available.
type Level uint8

// Levels, weakest first.
const (
	LevelUnknown      Level = iota // not recognised: fails closed as not_available
	LevelNotAvailable              // "not_available": hidden; a previous install is removed
	LevelAvailable                 // "available": listed; the member may install and uninstall
	LevelAutoInstall               // "auto_install" (UI "Installed by default"): installed; the member may uninstall
	LevelRequired                  // "required": installed; the member may not uninstall
)

var levelNames = [...]string{"unknown", "not_available", "available", "auto_install", "required"}

// String returns the Admin API name of l, or "unknown".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "unknown"
}

// Label returns the admin console's label: "Required", "Installed by default", "Available",
// "Not available".
func (l Level) Label() string {
	switch l {
	case LevelRequired:
		return "Required"
	case LevelAutoInstall:
		return "Installed by default"
	case LevelAvailable:
		return "Available"
	case LevelNotAvailable:
		return "Not available"
	}
	return "Unknown"
}

// Known reports whether l is one of the four named levels.
func (l Level) Known() bool { return l >= LevelNotAvailable && l <= LevelRequired }

// Effective returns l, or not_available for an unknown level (fail closed).
func (l Level) Effective() Level {
	if !l.Known() {
		return LevelNotAvailable
	}
	return l
}

// MarshalText implements [encoding.TextMarshaler].
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]. Unknown names decode to
// [LevelUnknown] without error, as the Admin API passes unnamed values through.
func (l *Level) UnmarshalText(b []byte) error {
	*l = LevelUnknown
	for i, n := range levelNames {
		if i > 0 && n == string(b) {
			*l = Level(i)
		}
	}
	return nil
}

// ParseLevel returns the level named s and whether the name is known.
func ParseLevel(s string) (Level, bool) {
	var l Level
	_ = l.UnmarshalText([]byte(s))
	return l, l.Known()
}

// Combinator says how the settings of several groups of one member combine for one plugin.
// The zero value, [CombinatorUnknown], means not set and behaves as [StrongestWins]; an
// unrecognised name also decodes to it, is reported by validation, and then fails closed
// as [DenyOverrides].
type Combinator uint8

// Combinators.
const (
	CombinatorUnknown Combinator = iota // not set: strongest-wins
	StrongestWins                       // "strongest-wins": the strongest group value wins (the default)
	DenyOverrides                       // "deny-overrides": any group's not_available wins, else the strongest
	Ranked                              // "ranked": the first group in the admin's ranking that holds a setting wins
)

var combinatorNames = [...]string{"unknown", "strongest-wins", "deny-overrides", "ranked"}

// String returns the combinator's name, or "unknown".
func (c Combinator) String() string {
	if int(c) < len(combinatorNames) {
		return combinatorNames[c]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler]; the unset combinator marshals as "".
func (c Combinator) MarshalText() ([]byte, error) {
	if c == CombinatorUnknown {
		return nil, nil
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]. Unknown names decode to
// [CombinatorUnknown] without error; validation reports them.
func (c *Combinator) UnmarshalText(b []byte) error {
	*c = CombinatorUnknown
	for i, n := range combinatorNames {
		if i > 0 && n == string(b) {
			*c = Combinator(i)
		}
	}
	return nil
}
