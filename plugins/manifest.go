package plugins

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/coworkgov/cowork/policy"
)

// Manifest file locations inside a plugin or marketplace directory.
const (
	PluginManifestPath      = ".claude-plugin/plugin.json"
	MarketplaceManifestPath = ".claude-plugin/marketplace.json"
	// MaxManifestBytes bounds a manifest file.
	MaxManifestBytes = 1 << 20
)

// Author is a plugin author or marketplace owner.
type Author struct {
	// Name is required.
	Name string
	// Email and URL are optional.
	Email, URL string
}

// Manifest is a parsed `.claude-plugin/plugin.json`.
type Manifest struct {
	// Name is the plugin's identifier (kebab-case by convention).
	Name string
	// Version, Description, Homepage, Repository and License are optional.
	Version, Description, Homepage, Repository, License string
	// Author is optional.
	Author *Author
	// Keywords are optional.
	Keywords []string
	// Commands, Agents, Skills and OutputStyles list the component paths ("./…").
	Commands, Agents, Skills, OutputStyles []string
	// HookFiles, MCPServerFiles and LSPServerFiles list configuration files given by path;
	// inline configurations are not listed.
	HookFiles, MCPServerFiles, LSPServerFiles []string
}

// SourceKind is how a marketplace entry's plugin is fetched. The zero value,
// [SourceUnknown], is an unrecognised or missing source.
type SourceKind uint8

// Source kinds.
const (
	SourceUnknown   SourceKind = iota
	SourcePath                 // "./dir" relative to the marketplace root
	SourceGitHub               // {"source": "github", "repo": "owner/repo"}
	SourceURL                  // {"source": "url", "url": "https://…git"}
	SourceGitSubdir            // {"source": "git-subdir", "url": …, "path": …}
	SourceNPM                  // {"source": "npm", "package": …}
)

var sourceNames = [...]string{"unknown", "path", "github", "url", "git-subdir", "npm"}

// String returns the source kind's name.
func (k SourceKind) String() string {
	if int(k) < len(sourceNames) {
		return sourceNames[k]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (k SourceKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// PluginSource says where a marketplace entry's plugin comes from.
type PluginSource struct {
	// Kind says which of the other fields apply.
	Kind SourceKind
	// Path is the relative directory of a [SourcePath] source, or the sub-directory of a
	// [SourceGitSubdir] one.
	Path string
	// Repo is the "owner/repo" of a [SourceGitHub] source.
	Repo string
	// URL is the git URL of a [SourceURL] or [SourceGitSubdir] source.
	URL string
	// Ref is an optional git ref.
	Ref string
	// Package is the package name of a [SourceNPM] source.
	Package string
}

// MarketplaceEntry is one plugin listed in a marketplace.
type MarketplaceEntry struct {
	// Name is the plugin's name in the marketplace (the "plugin" of plugin@marketplace).
	Name string
	// Description and Version are optional.
	Description, Version string
	// Source says where the plugin comes from.
	Source PluginSource
}

// MarketplaceManifest is a parsed `.claude-plugin/marketplace.json`.
type MarketplaceManifest struct {
	// Name is the marketplace's name (the "marketplace" of plugin@marketplace).
	Name string
	// Description is the description, or metadata.description.
	Description string
	// Owner is the marketplace owner; Owner.Name is required.
	Owner Author
	// Plugins are the listed plugins.
	Plugins []MarketplaceEntry
}

// ManifestKind says which manifest a directory holds. The zero value, [KindUnknown], means
// none was found.
type ManifestKind uint8

// Manifest kinds.
const (
	KindUnknown     ManifestKind = iota
	KindPlugin                   // .claude-plugin/plugin.json
	KindMarketplace              // .claude-plugin/marketplace.json
)

// String returns "plugin", "marketplace" or "unknown".
func (k ManifestKind) String() string {
	switch k {
	case KindPlugin:
		return "plugin"
	case KindMarketplace:
		return "marketplace"
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (k ManifestKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Report is the result of validating a plugin or marketplace directory. Issues of
// [policy.SeverityError] are what `claude plugin validate` fails on; warnings are what it
// warns about; [policy.SeverityInfo] issues are this package's own advice (such as a
// version that is not semver), which the CLI does not report.
type Report struct {
	// Kind says which manifest was validated.
	Kind ManifestKind
	// Plugin is the parsed plugin.json (partial when invalid), for [KindPlugin].
	Plugin *Manifest
	// Marketplace is the parsed marketplace.json (partial when invalid), for
	// [KindMarketplace].
	Marketplace *MarketplaceManifest
	// Issues lists every finding; paths are JSON paths such as `plugins[0].source`.
	Issues policy.Issues
}

// OK reports whether there is no error.
func (r Report) OK() bool { return r.Issues.Count(policy.SeverityError) == 0 }

// Err joins the errors (nil when OK); each unwraps to [ErrManifest] or [ErrNoManifest].
func (r Report) Err() error { return r.Issues.Err() }

// ValidateDir validates the plugin or marketplace in fsys (its root holds .claude-plugin/),
// as `claude plugin validate <dir>` does: the manifest's schema, name rules, sources, and
// that component paths exist. A marketplace's local plugins are validated too, their
// findings prefixed with "plugins[i] plugin.json → ".
func ValidateDir(fsys fs.FS) Report {
	if data, err := readLimited(fsys, MarketplaceManifestPath); err == nil {
		m, issues := ParseMarketplace(data)
		r := Report{Kind: KindMarketplace, Marketplace: m, Issues: issues}
		if m != nil {
			r.Issues = dropAdvice(append(r.Issues, checkLocalPlugins(fsys, m)...))
		}
		return r
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Report{Kind: KindMarketplace, Issues: policy.Issues{manifestErr("json", "%v", err)}}
	}
	data, err := readLimited(fsys, PluginManifestPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Report{Issues: policy.Issues{{Severity: policy.SeverityError, Path: "directory", Err: ErrNoManifest,
			Message: "no manifest found: expected " + MarketplaceManifestPath + " or " + PluginManifestPath}}}
	}
	if err != nil {
		return Report{Kind: KindPlugin, Issues: policy.Issues{manifestErr("json", "%v", err)}}
	}
	m, issues := ParseManifest(data)
	r := Report{Kind: KindPlugin, Plugin: m, Issues: issues}
	if m != nil {
		r.Issues = dropAdvice(append(r.Issues, checkPaths(fsys, m)...))
	}
	return r
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxManifestBytes {
		return nil, fmt.Errorf("%s is %d bytes, limit %d", name, st.Size(), MaxManifestBytes)
	}
	return fs.ReadFile(fsys, name)
}

func manifestErr(p, format string, args ...any) policy.Issue {
	return policy.Issue{Severity: policy.SeverityError, Path: p, Err: ErrManifest, Message: fmt.Sprintf(format, args...)}
}

func manifestWarn(p, format string, args ...any) policy.Issue {
	return policy.Issue{Severity: policy.SeverityWarning, Path: p, Err: ErrManifest, Message: fmt.Sprintf(format, args...)}
}

// manifestAdvice is an advisory warning (missing metadata, unknown fields). Like the CLI,
// advice is only given for manifests without errors.
func manifestAdvice(p, format string, args ...any) policy.Issue {
	return policy.Issue{Severity: policy.SeverityWarning, Path: p, Err: ErrAdvice, Message: fmt.Sprintf(format, args...)}
}

// Errors found after the schema check; they wrap ErrManifest but do not suppress advice.
var (
	errDuplicateName = fmt.Errorf("%w: duplicate plugin name", ErrManifest)
	errPathNotFound  = fmt.Errorf("%w: path not found", ErrManifest)
)

// dropAdvice removes advisory warnings when the manifest fails its schema.
func dropAdvice(is policy.Issues) policy.Issues {
	if !slices.ContainsFunc(is, func(i policy.Issue) bool { return i.Severity == policy.SeverityError && i.Err == ErrManifest }) {
		return is
	}
	return slices.DeleteFunc(is, func(i policy.Issue) bool { return i.Err == ErrAdvice })
}

func manifestInfo(p, format string, args ...any) policy.Issue {
	return policy.Issue{Severity: policy.SeverityInfo, Path: p, Err: ErrManifest, Message: fmt.Sprintf(format, args...)}
}

// decodeObject parses JSON into a generic object, reporting syntax errors at path "json"
// and a non-object root at "root".
func decodeObject(data []byte) (map[string]any, policy.Issues) {
	if len(data) > MaxManifestBytes {
		return nil, policy.Issues{manifestErr("json", "manifest is %d bytes, limit %d", len(data), MaxManifestBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, policy.Issues{manifestErr("json", "invalid JSON syntax: %v", err)}
	}
	if _, err := dec.Token(); err == nil {
		return nil, policy.Issues{manifestErr("json", "invalid JSON syntax: data after the top-level value")}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, policy.Issues{manifestErr("root", "manifest must be an object")}
	}
	return obj, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// field reads an optional string field; it reports a wrong type.
func strField(obj map[string]any, key, p string, out *policy.Issues) (string, bool) {
	v, ok := obj[key]
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		*out = append(*out, manifestErr(p, "expected string, received %s", typeName(v)))
		return "", false
	}
	return s, true
}

var (
	kebabRE  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	idRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
)

var pluginFields = []string{"$schema", "name", "version", "description", "author", "homepage", "repository", "license",
	"keywords", "commands", "agents", "skills", "outputStyles", "hooks", "mcpServers", "lspServers", "icon", "category", "tags"}

// ParseManifest parses and checks a plugin.json: name (required; no spaces; kebab-case
// advised), version, description and author (warned when missing), field types, and
// component paths (relative "./…", no "..", agents ending in ".md"). It does not look at the
// file system; [ValidateDir] also checks that the paths exist.
func ParseManifest(data []byte) (*Manifest, policy.Issues) {
	obj, out := decodeObject(data)
	if obj == nil {
		return nil, out
	}
	m := &Manifest{}
	if v, ok := obj["name"]; !ok {
		out = append(out, manifestErr("name", "expected string, received undefined"))
	} else if s, ok := v.(string); !ok {
		out = append(out, manifestErr("name", "expected string, received %s", typeName(v)))
	} else {
		m.Name = s
		switch {
		case s == "":
			out = append(out, manifestErr("name", "plugin name cannot be empty"))
		case strings.ContainsAny(s, " \t\r\n"):
			out = append(out, manifestErr("name", "plugin name cannot contain spaces; use kebab-case (e.g. \"my-plugin\")"))
		case !kebabRE.MatchString(s):
			out = append(out, manifestWarn("name", "plugin name %q is not kebab-case; the Claude.ai marketplace sync requires lowercase letters, digits and hyphens", s))
		}
	}
	if s, ok := strField(obj, "version", "version", &out); ok {
		m.Version = s
		if !semverRE.MatchString(s) {
			out = append(out, manifestInfo("version", "version %q is not semver (MAJOR.MINOR.PATCH)", s))
		}
	} else if _, present := obj["version"]; !present {
		out = append(out, manifestAdvice("version", "no version specified; consider semver such as \"1.0.0\""))
	}
	if s, ok := strField(obj, "description", "description", &out); ok {
		m.Description = s
	} else if _, present := obj["description"]; !present {
		out = append(out, manifestAdvice("description", "no description provided"))
	}
	if v, ok := obj["author"]; !ok {
		out = append(out, manifestAdvice("author", "no author information provided"))
	} else {
		m.Author = parseAuthor(v, "author", &out)
	}
	m.Homepage, _ = strField(obj, "homepage", "homepage", &out)
	m.License, _ = strField(obj, "license", "license", &out)
	if v, ok := obj["repository"]; ok {
		switch r := v.(type) {
		case string:
			m.Repository = r
		case map[string]any:
			m.Repository, _ = r["url"].(string)
		default:
			out = append(out, manifestErr("repository", "expected string, received %s", typeName(v)))
		}
	}
	if v, ok := obj["keywords"]; ok {
		arr, isArr := v.([]any)
		if !isArr {
			out = append(out, manifestErr("keywords", "expected array, received %s", typeName(v)))
		}
		for i, k := range arr {
			if s, ok := k.(string); ok {
				m.Keywords = append(m.Keywords, s)
			} else {
				out = append(out, manifestErr("keywords["+strconv.Itoa(i)+"]", "expected string, received %s", typeName(k)))
			}
		}
	}
	m.Commands = pathList(obj, "commands", "", &out)
	m.Agents = pathList(obj, "agents", ".md", &out)
	m.Skills = pathList(obj, "skills", "", &out)
	m.OutputStyles = pathList(obj, "outputStyles", "", &out)
	m.HookFiles = configList(obj, "hooks", &out)
	m.MCPServerFiles = configList(obj, "mcpServers", &out)
	m.LSPServerFiles = configList(obj, "lspServers", &out)
	out = append(out, unknownFields(obj, pluginFields, "")...)
	return m, dropAdvice(out)
}

func parseAuthor(v any, p string, out *policy.Issues) *Author {
	obj, ok := v.(map[string]any)
	if !ok {
		*out = append(*out, manifestErr(p, "expected object, received %s", typeName(v)))
		return nil
	}
	a := &Author{}
	if n, ok := obj["name"]; !ok {
		*out = append(*out, manifestErr(p+".name", "expected string, received undefined"))
	} else if s, ok := n.(string); !ok {
		*out = append(*out, manifestErr(p+".name", "expected string, received %s", typeName(n)))
	} else {
		a.Name = s
	}
	a.Email, _ = strField(obj, "email", p+".email", out)
	a.URL, _ = strField(obj, "url", p+".url", out)
	return a
}

// pathList reads a component path field: a string or an array of strings, each relative
// ("./…"), without "..", and ending in suffix when given. Schema problems are reported at
// the field, traversal at the element, as the CLI does.
func pathList(obj map[string]any, key, suffix string, out *policy.Issues) []string {
	v, ok := obj[key]
	if !ok {
		return nil
	}
	var items []any
	switch x := v.(type) {
	case string:
		items = []any{x}
	case []any:
		items = x
	default:
		*out = append(*out, manifestErr(key, "expected string or array of strings, received %s", typeName(v)))
		return nil
	}
	var paths []string
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			*out = append(*out, manifestErr(key, "expected string, received %s", typeName(it)))
			continue
		}
		valid := true
		if !strings.HasPrefix(s, "./") {
			*out = append(*out, manifestErr(key, "path %q must start with \"./\"", s))
			valid = false
		}
		if suffix != "" && !strings.HasSuffix(s, suffix) {
			*out = append(*out, manifestErr(key, "path %q must end with %q", s, suffix))
		}
		if slices.Contains(strings.Split(s, "/"), "..") {
			*out = append(*out, manifestErr(key+"["+strconv.Itoa(i)+"]", "path %q contains \"..\" (path traversal)", s))
			valid = false
		}
		if valid {
			paths = append(paths, s)
		}
	}
	return paths
}

// configList reads hooks, mcpServers or lspServers: a path, an inline object, or an array
// of those. It returns the paths.
func configList(obj map[string]any, key string, out *policy.Issues) []string {
	v, ok := obj[key]
	if !ok {
		return nil
	}
	items, isArr := v.([]any)
	if !isArr {
		items = []any{v}
	}
	var paths []string
	for i, it := range items {
		switch x := it.(type) {
		case map[string]any:
		case string:
			switch {
			case !strings.HasPrefix(x, "./"):
				*out = append(*out, manifestErr(key, "path %q must start with \"./\"", x))
			case slices.Contains(strings.Split(x, "/"), ".."):
				*out = append(*out, manifestErr(key+"["+strconv.Itoa(i)+"]", "path %q contains \"..\" (path traversal)", x))
			default:
				paths = append(paths, x)
			}
		default:
			*out = append(*out, manifestErr(key, "expected a path or an object, received %s", typeName(it)))
		}
	}
	return paths
}

func unknownFields(obj map[string]any, known []string, prefix string) policy.Issues {
	var keys []string
	for k := range obj {
		if !slices.Contains(known, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out policy.Issues
	for _, k := range keys {
		name := k
		if name == "" {
			name = `""` // keep the path non-empty
		}
		out = append(out, manifestAdvice(prefix+name, "unknown field %q; Claude Code ignores it", k))
	}
	return out
}

// checkPaths reports component paths that do not exist in fsys, at the element.
func checkPaths(fsys fs.FS, m *Manifest) policy.Issues {
	var out policy.Issues
	check := func(key string, list []string) {
		for i, p := range list {
			name := path.Clean(strings.TrimPrefix(p, "./"))
			if _, err := fs.Stat(fsys, name); err != nil {
				out = append(out, policy.Issue{Severity: policy.SeverityError, Path: key + "[" + strconv.Itoa(i) + "]", Err: errPathNotFound,
					Message: "path not found: " + p})
			}
		}
	}
	check("commands", m.Commands)
	check("agents", m.Agents)
	check("skills", m.Skills)
	check("outputStyles", m.OutputStyles)
	check("hooks", m.HookFiles)
	check("mcpServers", m.MCPServerFiles)
	check("lspServers", m.LSPServerFiles)
	return out
}

var (
	marketplaceFields = []string{"$schema", "name", "owner", "plugins", "metadata", "description", "version"}
	entryFields       = []string{"name", "source", "description", "version", "author", "homepage", "repository", "license",
		"keywords", "category", "tags", "strict", "commands", "agents", "skills", "outputStyles", "hooks", "mcpServers", "lspServers"}
)

// ParseMarketplace parses and checks a marketplace.json: name and owner.name (required),
// plugins (required array; each with a unique name and a valid source), name rules for the
// marketplace and its entries (usable in a plugin@marketplace id), and advisory warnings.
func ParseMarketplace(data []byte) (*MarketplaceManifest, policy.Issues) {
	obj, out := decodeObject(data)
	if obj == nil {
		return nil, out
	}
	m := &MarketplaceManifest{}
	if v, ok := obj["name"]; !ok {
		out = append(out, manifestErr("name", "expected string, received undefined"))
	} else if s, ok := v.(string); !ok {
		out = append(out, manifestErr("name", "expected string, received %s", typeName(v)))
	} else {
		m.Name = s
		out = append(out, checkID("name", "marketplace", s)...)
	}
	if v, ok := obj["owner"]; !ok {
		out = append(out, manifestErr("owner", "expected object, received undefined"))
	} else if a := parseAuthor(v, "owner", &out); a != nil {
		m.Owner = *a
	}
	desc, hasDesc := strField(obj, "description", "description", &out)
	m.Description = desc
	if meta, ok := obj["metadata"].(map[string]any); ok {
		if d, ok := meta["description"].(string); ok && !hasDesc {
			m.Description, hasDesc = d, true
		}
	}
	entries, ok := obj["plugins"]
	arr, isArr := entries.([]any)
	switch {
	case !ok:
		out = append(out, manifestErr("plugins", "expected array, received undefined"))
	case !isArr:
		out = append(out, manifestErr("plugins", "expected array, received %s", typeName(entries)))
	case len(arr) == 0:
		out = append(out, manifestAdvice("plugins", "marketplace has no plugins defined"))
	}
	if !hasDesc {
		out = append(out, manifestAdvice("description", "no marketplace description provided"))
	}
	names := map[string][]int{}
	for i, e := range arr {
		p := "plugins[" + strconv.Itoa(i) + "]"
		eo, ok := e.(map[string]any)
		if !ok {
			out = append(out, manifestErr(p, "expected object, received %s", typeName(e)))
			continue
		}
		var me MarketplaceEntry
		if v, ok := eo["name"]; !ok {
			out = append(out, manifestErr(p+".name", "expected string, received undefined"))
		} else if s, ok := v.(string); !ok {
			out = append(out, manifestErr(p+".name", "expected string, received %s", typeName(v)))
		} else {
			me.Name = s
			names[s] = append(names[s], i)
			out = append(out, checkID(p+".name", "plugin", s)...)
		}
		me.Description, _ = strField(eo, "description", p+".description", &out)
		me.Version, _ = strField(eo, "version", p+".version", &out)
		me.Source = parseSource(eo, p+".source", &out)
		out = append(out, unknownFields(eo, entryFields, p+".")...)
		m.Plugins = append(m.Plugins, me)
	}
	var dupNames []string
	for n, idx := range names {
		if len(idx) > 1 {
			dupNames = append(dupNames, n)
		}
	}
	slices.Sort(dupNames)
	for _, n := range dupNames {
		for _, i := range names[n] {
			out = append(out, policy.Issue{Severity: policy.SeverityError, Path: "plugins[" + strconv.Itoa(i) + "].name", Err: errDuplicateName,
				Message: fmt.Sprintf("duplicate plugin name %q in marketplace", n)})
		}
	}
	out = append(out, unknownFields(obj, marketplaceFields, "")...)
	return m, dropAdvice(out)
}

// checkID applies the name rules of a marketplace or plugin entry: no spaces; usable in a
// plugin@marketplace id (letters, digits, ".", "_", "-", starting alphanumeric); at most 128
// characters for Claude Desktop.
func checkID(p, what, s string) policy.Issues {
	var out policy.Issues
	if s == "" {
		return append(out, manifestErr(p, "%s name cannot be empty", what))
	}
	if strings.ContainsAny(s, " \t\r\n") {
		out = append(out, manifestErr(p, "%s name cannot contain spaces; use kebab-case", what))
	}
	if !idRE.MatchString(s) {
		out = append(out, manifestErr(p, "Claude Code cannot install from %s name %q: use letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit", what, s))
	}
	if !idRE.MatchString(s) || len(s) > 128 {
		out = append(out, manifestWarn(p, "%s name %q is not accepted by Claude Desktop (letters, digits, \".\", \"_\", \"-\"; at most 128 characters)", what, s))
	}
	return out
}

func parseSource(eo map[string]any, p string, out *policy.Issues) PluginSource {
	v, ok := eo["source"]
	if !ok {
		*out = append(*out, manifestErr(p, "source is required"))
		return PluginSource{}
	}
	switch x := v.(type) {
	case string:
		bad := false
		if slices.Contains(strings.Split(x, "/"), "..") {
			*out = append(*out, manifestErr(p, "path %q contains \"..\"; sources are relative to the marketplace root", x))
			bad = true
		}
		if !strings.HasPrefix(x, "./") {
			*out = append(*out, manifestErr(p, "path %q must start with \"./\"", x))
			bad = true
		}
		if bad {
			return PluginSource{}
		}
		return PluginSource{Kind: SourcePath, Path: x}
	case map[string]any:
		str := func(k string) string { s, _ := x[k].(string); return s }
		src := PluginSource{Repo: str("repo"), URL: str("url"), Ref: str("ref"), Package: str("package"), Path: str("path")}
		switch str("source") {
		case "github":
			src.Kind = SourceGitHub
			if src.Repo == "" {
				*out = append(*out, manifestErr(p, "github source needs \"repo\""))
			}
		case "url":
			src.Kind = SourceURL
			if src.URL == "" {
				*out = append(*out, manifestErr(p, "url source needs \"url\""))
			}
		case "git-subdir":
			src.Kind = SourceGitSubdir
			if src.URL == "" || src.Path == "" {
				*out = append(*out, manifestErr(p, "git-subdir source needs \"url\" and \"path\""))
			}
		case "npm":
			src.Kind = SourceNPM
			if src.Package == "" {
				*out = append(*out, manifestErr(p, "npm source needs \"package\""))
			}
		default:
			*out = append(*out, manifestErr(p, "unknown source type %q; use github, url, git-subdir or npm", str("source")))
		}
		return src
	}
	*out = append(*out, manifestErr(p, "expected a path or a source object, received %s", typeName(v)))
	return PluginSource{}
}

// checkLocalPlugins validates the plugin.json of each local ("./…") entry that has one.
func checkLocalPlugins(fsys fs.FS, m *MarketplaceManifest) policy.Issues {
	var out policy.Issues
	for i, e := range m.Plugins {
		if e.Source.Kind != SourcePath {
			continue
		}
		dir := path.Clean(strings.TrimPrefix(e.Source.Path, "./"))
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			continue
		}
		if _, err := fs.Stat(sub, PluginManifestPath); err != nil {
			if _, err := fs.Stat(fsys, dir); err != nil {
				out = append(out, manifestWarn("plugins["+strconv.Itoa(i)+"].source", "local plugin directory %s not found", e.Source.Path))
			}
			continue
		}
		r := ValidateDir(sub)
		for _, is := range r.Issues {
			is.Path = "plugins[" + strconv.Itoa(i) + "] plugin.json → " + is.Path
			out = append(out, is)
		}
	}
	return out
}
