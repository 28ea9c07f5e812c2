"""Strip credentials from text forge stores, exports or prints.

A ``base_url`` such as ``http://user:password@host/v1`` or an API key must never reach a
store, a dataset, a Hub push or an error line. :func:`redact` removes URL user-info and
replaces API-key-looking values with ``***``; provenance ``origin`` fields and every CLI error
line go through it.

Example:
    >>> redact("gpt@user:pw@host:8000#safe-completion-v1")
    'gpt@host:8000#safe-completion-v1'
    >>> redact("http://alice:s3cret@10.0.0.5:8000/v1/chat/completions: HTTP 500")
    'http://10.0.0.5:8000/v1/chat/completions: HTTP 500'
    >>> redact("api_key=sk-abcdefghijklmnopqrstuvwx failed")
    'api_key=*** failed'
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["redact", "strip_userinfo"]

# scheme://user[:password]@  (user-info of any URL in free text)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]*@")
# model@user:password@host (a URL's netloc after the scheme was dropped, e.g. a revision)
_NETLOC_USERINFO = re.compile(r"(?<=@)[^\s@/:#]+:[^\s@/#]*@(?=[^\s@/]+)")
_KEY_VALUE = re.compile(
    r"(?i)\b(api[_-]?key|access[_-]?token|auth[_-]?token|token|password|passwd|secret|"
    r"authorization)(\s*=\s*|:(?=\S))(?:bearer\s+)?(['\"]?)[^\s'\",;&]{4,}\3"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{8,}=*")
_KNOWN_KEYS = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"xox[abp]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16})"
)


def strip_userinfo(url: str) -> str:
    """``url`` without its ``user:password@`` part (anything else unchanged)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


_KEY_WORDS = ("key", "token", "pass", "secret", "auth")
_KEY_PREFIXES = ("sk-", "hf_", "gh", "xox", "AKIA")


def redact(text: str) -> str:
    """``text`` with URL user-info removed and API keys, tokens and passwords masked."""
    if not text:
        return text
    # cheap guards first: this runs for every completion read from a store
    if "@" in text:
        if "://" in text:
            text = _URL_USERINFO.sub(r"\1", text)
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
