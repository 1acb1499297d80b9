"""The few pages sign-in itself serves: the dev sign-in form, a failed sign-in, signed out.
Server-rendered, every value escaped, labelled controls, usable with the keyboard alone."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse, Response

from lrs.people import Role

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

STYLE = """
body { font: 1rem/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 32rem; padding: 1rem;
       color: #1a1a1a; background: #fff; }
.dev-banner { background: #8a0000; color: #fff; font-weight: bold; padding: .5rem 1rem;
              margin: 0 -1rem 1rem; text-align: center; letter-spacing: .05em; }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
fieldset label { display: inline; font-weight: normal; margin: 0 1rem 0 .25rem; }
input[type=text], input[type=email] { width: 100%; padding: .5rem; font-size: 1rem;
                                      box-sizing: border-box; border: 1px solid #555; }
button { margin-top: 1rem; padding: .5rem 1.25rem; font-size: 1rem; background: #0b5394;
         color: #fff; border: 0; border-radius: 3px; }
:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
.error { color: #8a0000; }
"""

DEV_BANNER = ('<p class="dev-banner" role="note">DEV SIGN-IN: anyone can sign in as anyone '
              'with any role. Never enable LRS_DEV_SIGN_IN in production.</p>')


def _page(title: str, body: str, *, status: int = 200, dev: bool = False) -> Response:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)} · tally-lrs</title>'
            f'<link rel="stylesheet" href="/sign-in/style.css"></head><body>'
            f'{DEV_BANNER if dev else ""}<main><h1>{escape(title)}</h1>{body}</main>'
            f'</body></html>')
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def dev_sign_in_page(*, csrf: str, next_path: str, errors: list[str] | None = None,
                     idp_link: str | None = None, status: int = 200) -> Response:
    """The dev-mode form: name, email, roles and groups, signed in without an identity provider."""
    problems = "".join(f"<li>{escape(e)}</li>" for e in errors or [])
    roles = "".join(
        f'<input type="checkbox" id="role-{r.value}" name="role" value="{r.value}">'
        f'<label for="role-{r.value}">{r.value}</label>' for r in Role)
    idp = (f'<p><a href="{escape(idp_link)}">Sign in with the identity provider instead</a></p>'
           if idp_link else "")
    body = (f'{f"<ul class=error role=alert>{problems}</ul>" if problems else ""}'
            f'<form method="post" action="/sign-in/dev">'
            f'<input type="hidden" name="csrftoken" value="{escape(csrf)}">'
            f'<input type="hidden" name="next" value="{escape(next_path)}">'
            f'<label for="name">Name</label>'
            f'<input type="text" id="name" name="name" required autofocus autocomplete="name">'
            f'<label for="email">Email (a learner\'s xAPI agent)</label>'
            f'<input type="email" id="email" name="email" autocomplete="email">'
            f'<fieldset><legend>Roles</legend>{roles}</fieldset>'
            f'<label for="groups">Groups (comma-separated: frameworks are assigned to '
            f'groups)</label><input type="text" id="groups" name="groups">'
            f'<button type="submit">Sign in</button></form>{idp}')
    return _page("Sign in (dev mode)", body, status=status, dev=True)


def sign_in_failed_page(reason: str, *, status: int = 400, dev: bool = False) -> Response:
    """A sign-in that did not work: what happened, and a way to try again."""
    body = (f'<p class="error" role="alert">Sign-in did not work: {escape(reason)}.</p>'
            f'<p><a href="/sign-in">Try again</a></p>')
    return _page("Sign-in failed", body, status=status, dev=dev)


def signed_out_page(*, dev: bool = False) -> Response:
    """Where the browser lands after signing out (the post-logout redirect URI)."""
    return _page("Signed out", '<p>You are signed out.</p><p><a href="/sign-in">Sign in '
                 'again</a></p>', dev=dev)


def style() -> Response:
    """The pages' one stylesheet (a file of its own: the CSP allows no inline style)."""
    return Response(STYLE, media_type="text/css", headers={"Cache-Control": "max-age=3600"})
