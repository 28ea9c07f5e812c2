"""The web review app (``scenario-forge serve``): the terminal review flow in a browser.

* :mod:`scenario_forge.web.app` — routes, pages and security headers (:func:`create_app`);
* :mod:`scenario_forge.web.reviewing` — the review flow over the shared queue and answers;
* :mod:`scenario_forge.web.auth` — accounts (scrypt), CSRF tokens.

See ``docs/review-web.md``.
"""
