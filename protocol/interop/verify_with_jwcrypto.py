#!/usr/bin/env python3
"""Verify the Pi.Co. entry vectors with an independent JOSE implementation (Python jwcrypto).

For every valid vector: jwcrypto verifies the flattened JWS with the signer's JWK (RFC 8037
EdDSA), the body's SHA-256 and length match the signed header, and the body equals its
canonical form as Python writes it (sorted keys, no whitespace). Receipts verify with the hub's
key. Vectors the protocol refuses for their signature or algorithm must be refused too.
Prints one line per check and a closing 'N passed, M failed'; exits 1 on any failure.
"""
import base64
import hashlib
import json
import sys

from jwcrypto import jwk, jws

ALGS = ["EdDSA"]


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def jose_verify(flattened, key):
    token = jws.JWS()
    # Only the JWS members: jwcrypto must not see (or care about) our extra `body` member.
    token.deserialize(json.dumps({k: flattened[k] for k in ("protected", "payload", "signature")}))
    token.allowed_algs = ALGS
    token.verify(key)
    return token.objects["payload"]


def main(path):
    vectors = json.load(open(path, encoding="utf-8"))
    keys = {k["name"]: jwk.JWK(**{f: k["jwk"][f] for f in ("kty", "crv", "x")}) for k in vectors["keys"]}
    kid_to_name = {k["kid"]: k["name"] for k in vectors["keys"]}
    passed = failed = 0

    def check(name, ok, why=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name} {why}")

    for k in vectors["keys"]:
        check(f"thumbprint {k['name']}", keys[k["name"]].thumbprint() == k["kid"])

    for vector in vectors["valid"]:
        entry = json.loads(vector["entry_json"])
        key = keys[kid_to_name[vector["kid"]]]
        try:
            header = json.loads(jose_verify(entry, key))
        except Exception as error:  # noqa: BLE001 - any failure is a failed check
            check(vector["name"], False, repr(error))
            continue
        body = canonical(entry["body"])
        ok = (
            header == vector["header"]
            and hashlib.sha256(body).hexdigest() == header["body_sha256"]
            and len(body) == header["body_len"]
        )
        check(vector["name"], ok, "header or body digest differs")

    for vector in vectors["invalid"]:
        if vector["error"] not in ("bad_signature", "unsupported_algorithm"):
            continue
        entry = json.loads(vector["entry_json"])
        try:
            jose_verify(entry, keys["treviso"])
            check(f"refuses {vector['name']}", False, "jwcrypto accepted it")
        except Exception:  # noqa: BLE001 - refusal is the expected outcome
            check(f"refuses {vector['name']}", True)

    hub = keys[vectors["receipts"]["hub_key"]]
    for vector in vectors["receipts"]["valid"]:
        payload = json.loads(jose_verify(json.loads(vector["receipt_json"]), hub))
        check(vector["name"], payload == vector["receipt"])
    for vector in vectors["receipts"]["invalid"]:
        try:
            jose_verify(json.loads(vector["receipt_json"]), hub)
            check(f"refuses {vector['name']}", False, "jwcrypto accepted it")
        except Exception:  # noqa: BLE001
            check(f"refuses {vector['name']}", True)

    print(f"jwcrypto interop: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "protocol/vectors/entries.json"))
