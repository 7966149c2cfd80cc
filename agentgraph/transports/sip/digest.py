"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617 / RFC 8760 MD5 and
SHA-256, qop=auth). Sans-I/O: the clock and randomness are arguments.

Both sides. As a UAC (REGISTER, outgoing INVITE) `answer_challenge()` turns a 401/407
challenge into the Authorization / Proxy-Authorization value. As a UAS, `DigestVerifier`
issues stateless nonces (an HMAC of their issue time under a per-process key, so a flood
of unauthenticated INVITEs keeps no state) and checks credentials against a user/secret
table. Comparisons are constant-time; secrets are never part of an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from agentgraph.errors import ProtocolError

__all__ = ["Challenge", "DigestVerifier", "answer_challenge", "parse_challenge", "parse_params"]

NONCE_TTL_S = 300.0
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """`Digest realm="x", nonce="y"` -> ("Digest", {"realm": "x", "nonce": "y"})."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " ,\t":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        name = rest[i:eq].strip().lower()
        i = eq + 1
        if i < n and rest[i] == '"':
            end = i + 1
            out = []
            while end < n and rest[end] != '"':
                if rest[end] == "\\" and end + 1 < n:
                    end += 1
                out.append(rest[end])
                end += 1
            if end >= n:
                raise ProtocolError("unterminated quoted string in digest parameters")
            params[name] = "".join(out)
            i = end + 1
        else:
            end = rest.find(",", i)
            end = n if end < 0 else end
            params[name] = rest[i:end].strip()
            i = end
    return scheme, params


@dataclass(frozen=True, slots=True)
class Challenge:
    """A WWW-Authenticate / Proxy-Authenticate challenge."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str | None = None  # "auth" when offered
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> Challenge:
    """Parse a Digest challenge; raises ProtocolError for other schemes or missing fields."""
    scheme, p = parse_params(value)
    if scheme.lower() != "digest":
        raise ProtocolError(f"unsupported authentication scheme {scheme[:20]!r}")
    if "realm" not in p or "nonce" not in p:
        raise ProtocolError("digest challenge without realm or nonce")
    algorithm = p.get("algorithm", "MD5").upper()
    if algorithm not in _HASHES:
        raise ProtocolError(f"unsupported digest algorithm {algorithm[:20]!r}")
    qops = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
    if qops and "auth" not in qops:
        raise ProtocolError("digest challenge offers no qop=auth")
    return Challenge(
        p["realm"],
        p["nonce"],
        algorithm,
        "auth" if qops else None,
        p.get("opaque"),
        p.get("stale", "").lower() == "true",
    )


def _h(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode()).hexdigest()


def _response(
    algorithm: str,
    user: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None,
    nc: str,
    cnonce: str,
) -> str:
    ha1 = _h(algorithm, f"{user}:{realm}:{password}")
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop:
        return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{ha2}")


def answer_challenge(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    user: str,
    password: str,
    cnonce: str,
    nc: int = 1,
) -> str:
    """The Authorization (or Proxy-Authorization) header value answering `challenge`."""
    nc_text = f"{nc:08x}"
    digest = _response(
        challenge.algorithm,
        user,
        challenge.realm,
        password,
        method,
        uri,
        challenge.nonce,
        challenge.qop,
        nc_text,
        cnonce,
    )
    parts = [
        f'username="{user}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{digest}"',
        f"algorithm={challenge.algorithm}",
    ]
    if challenge.qop:
        parts += [f"qop={challenge.qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)


class DigestVerifier:
    """Challenge and verify callers against `users` (user -> secret), statelessly."""

    def __init__(self, realm: str, users: dict[str, str], *, key: bytes | None = None) -> None:
        self.realm = realm
        self._users = dict(users)
        self._key = key or secrets.token_bytes(32)

    def _nonce(self, now: float) -> str:
        stamp = f"{int(now * 1000):x}"
        mac = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def _fresh(self, nonce: str, now: float) -> bool:
        stamp, _, mac = nonce.partition(".")
        want = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac, want):
            return False
        try:
            issued = int(stamp, 16) / 1000
        except ValueError:
            return False
        return 0 <= now - issued <= NONCE_TTL_S

    def challenge(self, now: float, *, stale: bool = False) -> str:
        """A WWW-Authenticate value with a fresh nonce."""
        value = (
            f'Digest realm="{self.realm}", nonce="{self._nonce(now)}", algorithm=MD5, qop="auth"'
        )
        return value + (", stale=true" if stale else "")

    def verify(
        self, header: str | None, method: str, request_uri: str, now: float
    ) -> tuple[bool, bool, str]:
        """(ok, stale, user) for an Authorization header value (None: not sent).

        `request_uri` is accepted for callers that want to log it; a nonce is good for
        `NONCE_TTL_S` (replays within that window are not detected).
        """
        if not header:
            return False, False, ""
        try:
            scheme, p = parse_params(header)
        except ProtocolError:
            return False, False, ""
        user = p.get("username", "")
        secret = self._users.get(user)
        if scheme.lower() != "digest" or secret is None or p.get("realm") != self.realm:
            return False, False, user
        if not p.get("uri", "").startswith(("sip:", "sips:")):
            # the digest covers this uri; phones put the request URI or the server's
            # address there (SIPp does the latter), so it is not compared with the R-URI
            return False, False, user
        nonce = p.get("nonce", "")
        algorithm = p.get("algorithm", "MD5").upper()
        if algorithm not in _HASHES:
            return False, False, user
        qop = p.get("qop") or None
        if qop not in (None, "auth"):
            return False, False, user
        want = _response(
            algorithm,
            user,
            self.realm,
            secret,
            method,
            p.get("uri", ""),
            nonce,
            qop,
            p.get("nc", ""),
            p.get("cnonce", ""),
        )
        if not hmac.compare_digest(want, p.get("response", "")):
            return False, False, user
        if not self._fresh(nonce, now):
            return False, True, user  # right secret, old nonce: challenge again (stale)
        return True, False, user
