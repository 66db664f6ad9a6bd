#!/usr/bin/env python3
"""Generates labelled.jsonl, the labelled detector corpus of the redact package.

Each line is {"id", "where", "text", "labels": [{"detector", "value"}]}. A label's value is
the exact substring a detector must cover; a case with no labels is a hard negative: any
detection in it is a false positive. "where" says which attribute the text is placed in by the
end-to-end test: prompt, command, file, mcp or url.

Secrets are random strings in each vendor's published shape (none is a live credential).
Regenerate with: python3 gen_corpus.py > labelled.jsonl (deterministic: fixed seed).
"""
import base64, json, random, string, hashlib, uuid

R = random.Random(20261124)
B62 = string.ascii_letters + string.digits
U32 = string.ascii_uppercase + "234567"
URLSAFE = B62 + "_-"
HEXL = "0123456789abcdef"
BECH = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"

def rs(alpha, n): return "".join(R.choice(alpha) for _ in range(n))

cases = []
def add(where, text, labels):
    for _, v in labels:
        assert v in text, (text, v)
    cases.append({"id": len(cases), "where": where, "text": text,
                  "labels": [{"detector": d, "value": v} for d, v in labels]})

# ---------- context templates ----------
def prompt_ctx(v):
    return R.choice([
        "Can you check why this key fails? {v}",
        "here is the token {v} please use it for the deploy",
        "My API key is {v} — add it to the config and run the tests.",
        "Use {v} to authenticate against the staging API.",
        "I pasted the credential below:\n{v}\nthanks",
    ]).format(v=v)

def file_ctx(name, v):
    return R.choice([
        "# generated config\n{n}={v}\nDEBUG=false\n",
        "settings:\n  region: eu-west-1\n  {n}: {v}\n",
        '{{"{n}": "{v}", "retries": 3}}',
        "const client = new Client({{ {n}: \"{v}\" }});\n",
    ]).format(n=name, v=v)

def mcp_ctx(v):
    return json.dumps(R.choice([
        {"query": "rotate credential", "credential": v},
        {"note": "customer sent " + v, "account": "Globex"},
        {"args": ["--verbose", v]},
    ]))

def cmd_ctx(v):
    return R.choice([
        "echo {v} | gh auth login --with-token",
        "grep -r '{v}' ./src",
        "printf '%s' {v} > /tmp/k && chmod 600 /tmp/k",
    ]).format(v=v)

def vendor(det, gen, n=22):
    for i in range(n):
        v = gen()
        where = ["prompt", "file", "mcp", "command"][i % 4]
        if where == "prompt":
            t = prompt_ctx(v)
        elif where == "file":
            t = file_ctx(R.choice(["api_key", "auth", "client_key", "SERVICE_KEY"]), v)
        elif where == "mcp":
            t = mcp_ctx(v)
        else:
            t = cmd_ctx(v)
        add(where, t, [(det, v)])

vendor("aws_access_key", lambda: R.choice(["AKIA", "ASIA"]) + rs(U32, 16))
vendor("github_token", lambda: R.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + rs(B62, 36))
vendor("github_token", lambda: "github_pat_" + rs(B62, 22) + "_" + rs(B62, 59), 8)
vendor("gitlab_token", lambda: R.choice(["glpat-", "gldt-", "glrt-"]) + rs(URLSAFE, 20))
vendor("slack_token", lambda: R.choice(["xoxb-", "xoxp-"]) + rs(string.digits, 11) + "-" + rs(string.digits, 12) + "-" + rs(B62, 24))
vendor("slack_token", lambda: "xapp-1-A" + rs(U32, 10) + "-" + rs(string.digits, 13) + "-" + rs(HEXL, 64), 6)
vendor("stripe_key", lambda: R.choice(["sk_live_", "rk_live_", "sk_test_"]) + rs(B62, R.choice([24, 34, 99])))
vendor("google_api_key", lambda: "AIza" + rs(URLSAFE, 35))
vendor("openai_key", lambda: "sk-proj-" + rs(URLSAFE, 74) + "T3BlbkFJ" + rs(URLSAFE, 74))
vendor("openai_key", lambda: "sk-" + rs(B62, 20) + "T3BlbkFJ" + rs(B62, 20), 8)
vendor("anthropic_key", lambda: R.choice(["sk-ant-api03-", "sk-ant-admin01-"]) + rs(URLSAFE, 93) + "AA")
vendor("npm_token", lambda: "npm_" + rs(B62, 36))
vendor("pypi_token", lambda: "pypi-AgEIcHlwaS5vcmc" + rs(URLSAFE, 70), 12)
vendor("huggingface_token", lambda: "hf_" + rs(string.ascii_letters, 34), 12)
vendor("sendgrid_key", lambda: "SG." + rs(URLSAFE, 22) + "." + rs(URLSAFE, 43), 12)
vendor("digitalocean_token", lambda: R.choice(["dop_v1_", "doo_v1_"]) + rs(HEXL, 64), 12)
vendor("shopify_token", lambda: R.choice(["shpat_", "shpss_"]) + rs(HEXL, 32), 12)
vendor("age_secret_key", lambda: "AGE-SECRET-KEY-1" + rs(BECH, 58), 8)
vendor("vault_token", lambda: "hvs." + rs(URLSAFE, 90), 12)
vendor("databricks_token", lambda: "dapi" + rs(HEXL, 32), 12)

# Slack webhooks
for i in range(12):
    v = "https://hooks.slack.com/services/T%s/B%s/%s" % (rs(U32, 8), rs(U32, 10), rs(B62, 24))
    t = R.choice(["curl -X POST -d '{\"text\":\"deploy done\"}' %s", "webhook: %s\n", "post the summary to %s when done"]) % v
    add(["command", "file", "prompt"][i % 3], t, [("slack_webhook", v)])

# Private keys
def pem(label, lines):
    body = "\n".join(base64.b64encode(R.randbytes(48)).decode() for _ in range(lines))
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (label, body, label)
for i in range(16):
    lab = ["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"][i % 5]
    v = pem(lab, R.randint(3, 12))
    t = R.choice(["Here is the deploy key, install it on the runner:\n%s\n", "%s\n", "cat > ~/.ssh/id_ed25519 <<'EOF'\n%s\nEOF"]) % v
    add(["prompt", "file", "command"][i % 3], t, [("private_key", v)])

# JWTs
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
for i in range(20):
    h = {"alg": R.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    p = {"sub": str(uuid.UUID(int=R.getrandbits(128))), "iat": 1764000000 + i, "role": "admin"}
    v = b64u(json.dumps(h).encode()) + "." + b64u(json.dumps(p).encode()) + "." + b64u(R.randbytes(32))
    t = R.choice(["decode this jwt: %s", "id_token %s expired?", "session cookie value %s"]) % v
    add(["prompt", "mcp", "prompt"][i % 3], t if i % 3 != 1 else json.dumps({"jwt_value": v}), [("jwt", v)])

# Authorization / Cookie headers
for i in range(22):
    k = i % 4
    if k == 0:
        v = rs(URLSAFE, 40)
        t = "curl -H 'Authorization: Bearer %s' https://api.internal.example/v1/users" % v
        w = "command"
    elif k == 1:
        v = base64.b64encode(("svc-%s:%s" % (rs(string.ascii_lowercase, 5), rs(B62, 14))).encode()).decode()
        t = "GET /admin HTTP/1.1\nHost: intranet\nAuthorization: Basic %s\nAccept: */*" % v
        w = "file"
    elif k == 2:
        v = "session=%s; csrftoken=%s" % (rs(B62, 32), rs(B62, 24))
        t = "the request had Cookie: %s\nand returned 403" % v
        w = "prompt"
    else:
        v = rs(B62, 32)
        t = "http GET https://api.example.net/things X-Api-Key:%s" % v
        w = "command"
    add(w, t, [("auth_header", v)])

# URL credentials
for i in range(20):
    pw = rs(B62 + "!*", R.randint(10, 20))
    user = R.choice(["admin", "app", "postgres", "svc_reporting", "deploy"])
    sch = R.choice(["postgres", "mysql", "mongodb+srv", "redis", "amqp", "https"])
    u = "%s://%s:%s@%s/%s" % (sch, user, pw, R.choice(["db.internal:5432", "cache.prod.local:6379", "mq.acme.example"]), R.choice(["app", "0", "vhost"]))
    t = R.choice(["DATABASE_URL=%s\n", "connect to %s and list the tables", '{"dsn": "%s"}']) % u
    add(["file", "prompt", "mcp"][i % 3], t, [("url_credentials", pw)])

# URL secret params
for i in range(22):
    param = R.choice(["token", "access_token", "api_key", "sig", "X-Amz-Signature", "client_secret", "apikey"])
    v = rs(B62, R.randint(16, 40)) if param not in ("X-Amz-Signature", "sig") else rs(HEXL, 64)
    u = "https://%s/%s?%s=%s&format=json" % (R.choice(["api.acme.example", "bucket.s3.amazonaws.com", "hooks.example.org"]), R.choice(["v1/export", "report.csv", "data"]), param, v)
    t = R.choice(["fetch %s", "%s", '{"url": "%s"}']) % u
    add(["prompt", "url", "mcp"][i % 3], t, [("url_secret_param", v)])
add("url", "https://example.com/pricing?token=abc123", [("url_secret_param", "abc123")])

# Assignments (password-like keys)
for i in range(30):
    pw = rs(B62 + "!@#%^&*", R.randint(8, 18))
    while pw[0] in "*%" : pw = rs(B62, 1) + pw[1:]
    key = R.choice(["DB_PASSWORD", "password", "admin_pass", "SMTP_PASSWD", "client_secret", "secret", "MYSQL_ROOT_PASSWORD", "passphrase", "webhook_secret"])
    form = i % 5
    if form == 0: t = "%s=%s\nPORT=8080\n" % (key, pw)
    elif form == 1: t = "db:\n  host: localhost\n  %s: %s\n" % (key, pw)
    elif form == 2: t = '{"user": "app", "%s": "%s"}' % (key, pw)
    elif form == 3: t = "[database]\n%s = \"%s\"\n" % (key, pw)
    else: t = "set the %s='%s' in the vault please" % (key, pw)
    add(["file", "file", "mcp", "file", "prompt"][form], t, [("assignment", pw)])

# Command-line secrets
for i in range(30):
    pw = rs(B62, R.randint(10, 18))
    form = i % 8
    if form == 0: t, v = "mysql -u root -p%s -h db.internal app" % pw, pw
    elif form == 1: t, v = "docker login -u deploy -p %s registry.acme.example" % pw, pw
    elif form == 2: t, v = "curl -u admin:%s https://jenkins.acme.example/api/json" % pw, pw
    elif form == 3: t, v = "./deploy.sh --env prod --password %s --verbose" % pw, pw
    elif form == 4: t, v = "vault login --token=%s" % pw, pw
    elif form == 5: t, v = "export SERVICE_TOKEN=%s && ./run.sh" % pw, pw
    elif form == 6: t, v = "psql-wrapper --db-password '%s' --host db" % pw, pw
    else: t, v = "redis-cli -h cache -a %s ping" % pw, pw
    add("command", t, [("command_line", v)])

# High-entropy values next to token-like keys
for i in range(22):
    v = rs(B62, R.randint(24, 48))
    key = R.choice(["api_token", "accessToken", "refresh_token", "session_key", "client_key", "AUTH_TOKEN", "x_api_key"])
    t = R.choice(['{"%s": "%s"}', "%s: %s\n", "%s=%s\n"]) % (key, v)
    add(["mcp", "file", "file"][i % 3], t, [("high_entropy", v)])

# Emails
first = ["jane.doe", "sam.lee", "priya.n", "o.brien", "marta+news", "li_wei", "k.mueller", "ana-maria", "tom", "ceo"]
doms = ["acme.example", "globex.com", "mail.initech.co.uk", "example.org", "uni-bonn.de", "corp.acme.io"]
for i in range(30):
    v = R.choice(first) + str(R.choice(["", R.randint(1, 99)])) + "@" + R.choice(doms)
    t = R.choice(["My email is %s and I need help", "contact: %s\n", '{"owner_email": "%s"}', "git config user.email %s", "send the report to <%s>."]) % v
    add(["prompt", "file", "mcp", "command", "prompt"][i % 5], t, [("email", v)])

# Cards
def luhn_complete(prefix, n):
    d = prefix + "".join(R.choice(string.digits) for _ in range(n - len(prefix) - 1))
    for c in string.digits:
        s = d + c
        tot = 0
        for j, ch in enumerate(reversed(s)):
            x = int(ch)
            if j % 2 == 1:
                x *= 2
                if x > 9: x -= 9
            tot += x
        if tot % 10 == 0: return s
def fmt_card(s, sep):
    if not sep: return s
    if len(s) == 15: return sep.join([s[:4], s[4:10], s[10:]])
    return sep.join(s[i:i+4] for i in range(0, len(s), 4))
for i in range(30):
    pre, n = R.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("3530", 16), ("36", 14), ("62", 16)])
    v = fmt_card(luhn_complete(pre, n), R.choice(["", " ", "-"]))
    t = R.choice(["my card is %s, exp 09/29", "charge %s for the renewal", '{"card_number": "%s", "amount": 1200}', "card: %s\n"]) % v
    add(["prompt", "prompt", "mcp", "file"][i % 4], t, [("card", v)])
add("prompt", "My email is x@acme.example and my card is 4111 1111 1111 1111", [("email", "x@acme.example"), ("card", "4111 1111 1111 1111")])

# IBANs
IBAN_FMT = {"DE": "n18", "GB": "a4n14", "FR": "n23", "NL": "a4n10", "ES": "n20", "IT": "a1n22", "BE": "n12", "CH": "n17", "AT": "n16", "PL": "n24"}
def iban(cc):
    f = IBAN_FMT[cc]
    bban = ""
    import re
    for kind, cnt in re.findall(r"([an])(\d+)", f):
        bban += rs(string.ascii_uppercase if kind == "a" else string.digits, int(cnt))
    num = "".join(str(int(c, 36)) for c in bban + cc + "00")
    chk = 98 - int(num) % 97
    return cc + "%02d" % chk + bban
for i in range(22):
    v = iban(R.choice(list(IBAN_FMT)))
    if i % 2: v = " ".join(v[j:j+4] for j in range(0, len(v), 4))
    t = R.choice(["wire it to %s today", "IBAN: %s\n", '{"iban": "%s"}']) % v
    add(["prompt", "file", "mcp"][i % 3], t, [("iban", v)])

# SSNs
for i in range(20):
    a = R.choice([R.randint(1, 665), R.randint(667, 899)])
    v = "%03d-%02d-%04d" % (a, R.randint(1, 99), R.randint(1, 9999))
    t = R.choice(["SSN %s on the W-2", "employee ssn: %s\n", '{"ssn": "%s"}', "social security number %s"]) % v
    add(["prompt", "file", "mcp", "prompt"][i % 4], t, [("ssn", v)])

# Phones
for i in range(22):
    v = R.choice(["+1 415 555 %04d" % R.randint(0, 9999), "+44 20 7946 %04d" % R.randint(0, 9999), "(212) 555-%04d" % R.randint(0, 9999),
                  "646-555-%04d" % R.randint(0, 9999), "+33 1 23 45 67 %02d" % R.randint(0, 99), "+49151%08d" % R.randint(0, 99999999),
                  "+1-303-555-%04d" % R.randint(0, 9999)])
    t = R.choice(["call me at %s", "phone: %s\n", '{"phone": "%s"}']) % v
    add(["prompt", "file", "mcp"][i % 3], t, [("phone", v)])

# IPs
for i in range(20):
    v = R.choice(["10.%d.%d.%d", "192.168.%d.%d", "203.0.113.%d", "172.16.%d.%d", "8.8.%d.%d"])
    v = v % tuple(R.randint(1, 254) for _ in range(v.count("%d")))
    t = R.choice(["ssh deploy@%s", "the server at %s is down", '{"host": "%s"}', "ping -c 3 %s"]) % v
    add(["command", "prompt", "mcp", "command"][i % 4], t, [("ipv4", v)])
for i in range(14):
    v = R.choice(["2001:db8::%x" % R.randint(1, 65535), "fe80::%x:%x:%x:%x" % tuple(R.randint(1, 65535) for _ in range(4)),
                  "2001:0db8:85a3:0000:0000:8a2e:0370:%04x" % R.randint(0, 65535), "2a00:1450:4001:82%x::200e" % R.randint(0, 15)])
    t = R.choice(["ping6 %s", "client %s connected", '{"addr": "%s"}']) % v
    add(["command", "prompt", "mcp"][i % 3], t, [("ipv6", v)])

# Home-directory user names
names = ["jane.doe", "sam.lee", "priya.n", "alice", "bob_smith", "cwu", "m.garcia", "devops1"]
for i in range(30):
    n = R.choice(names)
    form = i % 6
    if form == 0: t = "ls /Users/%s/Documents/competitive-intel" % n
    elif form == 1: t = json.dumps({"file_path": "/home/%s/src/app/main.go" % n})
    elif form == 2: t = "open C:\\Users\\%s\\Desktop\\report.xlsx" % n
    elif form == 3: t = "workdir:/Users/%s/Downloads please summarise" % n
    elif form == 4: t = "cat C:/Users/%s/AppData/Roaming/app.ini" % n
    else: t = "Traceback: File \"/home/%s/.venv/lib/python3.12/site.py\", line 3" % n
    add(["command", "mcp", "command", "prompt", "command", "file"][form], t, [("home_user", n)])

# Mixed multi-secret cases
for i in range(10):
    tok = "ghp_" + rs(B62, 36)
    em = "dev%d@acme.example" % i
    t = "export GH_TOKEN=%s\ngit commit --author '%s'" % (tok, em)
    add("command", t, [("github_token", tok), ("email", em)])

# ---------- hard negatives ----------
NEG = []
def neg(where, t): NEG.append((where, t))
for i in range(30): neg("mcp", json.dumps({"request_id": str(uuid.UUID(int=R.getrandbits(128))), "session": "started"}))
for i in range(20): neg("command", "git checkout %s" % hashlib.sha1(R.randbytes(8)).hexdigest())
for i in range(20): neg("file", "sha256: %s  dist/app.tar.gz" % hashlib.sha256(R.randbytes(8)).hexdigest())
for i in range(15): neg("file", "image: ghcr.io/acme/api@sha256:%s" % hashlib.sha256(R.randbytes(8)).hexdigest())
for i in range(20): neg("file", "data:image/png;base64,%s" % base64.b64encode(R.randbytes(60)).decode())
for i in range(15): neg("prompt", "the payload is %s which decodes to plain text" % base64.b64encode(("hello world number %d from the build log" % i).encode()).decode())
for i in range(25): neg("mcp", json.dumps({"ts": 1732443000000 + R.randint(0, 10**9), "count": R.randint(1, 999)}))
for i in range(15): neg("prompt", "event at %d ms and %d ms" % (1764000000000 + R.randint(0, 10**8), 1700000000000 + R.randint(0, 10**8)))
for v in ["2.1.328", "v1.2.3.4", "10.0.19041.1", "1.21.4", "node v20.11.1", "version 4.3.2.1", "python 3.12.7", "OID 1.3.6.1.4.1.311", "go1.26.8", "chrome/131.0.6778.86"]:
    neg("prompt", "upgrade to %s please" % v)
for t in [
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "token: ${{ secrets.GITHUB_TOKEN }}", "OPENAI_API_KEY=sk-...your-key-here",
    "ANTHROPIC_API_KEY=<your-anthropic-key>", "password=<your-password>", "DB_PASSWORD=changeme", "api_key: YOUR_API_KEY_HERE",
    "password: ********", "export API_TOKEN=$(cat /run/secrets/token)", "curl -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.github.com",
    "Authorization: Bearer <token>", "docker login --password-stdin < pass.txt", "gh auth login --with-token < token.txt", "vault --token-file /etc/vault/token",
    "ssh -p 2222 deploy@bastion", "mysql -u root -p", "curl -u admin https://jenkins/api", "export PATH=/usr/local/bin:$PATH", "export TOKEN_TTL=3600",
    "max_tokens=4096", "input_tokens: 1200", "token_count=15", "the key=value pairs are parsed", "Password reset flow is broken on mobile",
    "password: reset it tomorrow", "sk_test_xxxxxxxxxxxxxxxxxxxxxxxx", "pk_live_" + rs(B62, 24), "AIzaSyExampleExampleExampleExample0000",
    "key: value", "secret_name: prod-db", "token_type: bearer", "auth_method: oauth", "password_policy: strong", "api_key_id: 42",
    "private_key_path: ~/.ssh/id_rsa", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + rs(B62, 60) + "\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nMIIB" + rs(B62, 80) + "\n-----END CERTIFICATE-----", "eyJhbGciOiJIUzI1NiJ9 is just a header",
    "eyJub3QiOiJhIGp3dCJ9.bm90IGpzb24.c2ln", "jwt: <jwt>", "Cookie: <cookie>", "session=${SESSION}", "postgres://user:password@localhost/db",
    "postgres://app:${DB_PASS}@db/app", "https://user@github.com/org/repo.git", "https://example.com/login?next=/home&lang=en",
    "https://example.com/search?q=token&page=2", "https://example.com/home/index.html", "mongodb://localhost:27017/test",
]:
    neg(R.choice(["prompt", "file", "command"]), t)
for t in ["icon@2x.png", "logo@3x.webp", "npm i react@18.3.1", "pnpm add @types/node@20.11.0", "git@github.com:acme/api.git", "user@localhost",
          "foo@bar", "@channel please review", "email me at jane[at]acme[dot]example", "ssh root@10", "see docs@", "a@b.c"]:
    neg("prompt", t)
for i in range(15):
    d = "4" + "".join(R.choice(string.digits) for _ in range(15))
    while True:
        tot = sum((int(c) * (2 if j % 2 else 1) - (9 if int(c) * (2 if j % 2 else 1) > 9 else 0)) for j, c in enumerate(reversed(d)))
        if tot % 10 != 0: break
        d = d[:-1] + str((int(d[-1]) + 1) % 10)
    neg("prompt", "order id %s shipped" % d)
for t in ["1234 5678 9012 3456", "0000 0000 0000 0000", "9999-9999-9999-9999", "ISBN 978-3-16-148410-0", "tracking 1Z999AA10123456784",
          "invoice 2026-11-24-000123", "build 20261124.1530.0042", "1111111111111111", "serial 7712 3344 5566 7788"]:
    neg("prompt", t)
for t in ["000-12-3456", "666-12-3456", "912-34-5678", "123-45-6789", "078-05-1120", "555-00-0000", "219-09-9999"]:
    neg("prompt", "test value %s" % t)
for t in ["DE89370400440532013001", "GB82WEST12345698765431", "FR00 1234 5678 9012 3456 7890 123", "NL00ABNA0417164301"]:
    neg("prompt", "iban %s" % t)
for t in ["2026-11-24", "10:07:43", "2026-11-24T10:07:43.091Z", "12/31/2026", "1.5.2026", "555-1234", "ext 4021", "room 212", "call 911",
          "x: 1024, y: 768", "ratio 16:9", "std::string", "a::b::c", "fe80", "00:1a:2b:3c:4d:5e", "dead:beef", "1:2:3", "::1", "0.0.0.0",
          "255.255.255.0", "127.0.0.1:8080 localhost", "version 1.2.3.4", "v10.0.0.1", "1.2.3.4.5"]:
    neg("prompt", "value %s here" % t)
for t in ["/Users/Shared/Data", "/home/user/project", "C:\\Users\\Public\\Documents", "/Users/*/Library", "~/Documents/notes.txt",
          "/home/$USER/.bashrc", "C:\\Users\\%USERNAME%\\AppData", "https://acme.example/home/docs", "src/home/page.tsx", "/var/lib/home/x",
          "/Users/<name>/Desktop", "C:\\Users\\Default\\NTUSER.DAT", "/home/yourname/repo", "/usr/local/home"]:
    neg("command", "ls %s" % t)
for i in range(30):
    neg("prompt", R.choice(["Please refactor the payment module and add tests.", "Summarise the competitive intelligence report for Globex.",
                            "Why does the build fail on CI with exit code 137?", "Rename the function parseToken to parseAccessToken.",
                            "The secret to good tests is small fixtures.", "Add a --dry-run flag to the deploy script.",
                            "List the files in the current directory.", "What does the key=value syntax mean in TOML?"]) + " #%d" % i)
for i in range(20):
    neg("command", R.choice(["go test ./... -run TestToken -count=1", "kubectl get secrets -n prod", "npm run build -- --mode production",
                             "terraform plan -var-file=prod.tfvars", "git log --oneline -n 20", "docker run -p 8080:80 nginx",
                             "psql -h db -U app -d app -c 'select 1'", "ssh -i ~/.ssh/id_ed25519 deploy@bastion"]))
for i in range(20):
    neg("mcp", json.dumps({"account": R.choice(["Globex", "Initech", "Umbrella"]), "limit": R.randint(1, 100), "cursor": rs(B62, 12),
                           "fields": ["name", "owner", "arr"], "hash": hashlib.md5(R.randbytes(4)).hexdigest()}))
for i in range(15):
    neg("file", "commit %s\nAuthor-Date: %d\nChange-Id: I%s\n" % (hashlib.sha1(R.randbytes(4)).hexdigest(), 1764000000 + i, hashlib.sha1(R.randbytes(4)).hexdigest()))

for w, t in NEG:
    add(w, t, [])

for c in cases:
    print(json.dumps(c, ensure_ascii=False))
