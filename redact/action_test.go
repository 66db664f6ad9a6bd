package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGeneralizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/Users/jane.doe/Documents/competitive-intel/notes.txt", "~/Documents/competitive-intel/notes.txt"},
		{"/Users/jane.doe/Documents/a/b/c/notes.txt", "~/Documents/a/…/notes.txt"},
		{"/home/bob", "~"},
		{"/home/bob/", "~/"},
		{`C:\Users\carol\Desktop\x\y\z.xlsx`, `~\Desktop\x\…\z.xlsx`},
		{"/etc/nginx/conf.d/sites/default.conf", "/etc/nginx/…/default.conf"},
		{"/mnt/c/Users/jane/Documents/a/b/c.txt", "~/Documents/a/…/c.txt"},
		{"/c/Users/jane/x.txt", "~/x.txt"},
		{"/mnt/data/Users/jane/x.txt", "/mnt/data/…/x.txt"},
		{"relative/a/b/c/d", "relative/a/…/d"},
		{"notes.txt", "notes.txt"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := generalizePath(tt.in, 2)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, generalizePath(got, 2), "idempotent")
		})
	}
}

func TestActionsText(t *testing.T) {
	assert.Equal(t, "**** **** **** 1111", partial("4111 1111 1111 1111", 0, 4))
	assert.Equal(t, "**** **** **** 1111", partial("**** **** **** 1111", 0, 4))
	assert.Equal(t, "ab**", partial("abcd", 2, 0))
	assert.Equal(t, "***", partial("abc", 2, 2), "keeping more than the value has masks it all")
	assert.Equal(t, "***@acme.example", partialEmail("jane@acme.example"))
	assert.Equal(t, "[LEN:5]", lengthMarker("héllo"))
	assert.Equal(t, "[LEN:5]", lengthMarker("[LEN:5]"))
	assert.Equal(t, "héll…", truncate("héllo world", 4))
	assert.Equal(t, "héll…", truncate("héll…", 4))
	assert.Equal(t, "short", truncate("short", 32))
}

func TestPseudonym(t *testing.T) {
	h := newHasher("k1", testKey)
	a := h.pseudonym("email", "Jane@Acme.Example")
	assert.Equal(t, a, h.pseudonym("email", "jane@acme.example"))
	for _, escaped := range []string{"jane%40acme.example", `Jane\u0040acme.example`, "jane&#64;ACME.example", "jane%2540acme.example", `jane\\u0040acme.example`, "jane&#X40;acme.example", "jane&#064;acme.example"} {
		assert.Equal(t, a, h.pseudonym("email", escaped), "an escaped '@' is the same address")
	}
	assert.Regexp(t, `^email:k1:[0-9a-f]{16}$`, a)
	assert.Equal(t, a, h.pseudonym("email", a), "a pseudonym is not hashed again")
	assert.NotEqual(t, h.pseudonym("user", "jane"), h.pseudonym("email", "jane"))
	assert.NotEqual(t, a, newHasher("k1", []byte("another key of thirty-two bytes!")).pseudonym("email", "jane@acme.example"))
	assert.True(t, isPseudonym(newHasher("", testKey).pseudonym("user", "x")))
}

func TestShellWords(t *testing.T) {
	s := `curl -H 'Authorization: Bearer x' --data "a b" c\ d|grep x && echo "unterminated`
	var got []string
	for _, w := range shellWords(s, nil) {
		got = append(got, s[w.start:w.end])
	}
	assert.Equal(t, []string{"curl", "-H", "'Authorization: Bearer x'", "--data", `"a b"`, `c\ d`, "|", "grep", "x", "&&", "echo", `"unterminated`}, got)
}

func TestDetectorsTable(t *testing.T) {
	sc := newScanner(allDetectors)
	tests := []struct {
		text string
		want []string // "detector:match"
	}{
		{"ping 10.1.2.3 and 2001:db8::7", []string{"ipv4:10.1.2.3", "ipv6:2001:db8::7"}},
		{"version 10.1.2.3", nil},
		{"at 10:07:43 on 2026-11-24", nil},
		{"mysql -u root -pS3cretPass db", []string{"command_line:S3cretPass"}},
		{"docker run -p 8080:80 nginx", nil},
		{"docker login -p S3cretPass reg", []string{"command_line:S3cretPass"}},
		{"export API_TOKEN=$(vault read x)", nil},
		{"url https://u:p4ssw0rd!@db/x?token=abc123&x=1", []string{"url_credentials:p4ssw0rd!", "url_secret_param:abc123"}},
		{"card 4111-1111-1111-1111 ok", []string{"card:4111-1111-1111-1111"}},
		// A card beside other numbers in the same run of groups (found by FuzzValue: the run
		// was read as one number, too long for a card, and the card kept).
		{"card 4111 1111 1111 1111 2 items", []string{"card:4111 1111 1111 1111"}},
		{"4111-1111-1111-1111-5", []string{"card:4111-1111-1111-1111"}},
		{"ref 1234 4111111111111111 x", []string{"card:4111111111111111"}},
		{"4111 1111111111 11 1@0.AA", []string{"card:4111 1111111111 11", "email:1@0.AA"}},
		{"two 4111 1111 1111 1111 5500 0000 0000 0004", []string{"card:4111 1111 1111 1111", "card:5500 0000 0000 0004"}},
		{"order 2024 1234 5678 9012 3456 7", nil},
		// Two cards sharing a group (FuzzPlanted: the first hid the second).
		{"4000 00000 6011 1820 2111 2826)o", []string{"card:4000 00000 6011 1820 2111 2826"}},
		{"0 5500-0000-0000-0004 0", []string{"card:5500-0000-0000-0004"}}, // the separator changes (FuzzPlanted)
		{"0 078-92-9163 0", []string{"ssn:078-92-9163"}},
		{"0 +33 1 23 45 67 38 0A", []string{"phone:+33 1 23 45 67 38"}},
		{"0\"+4915193852789)000", []string{"phone:+4915193852789"}},
		{"111 11 1111 1@0.AA", []string{"ssn:111 11 1111", "email:1@0.AA"}},
		{"ref 9 123-45-6789-0", nil}, // 123-45-6789 is a sample number, never issued
		{"id 2 234 56 7890 x", []string{"ssn:234 56 7890"}},
		{"ts 1732443123456", nil},
		{"SSN 078-05-1120", nil},
		{"ssn 12345678 is short; ssn 234567891", []string{"ssn:234567891"}},
		// A phone number that reads on into a card stops before it (a reviewer's leak).
		{"tel:+1 415 555 2671 4539 1488 0343 6467", []string{"phone:+1 415 555 2671", "card:4539 1488 0343 6467"}},
		// After an escaped line break or tab (text quoting JSON that did not parse): a
		// reviewer's leaks.
		{`Command failed: {"stdout":"paid with\n4111111111111111\n\t536-22-1234\t203.0.113.7\n/home/jane/x"} (truncated`,
			[]string{"card:4111111111111111", "ssn:536-22-1234", "ipv4:203.0.113.7", "home_user:jane"}},
		{`output: "x\nAuthorization: Bearer a8f2c9e1b7d6a3f5e0\nHost: x"`, []string{"auth_header:a8f2c9e1b7d6a3f5e0"}},
		{"[SSN] 536221234 and [SSN]536221234", nil}, // the engine's label is no context: idempotence
		{"SSN [SSN] 536221234", []string{"ssn:536221234"}},
		{"iban DE89 3704 0044 0532 0130 00", []string{"iban:DE89 3704 0044 0532 0130 00"}},
		{"ls /Users/jane.doe/x and C:\\Users\\bob\\y", []string{"home_user:jane.doe", "home_user:bob"}},
		{"mail a.b+c@mail.acme.co.uk.", []string{"email:a.b+c@mail.acme.co.uk"}},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----",
			[]string{"private_key:-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----"}},
		{"truncated -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0",
			[]string{"private_key:-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"}},
		{"[EMAIL] and email:k1:0123456789abcdef and /Users/user:k1:0123456789abcdef/x", nil},
		// E-mail addresses with the '@' escaped for a URL, JSON or HTML, and after an escape.
		{`GET /u?email=jane%40acme.example&x=1 "b\u0040acme.example" c&#64;acme.example`,
			[]string{"email:jane%40acme.example", `email:b\u0040acme.example`, "email:c&#64;acme.example"}},
		{`{"a":"line\njane@acme.example"} 100%40 pct%40x`, []string{"email:jane@acme.example"}},
		{`jane&#x40;acme.com b&#064;acme.com c%2540acme.com d\\u0040acme.com`,
			[]string{"email:jane&#x40;acme.com", "email:b&#064;acme.com", "email:c%2540acme.com", `email:d\\u0040acme.com`}},
		// URL passwords holding bytes that should have been percent-encoded.
		{"postgres://app:p/ss#w,rd)x@db.internal:5432/app?sslmode=require", []string{"url_credentials:p/ss#w,rd)x"}},
		{"https://u:S3cr?t@h/x?token=abc123&y=1", []string{"url_credentials:S3cr?t", "url_secret_param:abc123"}},
		{"see https://medium.com/@jane and http://h:8080/@x and https://h/a:b@c", nil},
		// An '@' in the path after the password (a reviewer's leaks and losses).
		{"pip install git+https://deploy:S3cretPw@github.com/acme/sample-tool.git@v1.0", []string{"url_credentials:S3cretPw"}},
		{"npm i https://u:S3cretPw@npm.corp.com/example/@acme/x https://u:p@ss@h.example/?next=/@me", []string{"url_credentials:S3cretPw", "url_credentials:p@ss"}},
		// When the loose reading fails, the authority is read as RFC 3986 has it (a reviewer's
		// regressions: each was found before the loose reading came).
		{"https://jane@acme.com:hunter2secret@git.example.com/repo.git", []string{"url_credentials:hunter2secret"}},
		{"url=https://u:hunter2secret@host.com/,owner=@-team", []string{"url_credentials:hunter2secret"}},
		{"git remote add origin https://admin:hunter2secret@", []string{"url_credentials:hunter2secret"}},
		// A reviewer's regressions of the changes above: a cookie value that merely starts
		// with '%', a drive set off by a symbol, a domain account before an address, an
		// escaped '@' inside mysql's password, a JSON-escaped WSL share.
		{"Cookie: session=%2BdGVzdHNlc3Npb25rZXk%3D; consent=true", []string{"auth_header:session=%2BdGVzdHNlc3Npb25rZXk%3D; consent=true"}},
		{`open /C:/Users/jane/x.go \\?\C:\Users\bob\f.txt -u:/Users/amir`, []string{"home_user:jane", "home_user:bob", "home_user:amir"}},
		{`runas /user:CORP\jane.doe@corp.example.com cmd`, []string{"email:jane.doe@corp.example.com"}},
		{"mysql -u root -pS3cret%40corp.io db", []string{"command_line:S3cret%40corp.io"}},
		{`{"p":"\\\\wsl$\\Ubuntu\\home\\jane\\x"}`, []string{"home_user:jane"}},
		{"bcrypt $2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", nil},
		// Credential headers behind a prefix, and curl's cookies.
		{"X-Authorization: Bearer 9fk2Lq0ZsP4mXc7V\nHTTP_AUTHORIZATION=Basic YWxhZGRpbjpvcGVu", []string{"auth_header:9fk2Lq0ZsP4mXc7V", "auth_header:YWxhZGRpbjpvcGVu"}},
		{"HTTP_COOKIE=sid=Zq81mXr0Tn4KbWv2 X-Forwarded-Authorization: Bearer q8Zr2LmX0vTn4Kb", []string{"auth_header:sid=Zq81mXr0Tn4KbWv2 X-Forwarded-Authorization: Bearer q8Zr2LmX0vTn4Kb"}},
		{"curl -b 'sid=Zq81mXr0Tn4KbWv2; theme=dark' --cookie=sid=Zq81mXr0 -b jar.txt https://x", []string{"command_line:sid=Zq81mXr0Tn4KbWv2; theme=dark", "command_line:sid=Zq81mXr0"}},
		{"X-Request-Authorization-Mode: strict and my_authorization: x", nil},
		// A header's value runs to the quote the header stands in, past quotes of its own: a
		// quoted or JSON cookie value and Digest's parameters leaked before.
		{`curl -H 'Cookie: session={"id":"a8f3kq29xlm4"}; theme=dark' https://x`, []string{`auth_header:session={"id":"a8f3kq29xlm4"}; theme=dark`}},
		{"Authorization: a8f2c9e1b7d6a3f5e0 expired; Authorization: Bearer q8Zr2LmX0vTn4Kb expired", []string{"auth_header:a8f2c9e1b7d6a3f5e0 expired; Authorization: Bearer q8Zr2LmX0vTn4Kb expired"}},
		{"Authorization: Bearer q8Zr2LmX0vTn4Kb expired", []string{"auth_header:q8Zr2LmX0vTn4Kb"}},
		{`Cookie: sid="a8f3kq29xlm4Zq81"`, []string{`auth_header:sid="a8f3kq29xlm4Zq81"`}},
		{`-H 'Authorization: Digest username="bob", response="6629fae49393a0539745"' -X GET`, []string{`auth_header:username="bob", response="6629fae49393a0539745"`}},
		{`{"Cookie": "sid=\"a8f3kq29xlm4Zq81\"", "Accept": "json"}`, []string{`auth_header:sid=\"a8f3kq29xlm4Zq81\"`}},
		{`"cmd": "curl -H \"Authorization: Bearer q8Zr2LmX0vTn4Kb\" https://x"`, []string{`auth_header:q8Zr2LmX0vTn4Kb`}},
		// Password flags after wrappers, inside a shell's or ssh's command, after the program
		// that runs the one with the flag, and attached to curl's -u.
		{"sudo -u root mysql -pS3cretPass db", []string{"command_line:S3cretPass"}},
		{"timeout 10 nice -n 5 mysql -u app -pS3cretPass", []string{"command_line:S3cretPass"}},
		{`bash -c "mysql -uroot -pS3cretPass -e 'select 1'"`, []string{"command_line:S3cretPass"}},
		{`ssh -i k.pem -p 2222 db1 'mysqldump -pS3cretPass app' > x.sql`, []string{"command_line:S3cretPass"}},
		{"ssh db1 PGPASSWORD=S3cretPass psql", []string{"command_line:S3cretPass"}},
		{"docker exec -it db mysql -uroot -pS3cretPass", []string{"command_line:S3cretPass"}},
		{`kubectl exec pod -- sh -lc 'redis-cli -a S3cretPass ping'`, []string{"command_line:S3cretPass"}},
		{"curl -uadmin:S3cretPass https://ci.acme.example", []string{"command_line:S3cretPass"}},
		{"curl --user admin:hunter22x https://x.example && curl --user=u:hunter22y --proxy-user u:hunter22z -x http://p:3128 https://x",
			[]string{"command_line:hunter22x", "command_line:hunter22y", "command_line:hunter22z"}},
		{"sudo -p 'Password:' apt update && timeout 5s docker run -p 8080:80 nginx", nil},
		// Credentials of other programs' own options, bundled curl options, a glued docker
		// login -p, and a command on the next line (a reviewer's leaks).
		{"curl -sSfu admin:Hunter22a https://x && curl -su admin:Hunter22b https://x && curl -sSfuadmin:Hunter22c https://x",
			[]string{"command_line:Hunter22a", "command_line:Hunter22b", "command_line:Hunter22c"}},
		{"curl -sSfL -o out.tgz https://x && curl -U proxy:Hunter22d -x http://p https://x", []string{"command_line:Hunter22d"}},
		{"docker login -pHunter22e reg.acme.example && oc login -u dev -p Hunter22f https://api", []string{"command_line:Hunter22e", "command_line:Hunter22f"}},
		{"sqlcmd -S db -U sa -P Hunter22g -Q 'select 1' && zip -P Hunter22h out.zip a.txt", []string{"command_line:Hunter22g", "command_line:Hunter22h"}},
		{"7z a -pHunter22i -mhe=on out.7z dir && 7z x -p out.7z", []string{"command_line:Hunter22i"}},
		{"ldapsearch -x -D cn=admin -w Hunter22j -b dc=acme && keytool -list -keystore k.jks -storepass Hunter22k", []string{"command_line:Hunter22j", "command_line:Hunter22k"}},
		{"openssl pkcs12 -export -passout pass:Hunter22l -passin env:PW -in a.pem && openssl enc -aes256 -k Hunter22m -kfile key.txt",
			[]string{"command_line:Hunter22l", "command_line:Hunter22m"}},
		{"smbclient //fs/share -U 'CORP\\jane%Hunter22n' && lftp -u jane,Hunter22o ftp.acme && http -a jane:Hunter22p https://x",
			[]string{"command_line:Hunter22n", "command_line:Hunter22o", "command_line:Hunter22p"}},
		{"htpasswd -bc .htpasswd jane Hunter22q && htpasswd -nbB -C 10 bob Hunter22r && htpasswd -c .htpasswd amy", []string{"command_line:Hunter22q", "command_line:Hunter22r"}},
		{"cd /srv/app\nmysql -uroot -pHunter22s app", []string{"command_line:Hunter22s"}},
		{"influx -port 8086 -password Hunter22t && ls -w 80 -p", []string{"command_line:Hunter22t"}},
		// Command substitutions, subshells, eval, cmd /c, PowerShell's -Command and
		// ConvertTo-SecureString (a reviewer's leaks).
		{"echo `mysql -pHunter22u` $(mysql -pHunter22v) (cd x && mysql -pHunter22w)", []string{"command_line:Hunter22u", "command_line:Hunter22v", "command_line:Hunter22w"}},
		{`cmd /c "mysql -pHunter22x"; eval "mysql -pHunter22y" && pwsh -NoProfile -Command "mysql -pHunter22z"`, []string{"command_line:Hunter22x", "command_line:Hunter22y", "command_line:Hunter22z"}},
		{`ConvertTo-SecureString "Hunter23a" -AsPlainText -Force; ConvertTo-SecureString -AsPlainText -String 'Hunter23b'`, []string{"command_line:Hunter23a", "command_line:Hunter23b"}},
		{"mysql --password=ab(cd)ef && echo $(date) (x)", []string{"command_line:ab(cd)ef"}},
		// A domain account in a URL, an e-mail address as a URL's user name, a domain
		// account's address whose name starts like an escape (a reviewer's leaks).
		{`http_proxy=http://CORP\jane:Hunter23c@proxy.acme:8080`, []string{"url_credentials:Hunter23c"}},
		{"git clone https://jane%40acme.com@dev.azure.com/org/r and https://amy%40acme.com:Hunter23d@x.io", []string{"email:jane%40acme.com", "email:amy%40acme.com", "url_credentials:Hunter23d"}},
		{`user CORP\nancy@acme.com and "a\njane@acme.com"`, []string{"email:nancy@acme.com", "email:jane@acme.com"}},
		{`ACME01\tom@acme.com and x\tina@acme.com and "\u00e9va@acme.com"`, []string{"email:tom@acme.com", "email:ina@acme.com", "email:va@acme.com"}},
		// Escaped quotes inside double quotes are read as the shell reads them, and a
		// command line nested deeper than maxCommandNesting is removed whole when it could
		// hold a secret (fail closed), kept when it could not.
		{`bash -c "sh -c \"mysql -pS3cretPass db\"" && echo "a \" b" && mysql -pHunter2x db`, []string{"command_line:S3cretPass", "command_line:Hunter2x"}},
		{`bash -c "sh -c \"sh -c \\\"mysql -pS3cretPass db\\\"\""`, []string{"command_line:S3cretPass"}},
		{`bash -c "sh -c \"sh -c \\\"sh -c \\\\\\\"mysql -pS3cretPass db\\\\\\\"\\\"\""`, []string{"command_line:mysql -pS3cretPass db"}},
		{`sh -c 'sh -c "sh -c \"sh -c \\\"mysql -pS3cretPass db\\\"\""'`, []string{"command_line:mysql -pS3cretPass db"}},
		{`bash -c "sh -c \"sh -c \\\"sh -c \\\\\\\"ls -la /tmp\\\\\\\"\\\"\""`, nil},
		// Oracle logons: user/password before the connect identifier, as rman's target or
		// catalog, as userid=, quoted, and behind docker exec (a reviewer's leaks); / and
		// /nolog name no password.
		{"sqlplus scott/tiger@orcl && sqlplus system/S3cret!@//db:1521/XE && sqlplus -s app/Pw123@db",
			[]string{"command_line:tiger", "command_line:S3cret!", "command_line:Pw123"}},
		{"rman target sys/pw@db catalog rco/Cat123@cat; expdp scott/Hunter23e@orcl directory=d; impdp app/Hunter23f",
			[]string{"command_line:pw", "command_line:Cat123", "command_line:Hunter23e", "command_line:Hunter23f"}},
		{`sqlldr userid=scott/Hunter23g control=/x/y.ctl && exp USERID=app/Hunter23h@db file=x.dmp && sqlplus scott/"p@ss w0rd"@orcl`,
			[]string{"command_line:Hunter23g", "command_line:Hunter23h", "command_line:p@ss w0rd"}},
		{"docker exec -it ora sqlplus sys/Hunter23i@ORCLCDB as sysdba", []string{"command_line:Hunter23i"}},
		{`sqlplus /nolog; sqlplus / as sysdba; sqlplus -s "/ as sysdba" @/tmp/q.sql; sqlplus scott@orcl; rman target / log=/tmp/l`, nil},
		{"sqlplus user/password@db and git diff a/b and/or", nil},
		// nmcli's Wi-Fi password and secret connection properties (a reviewer's leaks), not
		// the properties about them.
		{`nmcli dev wifi connect MyNet password Hunter23j && nmcli con modify x wifi-sec.psk "correct horse" 802-1x.private-key-password Hunter23k`,
			[]string{"command_line:Hunter23j", "command_line:correct horse", "command_line:Hunter23k"}},
		{"nmcli con mod x wifi-sec.key-mgmt wpa-psk wifi-sec.psk-flags 1 wifi-sec.wep-key-type key && nmcli dev wifi connect MyNet password", nil},
		// Internationalised addresses (RFC 6531), and country domains that are also file
		// extensions.
		{"mail jürgen@müller.de, “amy@acme.com’s” and josé@correo.es.", []string{"email:jürgen@müller.de", "email:amy@acme.com", "email:josé@correo.es"}},
		{"ivan@почта.рф and jane@firma.rs or bob@acme.md; icon@2x.png and logo@3x.jpg", []string{"email:ivan@почта.рф", "email:jane@firma.rs", "email:bob@acme.md"}},
		// Home directories on macOS's data volume, in a VS Code remote and a WSL share with
		// forward slashes (a reviewer's leaks).
		{"/System/Volumes/Data/Users/jane/x //wsl$/Ubuntu/home/amir/y vscode-remote://wsl+Ubuntu/home/li/z", []string{"home_user:jane", "home_user:amir", "home_user:li"}},
		// Home directories behind a WSL or MSYS mount, a WSL share, a file:// URL, or with
		// JSON-escaped backslashes.
		{"cd /mnt/c/Users/jane.doe/src && ls /c/Users/bob/x", []string{"home_user:jane.doe", "home_user:bob"}},
		// Any case after a drive, 8.3 short names and names with spaces (a reviewer's leaks);
		// a REST route and a second argument are not home directories.
		{`c:/users/jane/main.go /mnt/c/users/amir/x C:\Users\JANESM~1\AppData C:\Users\John Smith\Documents x`,
			[]string{"home_user:jane", "home_user:amir", "home_user:JANESM~1", "home_user:John Smith"}},
		{"GET /users/jane/profile and cp /Users/li notes/x and /Users/Jane Doe/", []string{"home_user:li", "home_user:Jane Doe"}},
		{`open \\wsl$\Ubuntu\home\amir\x and \\wsl.localhost\Debian\home\li\y`, []string{"home_user:amir", "home_user:li"}},
		{"see file:///Users/jane/a.txt and file:///C:/Users/bob/b.txt", []string{"home_user:jane", "home_user:bob"}},
		{`{"path":"C:\\Users\\jane\\x","p2":"D:\\users\\bob\\y"}`, []string{"home_user:jane", "home_user:bob"}},
		{"https://host/mnt/c/Users/jane/x and /opt/c/Users/bob and https://github.com/Users/x", nil},
		// Addresses with a port, in a URL, a CIDR or after a label (a reviewer's leaks).
		{"dial tcp 203.0.113.7:443: i/o timeout", []string{"ipv4:203.0.113.7"}},
		{"GET http://203.0.113.7:8080/health and https://10.9.8.7/api", []string{"ipv4:203.0.113.7", "ipv4:10.9.8.7"}},
		{"allow 10.1.2.3/32 from ip:8.8.8.8", []string{"ipv4:10.1.2.3", "ipv4:8.8.8.8"}},
		{"ssh jane@203.0.113.7:22 and ftp://10.4.5.6/logs", []string{"ipv4:203.0.113.7", "ipv4:10.4.5.6"}},
		{"/releases/download/1.2.3.4/app.zip /tmp/node/10.24.1.2/bin", nil}, // versions in paths
		{"Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36", nil},                 // a product's version
		{"1.2.3.4.5 and 10.1.2.3.4 and 127.0.0.1:8080", nil},
		// Cards and SSNs in a URL path, after a label, before an expiry.
		{"GET /v1/cards/4111111111111111 200", []string{"card:4111111111111111"}},
		{"card:4111111111111111 exp 4111111111111111:12/27", []string{"card:4111111111111111", "card:4111111111111111"}},
		{"ssn:536-22-1234 /people/536-22-1234/", []string{"ssn:536-22-1234", "ssn:536-22-1234"}},
		{"sha1:41111111111111112abc /x/4111111111111111abc", nil},
		// Groups separated by dots, tabs or double spaces (a reviewer's leaks); versions,
		// addresses and a Luhn-invalid number are not cards.
		{"4111.1111.1111.1111 and 5500\t0000\t0000\t0004 and 4111  1111  1111  1111", []string{"card:4111.1111.1111.1111", "card:5500\t0000\t0000\t0004", "card:4111  1111  1111  1111"}},
		{"v4111.1111.1111.1112 10.20.30.40 1.2.3.4111111111111111x 4111.1111.1111.1112", []string{"ipv4:10.20.30.40"}},
		// Words that mark a placeholder count only as words of their own (a reviewer's leaks:
		// "todo" in a cookie's path and a password kept the whole value).
		{"Cookie: sessionid=q8Zr2LmX0vTn4KbW; last=/todos", []string{"auth_header:sessionid=q8Zr2LmX0vTn4KbW; last=/todos"}},
		{"Cookie: theme=example; sid=Zq81mXr0Tn4KbWv2", []string{"auth_header:theme=example; sid=Zq81mXr0Tn4KbWv2"}},
		{"password=Autodom2024! and password=Example2024", []string{"command_line:Autodom2024!", "command_line:Example2024"}},
		// A quoted key=value runs to its quote; subscripts are keys (a reviewer's leaks).
		{`curl -d 'password=correct horse battery staple&user=x' https://x`, []string{"assignment:correct horse battery staple"}},
		{`os.environ['DB_PASSWORD'] = 'S3cretPw1' and config["password"]="S3cretPw2"`, []string{"assignment:S3cretPw1", "assignment:S3cretPw2"}},
		{"export DB_PASSWORD=Insertion9 PGPASSWORD=passw0rd", []string{"command_line:Insertion9", "command_line:passw0rd"}},
		{"https://app:MySample1@db/x Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc...", []string{"url_credentials:MySample1", "auth_header:eyJhbGciOiJIUzI1NiJ9abc..."}},
		{"password=fake-pass password=myFakePassword password=TODO Cookie: a=${A}; b=<b>", nil},
		{"Authorization: Bearer sk-ant-... and Authorization: Bearer <your key>", nil},
		// A keyed pseudonym whose hex is all digits is not a card; a bare "entity:" label is.
		{"user email:k1:4111111111111111 ok", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var got []string
			for _, sp := range sc.scan(tt.text, nil) {
				got = append(got, sp.det.String()+":"+tt.text[sp.start:sp.end])
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
