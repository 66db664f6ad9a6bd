#!/usr/bin/env python3
"""Generates heldout.jsonl: a second labelled set, written after the detectors were tuned on
labelled.jsonl, with shapes and contexts that set does not use. Same format as labelled.jsonl.
Regenerate with: python3 gen_heldout.py > heldout.jsonl (deterministic: fixed seed)."""
import json, random, string, base64, uuid, hashlib
R = random.Random(777)
B62 = string.ascii_letters + string.digits
def rs(a, n): return "".join(R.choice(a) for _ in range(n))
cases = []
def add(where, text, labels):
    for _, v in labels: assert v in text, (text, v)
    cases.append({"id": len(cases), "where": where, "text": text, "labels": [{"detector": d, "value": v} for d, v in labels]})

for i in range(6):
    t = "ghp_" + rs(B62, 36); add("command", "git clone https://oauth2:%s@github.com/acme/api.git" % t, [("github_token", t)])
for i in range(6):
    p = rs(B62, 14); add("command", "kubectl create secret generic db --from-literal=password=%s -n prod" % p, [("command_line", p)])
for i in range(6):
    p = rs(B62, 16); add("command", "docker run -e POSTGRES_PASSWORD=%s -d postgres:16" % p, [("command_line", p)])
for i in range(6):
    p = rs(B62, 40); add("command", "aws configure set aws_secret_access_key %s" % p, [("command_line", p)])
for i in range(6):
    p = rs(B62, 20); add("command", '$env:OPENAI_API_KEY="%s"; python app.py' % p, [("command_line", p)])
for i in range(6):
    p = rs(B62, 12); add("command", "set DB_PASSWORD=%s && run.bat" % p, [("command_line", p)])
for i in range(6):
    t = "glpat-" + rs(B62 + "_-", 20); add("command", "curl --header 'PRIVATE-TOKEN: %s' https://gitlab.acme.example/api/v4/projects" % t, [("gitlab_token", t)])
for i in range(6):
    t = rs(B62, 32); add("file", "- name: deploy\n  env:\n    - API_TOKEN: %s\n" % t, [("high_entropy", t)])
for i in range(6):
    v = "+1 (%d) 555-%04d" % (R.randint(201, 989), R.randint(0, 9999)); add("prompt", "reach me on %s after 5pm" % v, [("phone", v)])
for i in range(6):
    v = "%d.555.%04d" % (R.randint(201, 989), R.randint(0, 9999)); add("prompt", "fax %s" % v, [("phone", v)])
for i in range(6):
    v = "%s.%s@%s" % (rs(string.ascii_uppercase, 4), rs(string.ascii_uppercase, 5), R.choice(["ACME.COM", "Sub.Globex.io"])); add("prompt", "cc: %s;" % v, [("email", v)])
for i in range(6):
    n = rs(string.ascii_lowercase, 6); add("file", 'Error: ENOENT: no such file, open "/Users/%s/Library/Application Support/Claude/config.json"' % n, [("home_user", n)])
for i in range(6):
    n = rs(string.ascii_lowercase, 5); add("command", "cd ~ && python3 /home/%s/bin/tool.py --verbose" % n, [("home_user", n)])
for i in range(6):
    ip = "%d.%d.%d.%d" % (R.randint(11, 223), R.randint(0, 255), R.randint(0, 255), R.randint(1, 254)); add("file", "Nov 24 10:07:43 host sshd[812]: Accepted publickey for deploy from %s port 51122" % ip, [("ipv4", ip)])
for i in range(6):
    h = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"k%d"}' % i).rstrip(b"=").decode(); pl = base64.urlsafe_b64encode(b'{"sub":"u%d","exp":1999999999}' % i).rstrip(b"=").decode()
    j = h + "." + pl + "." + rs(B62 + "_-", 86); add("mcp", json.dumps({"headers": {"authorization": "Bearer " + j}}), [("jwt", j)])
for i in range(6):
    k = "AKIA" + rs("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16); s = rs(B62 + "/+", 40)
    add("file", "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (k, s), [("aws_access_key", k), ("assignment", s)])

NEG = [
    "id 123e4567-e89b-12d3-a456-426614174000 created", "npm install lodash@^4.17.21 --save", "color: #1a2b3c; background: #fff",
    "import \"github.com/acme/api/internal/token\"", "SELECT id, email_verified FROM users WHERE token_type = 'bearer' LIMIT 10",
    "  File \"/usr/lib/python3.12/json/decoder.py\", line 353, in raw_decode", "0x7ffee4b1c9a0: 48 89 e5 41 57 41 56 41 55",
    "The Authorization header must use the Bearer scheme.", "Use `export AWS_PROFILE=prod` before running", "PASSWORD_MIN_LENGTH=12",
    "token_limit: 200000", "api_key_header: X-Api-Key", "set -euo pipefail", "ssh-keygen -t ed25519 -C \"laptop\"",
    "kubectl get pods -o wide | grep 10.0.0", "chmod 600 ~/.ssh/id_rsa", "git rebase -i HEAD~3", "ffmpeg -i in.mp4 -vf scale=1280:-2 out.mp4",
    "See RFC 7519 section 4.1.4 for exp", "Build 2026.11.24 (commit 9f8e7d6)", "coordinates 48.8584, 2.2945", "price: 1,299.00 USD",
    "ISBN-13: 978-0-13-468599-1", "the secret sauce is caching", "password managers like 1Password are fine", "our auth service returns 401",
    "Latency p99 = 245ms at 1.2k rps", "docker compose -p myproj up -d", "redis-cli -h cache ping", "mysql --help",
    "curl -u \"$USER:$PASS\" https://ci", "tar -xzf backup-2026-11-24.tar.gz -C /var/backups", "md5sum: d41d8cd98f00b204e9800998ecf8427e",
    "Windows path C:\\Program Files\\App\\app.exe", "meeting at 10:30-11:15 in room 4.12",
    "+ added line\n- removed line", "v2.1.328 (2026-11-24)", "UUID: 550e8400-e29b-41d4-a716-446655440000", "key_count: 14",
]
for t in NEG: add(R.choice(["prompt", "command", "file"]), t, [])
for c in cases: print(json.dumps(c, ensure_ascii=False))
