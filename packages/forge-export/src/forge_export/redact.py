"""Strip credentials from text forge stores, exports or prints.

A ``base_url`` such as ``http://user:password@host/v1``, a store location such as
``postgresql://forge:password@dbhost/forge`` or an API key must never reach a store, a
dataset, a Hub push, a run folder or an error line. There is one rule for URLs,
:func:`redact_location`, and :func:`redact` applies it to every URL in a text, besides masking
API-key-looking values:

* a ``postgresql://`` / ``postgres://`` URL keeps its user (a role name helps to diagnose) and
  shows its password as ``***`` (``forge:***@``), so it is plain that one was given;
* any other URL loses its user-info altogether (there the user part is often itself a token);
* the value of every query parameter whose name holds ``pass``, ``secret``, ``token`` or
  ``key`` (``?password=``, ``&sslpassword=``, ``?api_key=``) becomes ``***``;
* everything else (scheme, host, port, path, the text around it) stays as it was, and
  redacting twice gives the same text.

Provenance ``origin`` fields, every CLI error line, every store location a command prints or
writes (``ScenarioStore.path``, ``summary.json``) go through it.

Example:
    >>> redact_location("postgresql://forge:pw@db:5432/forge?sslmode=require&password=pw")
    'postgresql://forge:***@db:5432/forge?sslmode=require&password=***'
    >>> redact("gpt@user:pw@host:8000#safe-completion-v1")
    'gpt@host:8000#safe-completion-v1'
    >>> redact("http://alice:s3cret@10.0.0.5:8000/v1/chat/completions: HTTP 500")
    'http://10.0.0.5:8000/v1/chat/completions: HTTP 500'
    >>> redact("api_key=sk-abcdefghijklmnopqrstuvwx failed")
    'api_key=*** failed'
"""

from __future__ import annotations

import os
import re

__all__ = ["redact", "redact_location", "strip_userinfo"]

# a URL in free text: scheme:// up to white space or a quote
_URL_IN_TEXT = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s'\"<>`]*")
_URL_PARTS = re.compile(r"(?is)\A([a-z][a-z0-9+.\-]*)://(.*)\Z")
# query parameters whose value is a secret (password, sslpassword, api_key, token, ...)
_SECRET_PARAM = re.compile(r"(?i)([?&;])([^=&;#?]*(?:pass|secret|token|key)[^=&;#?]*)=([^&;#]*)")
_TRAILING = ".,;:!?)]}"
# PostgreSQL URLs keep their user (a role name helps to diagnose); whether a store location is
# PostgreSQL at all is decided by forge_export.cli_support.StoreLocation alone.
_PG_SCHEMES = ("postgresql", "postgres")
# model@user:password@host (a URL's netloc after the scheme was dropped, e.g. a revision)
_NETLOC_USERINFO = re.compile(r"(?<=@)[^\s@/:#]+:[^\s@/#]*@(?=[^\s@/]+)")
_KEY_VALUE = re.compile(
    r"(?i)\b(api[_-]?key|access[_-]?token|auth[_-]?token|token|password|passwd|secret|"
    r"authorization)(\s*=\s*|:(?=\S))(?!\*\*\*)(?:bearer\s+)?(['\"]?)"
    # at least 4 characters; a last one that ends a sentence (": cannot connect") stays
    r"[^\s'\",;&]{3,}[^\s'\",;&.:!?)\]}]\3"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{8,}=*")
_KNOWN_KEYS = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"xox[abp]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16})"
)


def _split_userinfo(after_scheme: str) -> tuple[str | None, str]:
    """(user-info or None, the rest) of what follows ``scheme://``.

    The user-info ends at the last ``@`` before any ``?`` or ``#``: a password with an
    unescaped ``/`` or ``@`` is still found (a path holding ``@`` is masked too: safe side).
    """
    end = len(after_scheme)
    for stop in "?#":
        at = after_scheme.find(stop)
        if at != -1:
            end = min(end, at)
    at = after_scheme.rfind("@", 0, end)
    if at == -1:
        return None, after_scheme
    return after_scheme[:at], after_scheme[at + 1 :]


def _redact_url(url: str) -> str:
    """One URL under the rule of :func:`redact_location`."""
    got = _URL_PARTS.match(url)
    if got is None:
        return url
    scheme, after = got.groups()
    userinfo, rest = _split_userinfo(after)
    # any other scheme loses its user-info altogether (its user part may be a token)
    if userinfo is not None and scheme.lower() in _PG_SCHEMES:
        user, sep, _password = userinfo.partition(":")
        rest = f"{user}:***@{rest}" if sep else f"{user}@{rest}"
    if "=" in rest:
        rest = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", rest)
    return f"{scheme}://{rest}"


def redact_location(location: str | os.PathLike[str]) -> str:
    """A store location or URL as forge shows it anywhere: credentials masked.

    A file path is returned as it is; a URL loses its password (``user:***@`` for PostgreSQL,
    the whole user-info for other schemes) and the values of secret query parameters.

    Example:
        >>> redact_location("postgresql://forge@/forge?host=/run/pg&password=pw")
        'postgresql://forge@/forge?host=/run/pg&password=***'
        >>> redact_location("team/forge.db")
        'team/forge.db'
    """
    text = os.fspath(location)
    return _redact_url(text) if "://" in text else text


def strip_userinfo(url: str) -> str:
    """``url`` without its ``user:password@`` part (anything else unchanged).

    Example:
        >>> strip_userinfo("http://alice:pw@127.0.0.1:8000/v1")
        'http://127.0.0.1:8000/v1'
    """
    got = _URL_PARTS.match(url)
    if got is None:
        return url
    userinfo, rest = _split_userinfo(got.group(2))
    return url if userinfo is None else f"{got.group(1)}://{rest}"


def _redact_url_in_text(match: re.Match[str]) -> str:
    url = match.group(0)
    core = url.rstrip(_TRAILING)  # "…/db: cannot connect": the colon is the sentence's
    return _redact_url(core) + url[len(core) :]


_KEY_WORDS = ("key", "token", "pass", "secret", "auth")
_KEY_PREFIXES = ("sk-", "hf_", "gh", "xox", "AKIA")


def redact(text: str) -> str:
    """``text`` with URL user-info removed and API keys, tokens and passwords masked."""
    if not text:
        return text
    # cheap guards first: this runs for every completion read from a store
    if "://" in text and ("@" in text or "=" in text):
        text = _URL_IN_TEXT.sub(_redact_url_in_text, text)
    if text.count("@") >= 2:
        text = _NETLOC_USERINFO.sub("", text)
    low = text.lower()
    if any(w in low for w in _KEY_WORDS):
        text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
        if "bearer" in low:
            text = _BEARER.sub("Bearer ***", text)
    if any(p in text for p in _KEY_PREFIXES):
        text = _KNOWN_KEYS.sub("***", text)
    return text
