package redact

import "strings"

// word is one shell word of a command line: s[start:end] is its raw text, quotes included;
// [vs, ve) is the part inside quotes when the whole word is one quoted string.
type word struct {
	start, end int
	vs, ve     int
	op         bool // a control operator (| || && ; &), a newline, or $( ` ( ) around a command
}

// shellWords splits a command line into words the way a POSIX shell does for quoting
// purposes: whitespace separates words, '…' and "…" group, backslash escapes one byte.
// It never fails: an unterminated quote runs to the end of the text. It appends to out.
func shellWords(s string, out []word) []word {
	i, open := 0, 0 // open: $( and ( not yet closed
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' {
			i++
			continue
		}
		if c == '\n' { // ends a command, as ';' does
			out = append(out, word{start: i, end: i + 1, vs: i, ve: i + 1, op: true})
			i++
			continue
		}
		if c == '`' || c == '(' || c == ')' || c == '$' && i+1 < len(s) && s[i+1] == '(' {
			// A command substitution or subshell starts or ends: $(…), `…`, (…).
			j := i + 1
			switch c {
			case '$':
				j++
				open++
			case '(':
				open++
			case ')':
				open = max(open-1, 0)
			}
			out = append(out, word{start: i, end: j, vs: i, ve: j, op: true})
			i = j
			continue
		}
		if c == '|' || c == ';' || c == '&' {
			j := i + 1
			for j < len(s) && (s[j] == '|' || s[j] == '&') {
				j++
			}
			out = append(out, word{start: i, end: j, vs: i, ve: j, op: true})
			i = j
			continue
		}
		w := word{start: i}
		for i < len(s) {
			c = s[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|' || c == ';' || c == '&' || c == '`' ||
				c == ')' && open > 0 || c == '$' && i+1 < len(s) && s[i+1] == '(' {
				break
			}
			switch c {
			case '\\':
				i += 2
				continue
			case '\'':
				e := strings.IndexByte(s[i+1:], c)
				if e < 0 {
					i = len(s)
				} else {
					i += e + 2
				}
				continue
			case '"':
				i = doubleQuoteEnd(s, i+1)
				continue
			}
			i++
		}
		if i > len(s) {
			i = len(s)
		}
		w.end = i
		w.vs, w.ve = w.start, w.end
		if raw := s[w.start:w.end]; len(raw) >= 2 && (raw[0] == '\'' || raw[0] == '"') && raw[len(raw)-1] == raw[0] {
			w.vs, w.ve = w.start+1, w.end-1
		}
		out = append(out, w)
	}
	return out
}

// doubleQuoteEnd returns the index after the '"' that closes the double-quoted string whose
// text starts at s[i]: a backslash escapes the byte after it, as it does in the shell. An
// unterminated string runs to the end.
func doubleQuoteEnd(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i + 1
		}
		i++
	}
	return len(s)
}

// secretFlags are long options whose value is a credential.
var secretFlags = []string{"password", "passwd", "pass", "token", "api-key", "apikey", "api-token", "access-token", "auth-token",
	"secret", "client-secret", "secret-key", "access-key", "secret-access-key", "private-token", "bearer", "oauth-token",
	"http-password", "proxy-password", "ftp-password", "registry-password", "db-password", "admin-password", "master-password",
	"github-token", "npm-token", "auth", "credentials", "session-token", "webhook-secret", "encryption-key", "license-key"}

// shortPasswordFlag lists programs whose -p (or -a for redis-cli) takes a password.
var shortPasswordFlag = map[string]byte{
	"mysql": 'p', "mysqldump": 'p', "mysqladmin": 'p', "mariadb": 'p', "mariadb-dump": 'p', "docker": 'p', "podman": 'p',
	"sshpass": 'p', "mongo": 'p', "mongosh": 'p', "mongodump": 'p', "mongorestore": 'p', "redis-cli": 'a', "buildah": 'p',
	"skopeo": 'p', "nerdctl": 'p', "helm": 'p', "oras": 'p', "crane": 'p', "oc": 'p', "az": 'p',
}

// loginOnly programs take -p as a password only in their login subcommand.
var loginOnly = map[string]bool{"docker": true, "podman": true, "buildah": true, "skopeo": true, "nerdctl": true, "helm": true, "oras": true, "crane": true,
	"oc": true, "az": true}

// A programFlag is an option of one program whose value holds a credential, in one of the
// value forms below. A one-letter option takes its value glued (-Psecret) or as the next word;
// a longer one (keytool -storepass) as the next word.
type programFlag struct {
	flag string
	form byte
}

// The value forms of programFlag: the whole value, glued or next; only the value glued to the
// option (7z's -p, whose next word is an archive); only the next word (openssl's -k, as
// -kfile is another option); openssl's pass:SECRET (env:, file: and stdin name where
// the password is), or a user and password joined by ':', '%' (Samba) or ',' (lftp).
const (
	formValue byte = iota
	formGlued
	formNext
	formOpenSSL
	formUserColon
	formUserPercent
	formUserComma
)

// programFlags are the options, per program, whose value is a credential, beyond secretFlags
// (--password and its kind, any program) and shortPasswordFlag (-p).
var programFlags = func() map[string][]programFlag {
	m := map[string][]programFlag{
		"sqlcmd": {{"-P", formValue}}, "bcp": {{"-P", formValue}}, "sqsh": {{"-P", formValue}}, "ipmitool": {{"-P", formValue}},
		"zip": {{"-P", formValue}}, "unzip": {{"-P", formValue}}, "mosquitto_pub": {{"-P", formValue}}, "mosquitto_sub": {{"-P", formValue}},
		"cqlsh": {{"-p", formValue}}, "psexec": {{"-p", formValue}}, "evil-winrm": {{"-p", formValue}}, "hdbsql": {{"-p", formValue}},
		"rabbitmqadmin": {{"-p", formValue}}, "couchbase-cli": {{"-p", formValue}}, "vsql": {{"-w", formValue}},
		"influx": {{"-password", formValue}},
		"keytool": {{"-storepass", formValue}, {"-keypass", formValue}, {"-srcstorepass", formValue}, {"-deststorepass", formValue},
			{"-srckeypass", formValue}, {"-destkeypass", formValue}, {"-new", formValue}},
		"jarsigner": {{"-storepass", formValue}, {"-keypass", formValue}},
		"openssl":   {{"-passout", formOpenSSL}, {"-passin", formOpenSSL}, {"-pass", formOpenSSL}, {"-password", formOpenSSL}, {"-k", formNext}},
		"lftp":      {{"-u", formUserComma}},
		"curl":      {{"-U", formUserColon}},
		"http":      {{"-a", formUserColon}}, "https": {{"-a", formUserColon}}, "xh": {{"-a", formUserColon}},
	}
	for _, p := range []string{"7z", "7za", "7zz", "7zr"} {
		m[p] = []programFlag{{"-p", formGlued}}
	}
	for _, p := range []string{"ldapsearch", "ldapadd", "ldapmodify", "ldapdelete", "ldapwhoami", "ldappasswd", "ldapcompare", "ldapmodrdn", "ldapexop"} {
		m[p] = []programFlag{{"-w", formValue}}
	}
	for _, p := range []string{"smbclient", "rpcclient", "smbget", "smbcacls", "smbcquotas", "mount.cifs"} {
		m[p] = []programFlag{{"-U", formUserPercent}}
	}
	return m
}()

// programFlagValue reports the credential of option ws[i] of prog when programFlags lists it,
// and returns the index of the last word it used.
func programFlagValue(s string, ws []word, i int, prog string, out []span) ([]span, int, bool) {
	raw := s[ws[i].start:ws[i].end]
	for _, f := range programFlags[prog] {
		if !strings.HasPrefix(raw, f.flag) {
			continue
		}
		if len(raw) > len(f.flag) { // glued: only one-letter options
			if len(f.flag) != 2 || f.form == formNext {
				continue
			}
			return credential(s, ws[i].start+2, ws[i].end, f.form, out), i, true
		}
		if f.form == formGlued || i+1 >= len(ws) || ws[i+1].op {
			return out, i, true
		}
		return credential(s, ws[i+1].vs, ws[i+1].ve, f.form, out), i + 1, true
	}
	return out, i, false
}

// credential reports the secret of the value s[vs:ve] in form.
func credential(s string, vs, ve int, form byte, out []span) []span {
	if ve-vs >= 2 && (s[vs] == '"' || s[vs] == '\'') && s[ve-1] == s[vs] {
		vs, ve = vs+1, ve-1
	}
	switch form {
	case formOpenSSL:
		if ve-vs < 5 || s[vs:vs+5] != "pass:" {
			return out
		}
		vs += 5
	case formUserColon:
		return userPass(s, vs, ve, ':', out)
	case formUserPercent:
		return userPass(s, vs, ve, '%', out)
	case formUserComma:
		return userPass(s, vs, ve, ',', out)
	}
	if ve-vs >= 3 && !isPlaceholder(s[vs:ve]) {
		out = append(out, span{vs, ve, DetectorCommandLine})
	}
	return out
}

// curlNoArg are curl's one-letter options that take no argument, which may come bundled
// before -u (curl -sSfu user:password).
const curlNoArg = "sSfLkvigGInNqjJlOpRZ0123456#:"

// bundledUser returns the index of 'u' in a bundle of curl's one-letter options (-sSfu,
// -su), or -1: the options before it take no argument, so what follows it is its value.
func bundledUser(raw string) int {
	for k := 1; k < len(raw); k++ {
		if raw[k] == 'u' {
			if k == 1 {
				return -1 // plain -u, read as before
			}
			return k
		}
		if strings.IndexByte(curlNoArg, raw[k]) < 0 {
			return -1
		}
	}
	return -1
}

// userPassPrograms take "-u user:password" (curl) or "--user user:password".
var userPassPrograms = map[string]bool{"curl": true, "http": true, "https": true, "xh": true}

// cmdKeywordMask gates findCommandLine: one of these words must occur (case-insensitively).
var cmdKeywordMask = func() uint64 {
	var m uint64
	for _, k := range []string{"pass", "token", "secret", "key", " -p", " -u", " -a", " -b", " -w", "curl", "securestring", "export ", "set ", "auth", "cred", "bearer", "cookie", "-user",
		"sqlplus", "rman", "expdp", "impdp", "sqlldr", "userid=", "psk"} {
		m |= kwBit(k)
	}
	return m
}()

// findCommandLine tokenises a command line and reports the values of secret flags
// (--password x, --token=x, -p x for mysql/docker…, -pSECRET for mysql, curl -u user:pass) and
// of sensitive variables set with export/env/set. The program name and flag names are kept.
// The program may come after wrappers and their options (sudo -u root, timeout 10, ssh host),
// inside a command given to a shell or ssh (bash -c '…'), or after the program that runs it
// (docker exec db mysql …).
func findCommandLine(t *scanText, out []span) []span {
	if t.keywordsIn()&cmdKeywordMask == 0 {
		return out
	}
	return commandLine(t.s, out, 0)
}

// runByOthersFilter has bit n of entry c set when a name of runByOthers starts with c and
// has n bytes: most words are ruled out without hashing them.
var runByOthersFilter = func() (t [256]uint32) {
	for p := range runByOthers {
		t[p[0]] |= 1 << len(p)
	}
	return t
}()

// runByOther returns the program that the command word raw names when it is one of
// runByOthers.
func runByOther(raw string) (string, bool) {
	if len(raw) > 40 || raw[0] == '-' {
		return "", false
	}
	p := programName(raw)
	if len(p) < 2 || len(p) > 31 || runByOthersFilter[p[0]]&(1<<len(p)) == 0 {
		return "", false
	}
	return p, runByOthers[p]
}

// wrapper is a program that runs another one named after its own options and arguments
// (sudo -u root mysql …, timeout 10 mysql …, ssh host mysql …).
type wrapper struct {
	argFlags   string // short options that take the next word as their argument
	positional int    // arguments before the program (timeout's duration, ssh's host)
}

var wrappers = map[string]wrapper{
	"sudo": {"ugChpDrtUT", 0}, "doas": {"uC", 0}, "env": {"uSC", 0}, "command": {}, "exec": {"a", 0}, "time": {"fo", 0},
	"nohup": {}, "timeout": {"sk", 1}, "nice": {"n", 0}, "ionice": {"cnp", 0}, "stdbuf": {"ioe", 0}, "xargs": {"IinPLdEsa", 0},
	"watch": {"n", 0}, "strace": {"opesuE", 0}, "ltrace": {"opesuE", 0}, "chronic": {}, "unbuffer": {}, "caffeinate": {"tw", 0},
	"torsocks": {}, "proxychains": {"f", 0}, "proxychains4": {"f", 0}, "runuser": {"ugl", 0}, "chpst": {"ugUn", 0},
	"ssh":  {"BbcDEeFIiJLlmOoPpQRSWw", 1},
	"eval": {}, "cmd": {"", 1}, // cmd /c …
}

// shells run the command line given after -c (bash -c 'mysql -p…', su -c '…').
var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "fish": true, "su": true, "busybox": true,
	"pwsh": true, "powershell": true}

// maxCommandNesting bounds how deep command lines inside command lines are read.
const maxCommandNesting = 3

// programName is the base name of a command word (/usr/bin/mysql → mysql, mysql.exe → mysql).
func programName(raw string) string {
	for k := len(raw) - 1; k >= 0; k-- {
		if raw[k] == '/' || raw[k] == '\\' {
			raw = raw[k+1:]
			break
		}
	}
	return strings.TrimSuffix(raw, ".exe")
}

// runByOthers are the programs findCommandLine reads after another program that runs them
// (docker exec db mysql -p…, kubectl exec pod -- sh -c '…'): shells, password-flag programs
// that take -p outside a login subcommand, curl, and Oracle's tools but exp and imp, whose
// names are common words.
var runByOthers = func() map[string]bool {
	m := map[string]bool{"curl": true}
	for p := range oracleTools {
		if p != "exp" && p != "imp" {
			m[p] = true
		}
	}
	for p := range shells {
		m[p] = true
	}
	for p := range shortPasswordFlag {
		if !loginOnly[p] {
			m[p] = true
		}
	}
	return m
}()

// skipWrapper returns the index of the last word of the wrapper at ws[i] and its options
// and arguments: the program it runs is the word after.
func skipWrapper(s string, ws []word, i int, wr wrapper) int {
	j, pos := i+1, wr.positional
	for ; j < len(ws) && !ws[j].op; j++ {
		r := s[ws[j].start:ws[j].end]
		if r == "--" {
			return j
		}
		if strings.HasPrefix(r, "-") && len(r) > 1 {
			if len(r) == 2 && strings.IndexByte(wr.argFlags, r[1]) >= 0 {
				j++
			}
			continue
		}
		if pos == 0 {
			break
		}
		pos--
	}
	return j - 1
}

// nested reports the secrets of the command line s[vs:ve], which stands inside another one
// (bash -c '…', ssh host '…'), at their place in s. Deeper than maxCommandNesting it is not
// read: it is removed whole if it holds a word that could start a secret (fail closed).
func nested(s string, vs, ve int, out []span, depth int) []span {
	if vs >= ve {
		return out
	}
	if depth >= maxCommandNesting {
		if keywordsOf(s[vs:ve])&cmdKeywordMask != 0 {
			out = append(out, span{vs, ve, DetectorCommandLine})
		}
		return out
	}
	n := len(out)
	inner := s[vs:ve]
	if vs > 0 && s[vs-1] == '"' && strings.IndexByte(inner, '\\') >= 0 {
		// In double quotes the shell removes the backslash before " \ $ and `, and the
		// command it runs is read without it (bash -c "sh -c \"mysql -p…\"").
		text, at := unescapeDouble(inner)
		out = commandLine(text, out, depth+1)
		for k := n; k < len(out); k++ {
			st, e := out[k].start, out[k].end
			out[k].start, out[k].end = vs+at[st], vs+at[st]
			if e > st {
				out[k].end = vs + at[e-1] + 1
			}
		}
		return out
	}
	out = commandLine(inner, out, depth+1)
	for k := n; k < len(out); k++ {
		out[k].start += vs
		out[k].end += vs
	}
	return out
}

// unescapeDouble returns the text of a double-quoted string s as the shell reads it, and
// for each of its bytes, and for its end, the offset in s it came from.
func unescapeDouble(s string) (string, []int) {
	b := make([]byte, 0, len(s))
	at := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
			i++
		}
		b = append(b, s[i])
		at = append(at, i)
	}
	return string(b), append(at, len(s))
}

// commandLine is findCommandLine over s, a command line at nesting depth depth.
func commandLine(s string, out []span, depth int) []span {
	var wb [64]word
	ws := shellWords(s, wb[:0])
	prog := ""
	login := false  // a "login" subcommand: docker login -p is a password, docker run -p a port
	setter := false // a "set"/"config" subcommand: a sensitive setting name is followed by its value
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if w.op {
			prog, login, setter = "", false, false
			continue
		}
		raw := s[w.start:w.end]
		if len(raw) == 22 && strings.EqualFold(raw, "ConvertTo-SecureString") {
			out, i = secureString(s, ws, i, out)
			continue
		}
		switch raw {
		case "login":
			login = true
		case "set", "config", "configure", "config:set":
			setter = true
		}
		if prog == "" {
			if wr, ok := wrappers[programName(raw)]; ok {
				i = skipWrapper(s, ws, i, wr)
				continue
			}
			if w.vs != w.start && strings.ContainsAny(s[w.vs:w.ve], " \t") {
				out = nested(s, w.vs, w.ve, out, depth) // a quoted command line: ssh host 'mysql -p…'
				continue
			}
			prog = programName(raw)
			if eq := strings.IndexByte(raw, '='); eq > 0 && isEnvName(raw[:eq]) {
				out = envAssign(s, w, eq, true, out)
				prog = ""
			}
			continue
		}
		if p, ok := runByOther(raw); ok && p != prog {
			// A program run by the one before: docker exec db mysql -p…, kubectl exec … -- sh -c '…'.
			prog, login, setter = p, false, false
			continue
		}
		switch {
		case (prog == "export" || prog == "set" || prog == "setx" || prog == "declare" || prog == "local" || prog == "readonly") && !strings.HasPrefix(raw, "-"):
			if eq := strings.IndexByte(raw, '='); eq > 0 {
				out = envAssign(s, w, eq, true, out)
			} else if prog == "setx" && i+1 < len(ws) && keyClass(raw) != 0 {
				out = flagValue(s, ws[i+1], DetectorCommandLine, out)
				i++
			}
		case oracleTools[prog] && logonAt(raw) >= 0 && (logonAt(raw) > 0 || logonPlace(s, ws, i, prog)):
			// sqlplus scott/tiger@orcl, rman target sys/pw@db, sqlldr userid=scott/tiger.
			out = oracleLogon(s, w.start+logonAt(raw), w.end, out)
		case prog == "nmcli" && nmcliSecret(raw) && i+1 < len(ws) && !ws[i+1].op:
			// nmcli dev wifi connect SSID password X, nmcli con modify x wifi-sec.psk X.
			out = flagValue(s, ws[i+1], DetectorCommandLine, out)
			i++
		case !strings.HasPrefix(raw, "-") && strings.IndexByte(raw, '=') > 0 && isEnvName(raw[:strings.IndexByte(raw, '=')]):
			// NAME=value anywhere: docker -e, vault kv put, heroku config:set, env files.
			out = envAssign(s, w, strings.IndexByte(raw, '='), false, out)
		case !strings.HasPrefix(raw, "-") && setter && keyClass(raw) != 0 && i+1 < len(ws) && !ws[i+1].op &&
			!strings.HasPrefix(s[ws[i+1].start:ws[i+1].end], "-"):
			// aws configure set aws_secret_access_key VALUE, git config …token VALUE.
			out = flagValue(s, ws[i+1], DetectorCommandLine, out)
			i++
		case strings.HasPrefix(raw, "--"):
			name, val, hasEq := strings.Cut(raw[2:], "=")
			lname := strings.ToLower(name)
			if lname == "cookie" && userPassPrograms[prog] {
				if hasEq {
					out = cookieArg(s, word{start: w.start + 3 + len(name), end: w.end}, out)
				} else if i+1 < len(ws) && !ws[i+1].op {
					out = cookieArg(s, ws[i+1], out)
					i++
				}
				continue
			}
			if hasEq {
				// --from-literal=password=VALUE, --build-arg=NPM_TOKEN=VALUE
				if eq := strings.IndexByte(val, '='); eq > 0 && isEnvName(val[:eq]) {
					out = envAssign(s, word{start: w.start + 3 + len(name), end: w.end}, eq, false, out)
					continue
				}
			}
			if !isSecretFlag(lname) {
				if (lname == "user" || lname == "proxy-user") && userPassPrograms[prog] {
					if hasEq {
						out = userPass(s, w.start+2+len(name)+1, w.end, ':', out)
					} else if i+1 < len(ws) {
						out = userPass(s, ws[i+1].vs, ws[i+1].ve, ':', out)
						i++
					}
				}
				continue
			}
			if hasEq {
				vs := w.start + 3 + len(name)
				ve := w.end
				if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
					vs, ve = vs+1, ve-1
				}
				if ve-vs >= 3 && !isPlaceholder(s[vs:ve]) {
					out = append(out, span{vs, ve, DetectorCommandLine})
				}
			} else if i+1 < len(ws) && !ws[i+1].op && !strings.HasPrefix(s[ws[i+1].start:ws[i+1].end], "-") {
				out = flagValue(s, ws[i+1], DetectorCommandLine, out)
				i++
			}
		case len(raw) >= 2 && raw[0] == '-' && raw[1] != '-':
			if o, j, ok := programFlagValue(s, ws, i, prog, out); ok {
				out, i = o, j
				continue
			}
			if prog == "htpasswd" && strings.IndexByte(raw, 'b') > 0 {
				out, i = htpasswdBatch(s, ws, i, out)
				continue
			}
			flag := raw[1]
			if shells[prog] && shellCommandFlag(prog, raw) && i+1 < len(ws) && !ws[i+1].op {
				out = nested(s, ws[i+1].vs, ws[i+1].ve, out, depth) // bash -c 'mysql -p…', bash -lc '…'
				i++
				continue
			}
			if pf, ok := shortPasswordFlag[prog]; ok && flag == pf && (login || !loginOnly[prog]) {
				if len(raw) > 2 {
					// mysql -pSECRET, docker login -pSECRET
					if len(raw)-2 >= 3 && !isPlaceholder(raw[2:]) {
						out = append(out, span{w.start + 2, w.end, DetectorCommandLine})
					}
				} else if len(raw) == 2 && i+1 < len(ws) && !ws[i+1].op && !strings.HasPrefix(s[ws[i+1].start:ws[i+1].end], "-") {
					out = flagValue(s, ws[i+1], DetectorCommandLine, out)
					i++
				}
			} else if flag == 'b' && len(raw) == 2 && userPassPrograms[prog] && i+1 < len(ws) && !ws[i+1].op {
				out = cookieArg(s, ws[i+1], out) // curl -b 'sid=…'
				i++
			} else if flag == 'u' && userPassPrograms[prog] {
				if len(raw) > 2 {
					out = userPass(s, w.start+2, w.end, ':', out) // curl -uadmin:secret
				} else if i+1 < len(ws) {
					out = userPass(s, ws[i+1].vs, ws[i+1].ve, ':', out)
					i++
				}
			} else if k := bundledUser(raw); k > 0 && userPassPrograms[prog] {
				if k+1 < len(raw) {
					out = userPass(s, w.start+k+1, w.end, ':', out) // curl -sSfuadmin:secret
				} else if i+1 < len(ws) && !ws[i+1].op {
					out = userPass(s, ws[i+1].vs, ws[i+1].ve, ':', out) // curl -sSfu admin:secret
					i++
				}
			}
		}
	}
	return out
}

func isSecretFlag(name string) bool {
	if strings.HasSuffix(name, "-file") || strings.HasSuffix(name, "-stdin") || strings.HasSuffix(name, "-path") || strings.HasSuffix(name, "-env") {
		return false
	}
	for _, f := range secretFlags {
		if name == f || strings.HasSuffix(name, "-"+f) {
			return true
		}
	}
	return false
}

func isEnvName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isAlnum(n[i]) && n[i] != '_' {
			return false
		}
	}
	return true
}

// envAssign reports the value of NAME=value when NAME is sensitive. An explicit environment
// assignment (export, a leading NAME=value) reports any real value of a token-like name;
// elsewhere such a value must look random (a password-like name always counts).
func envAssign(s string, w word, eq int, env bool, out []span) []span {
	name := s[w.start : w.start+eq]
	cls := keyClass(name)
	if cls == 0 {
		return out
	}
	vs, ve := w.start+eq+1, w.end
	if ve-vs >= 2 && (s[vs] == '"' || s[vs] == '\'') && s[ve-1] == s[vs] {
		vs, ve = vs+1, ve-1
	}
	if vs == w.start+eq+1 && ve < len(s) && s[ve] == ' ' && (singleToken(s[vs:ve]) || strings.EqualFold(s[vs:ve], "digest")) {
		return out // HTTP_AUTHORIZATION=Basic …: the header's credential, found as one
	}
	if ve-vs >= 3 && !isPlaceholder(s[vs:ve]) && !looksLikeIdentifier(s[vs:ve]) && (env || cls == 2 || looksRandom(s[vs:ve])) {
		out = append(out, span{vs, ve, DetectorCommandLine})
	}
	return out
}

func flagValue(s string, w word, d Detector, out []span) []span {
	if w.ve-w.vs >= 3 && !isPlaceholder(s[w.vs:w.ve]) {
		out = append(out, span{w.vs, w.ve, d})
	}
	return out
}

// cookieArg reports the cookies given to curl -b / --cookie: a word with name=value pairs
// (a word without '=' names a cookie file, which is kept).
func cookieArg(s string, w word, out []span) []span {
	vs, ve := w.start, w.end
	if ve-vs >= 2 && (s[vs] == '"' || s[vs] == '\'') && s[ve-1] == s[vs] {
		vs, ve = vs+1, ve-1
	}
	if v := s[vs:ve]; strings.IndexByte(v, '=') > 0 && len(v) >= 6 && !headerPlaceholder("cookie", v) {
		out = append(out, span{vs, ve, DetectorCommandLine})
	}
	return out
}

// userPass reports the password of a word of a user and a password joined by sep
// (user:password).
func userPass(s string, vs, ve int, sep byte, out []span) []span {
	if vs >= ve {
		return out
	}
	v := s[vs:ve]
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		vs, ve = vs+1, ve-1
		v = s[vs:ve]
	}
	c := strings.IndexByte(v, sep)
	if c < 0 || ve-(vs+c+1) < 1 || isPlaceholder(v[c+1:]) {
		return out
	}
	return append(out, span{vs + c + 1, ve, DetectorCommandLine})
}

// oracleTools take a logon, user/password[@connect], as an argument (sqlplus scott/tiger@orcl,
// rman target sys/pw@db catalog rco/pw@cat) or as the value of userid= (sqlldr
// userid=scott/tiger, exp userid=…).
var oracleTools = map[string]bool{"sqlplus": true, "rman": true, "expdp": true, "impdp": true, "sqlldr": true, "exp": true, "imp": true}

// logonAt returns where the Oracle logon in the argument raw starts: 0 for a word with a '/'
// before any '=' (scott/tiger@orcl, '/ as sysdba'), after "userid=" for that option, or -1.
func logonAt(raw string) int {
	if hasPrefixFold(raw, "userid=") {
		return len("userid=")
	}
	slash, eq := strings.IndexByte(raw, '/'), strings.IndexByte(raw, '=')
	if raw[0] == '-' || raw[0] == '@' || slash <= 0 || eq >= 0 && eq < slash {
		return -1
	}
	return 0
}

// logonPlace reports whether ws[i] stands where prog takes a logon: after the program and its
// options (sqlplus -s scott/tiger, sqlplus -M "HTML ON" scott/tiger) or after rman's target,
// catalog or auxiliary, not as a later argument ("sqlplus and/or rman" in a sentence).
func logonPlace(s string, ws []word, i int, prog string) bool {
	prev := s[ws[i-1].start:ws[i-1].end]
	switch {
	case programName(prev) == prog, prev[0] == '-':
		return true
	case prev[0] == '"' || prev[0] == '\'':
		return i >= 2 && s[ws[i-2].start] == '-'
	}
	return prog == "rman" && (strings.EqualFold(prev, "target") || strings.EqualFold(prev, "catalog") || strings.EqualFold(prev, "auxiliary"))
}

// oracleLogon reports the password of the Oracle logon s[vs:ve]: user/password, up to the
// '@' of the connect identifier (scott/tiger@//db:1521/XE) or a space ("sys/pw as sysdba"),
// or a quoted password, which may hold '@' (scott/"p@ss"@orcl). A logon without a user (/,
// /nolog, "/ as sysdba") holds no password.
func oracleLogon(s string, vs, ve int, out []span) []span {
	if ve-vs >= 2 && (s[vs] == '"' || s[vs] == '\'') && s[ve-1] == s[vs] {
		vs, ve = vs+1, ve-1
	}
	slash := strings.IndexByte(s[vs:ve], '/')
	if slash <= 0 || !oracleUser(s[vs:vs+slash]) {
		return out
	}
	ps := vs + slash + 1
	pe := ps
	if ps < ve && s[ps] == '"' {
		ps++
		if pe = strings.IndexByte(s[ps:ve], '"'); pe < 0 {
			return out
		}
		pe += ps
	} else {
		for pe < ve && s[pe] != '@' && s[pe] != ' ' {
			pe++
		}
	}
	if pe > ps && !isPlaceholder(s[ps:pe]) {
		out = append(out, span{ps, pe, DetectorCommandLine})
	}
	return out
}

// oracleUser reports whether u is an Oracle user name as a logon writes it: letters, digits,
// _ $ #, a quoted name, or a proxy user (app[hr]).
func oracleUser(u string) bool {
	for i := 0; i < len(u); i++ {
		if c := u[i]; !isAlnum(c) && strings.IndexByte(`_$#"[]`, c) < 0 {
			return false
		}
	}
	return u != ""
}

// nmcliSecret reports whether the nmcli argument raw names a secret whose value is the next
// word: device wifi connect's password, or a connection property (wifi-sec.psk,
// 802-1x.password, 802-1x.private-key-password, wifi-sec.wep-key0), also with '+' or '-'
// before it; not the properties about one (wifi-sec.psk-flags, wifi-sec.wep-key-type).
func nmcliSecret(raw string) bool {
	if len(raw) > 64 {
		return false
	}
	var lb [64]byte
	prop := string(lowerInto(lb[:0], strings.TrimLeft(raw, "+-")))
	if dot := strings.LastIndexByte(prop, '.'); dot >= 0 {
		prop = prop[dot+1:]
	}
	switch prop {
	case "password", "psk", "wep-key0", "wep-key1", "wep-key2", "wep-key3":
		return true
	}
	return strings.HasSuffix(prop, "-password")
}

// htpasswdBatch reports the password of htpasswd's batch mode (htpasswd -b[c…] FILE USER
// PASSWORD, or -nb USER PASSWORD) when the options at ws[i] include b, and returns the index
// of the last word it read.
func htpasswdBatch(s string, ws []word, i int, out []span) ([]span, int) {
	raw := s[ws[i].start:ws[i].end]
	if strings.IndexByte(raw, 'b') < 0 || !isLetters(raw[1:]) {
		return out, i
	}
	need := 3 // FILE USER PASSWORD
	if strings.IndexByte(raw, 'n') >= 0 {
		need = 2 // USER PASSWORD, printed instead of written
	}
	j := i + 1
	for ; j < len(ws) && !ws[j].op; j++ {
		if r := s[ws[j].start:ws[j].end]; strings.HasPrefix(r, "-") {
			if r == "-C" || r == "-r" {
				j++ // their argument: -C 10
			}
			continue // more options: htpasswd -b -B -C 10 …
		}
		if need--; need == 0 {
			return flagValue(s, ws[j], DetectorCommandLine, out), j
		}
	}
	return out, j - 1
}

// shellCommandFlag reports whether raw is the option of shell prog that takes a command line:
// -c, or a bundle with c (bash -lc); PowerShell's -Command or -c, in any case.
func shellCommandFlag(prog, raw string) bool {
	if prog == "pwsh" || prog == "powershell" {
		return strings.EqualFold(raw, "-c") || strings.EqualFold(raw, "-command")
	}
	return strings.IndexByte(raw[1:], 'c') >= 0 && isLetters(raw[1:])
}

// secureString reports the string given to PowerShell's ConvertTo-SecureString at ws[i] (its
// first argument, or -String's), a password in plain text with -AsPlainText, and returns the
// index of the last word it read.
func secureString(s string, ws []word, i int, out []span) ([]span, int) {
	for j := i + 1; j < len(ws) && !ws[j].op; j++ {
		r := s[ws[j].start:ws[j].end]
		if strings.EqualFold(r, "-String") && j+1 < len(ws) && !ws[j+1].op {
			return flagValue(s, ws[j+1], DetectorCommandLine, out), j + 1
		}
		if !strings.HasPrefix(r, "-") {
			return flagValue(s, ws[j], DetectorCommandLine, out), j
		}
	}
	return out, i
}
