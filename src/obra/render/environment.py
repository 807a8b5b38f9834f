"""The one Jinja environment every Obra document is rendered with.

Templates live in files under ``templates/``; HTML is autoescaped; an undefined variable
is an error (a document with a silently blank field is worse than no document); the
``i18n`` extension marks strings for translation. The locale is per render, not per
environment: :func:`render` puts the document's locale and catalogue in a context
variable, which the gettext callables and the formatting filters read, so documents in
different languages can be rendered at once from threads or async tasks.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from babel.support import NullTranslations
from markupsafe import Markup
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape

from obra.errors import NotFound
from obra.render import formatting
from obra.render.catalogues import domain_of, translations
from obra.render.charts import chart_svg
from obra.render.locales import DEFAULT, require_supported
from obra.render.territories import territory_name
from obra.render.vocabulary import term as _term

# Latin, Greek and Cyrillic (Noto Sans), CJK (Japanese first: the demo's titles), Arabic,
# Hebrew, Devanagari; DejaVu as the last resort. Fonts come from the system (fontconfig):
# `make system-deps` installs fonts-noto-core, fonts-noto-cjk and fonts-dejavu-core.
FONT_STACK = ('"Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK KR", "Noto Sans CJK TC", '
              '"Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari", "DejaVu Sans", sans-serif')
MONO_STACK = '"DejaVu Sans Mono", "Noto Sans CJK JP", monospace'


@dataclass(frozen=True)
class _Active:
    locale: str
    catalogue: NullTranslations


_ACTIVE: ContextVar[_Active] = ContextVar("obra_render_locale", default=_Active(DEFAULT, NullTranslations()))


def active_locale() -> str:
    """The locale of the document being rendered (``en`` outside :func:`render`)."""
    return _ACTIVE.get().locale


def gettext(message: str) -> str:
    """``message`` in the language of the document being rendered."""
    return _ACTIVE.get().catalogue.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _ACTIVE.get().catalogue.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return _ACTIVE.get().catalogue.pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _ACTIVE.get().catalogue.npgettext(context, singular, plural, n)


def _money(amount_minor: int, currency: str) -> str:
    return formatting.money(amount_minor, currency, active_locale())


def _date(value: dt.date | dt.datetime | str, format: str = "long") -> str:
    return formatting.date(value, active_locale(), format)


def _datetime(value: dt.datetime | str, format: str = "long") -> str:
    return formatting.datetime(value, active_locale(), format)


def _percent(value: Fraction | Decimal | int | str, digits: int = 2) -> str:
    return formatting.percent(value, active_locale(), digits)


def _period(value: str) -> str:
    return formatting.period(value, active_locale())


def _number(value: int | Decimal) -> str:
    return formatting.number(value, active_locale())


def _territory(code: str) -> str:
    return territory_name(code, active_locale())


def _vocabulary(value: object, kind: str) -> str:
    return _term(kind, value, gettext)


def _build() -> Environment:
    env = Environment(
        loader=PackageLoader("obra.render", "templates"),
        autoescape=select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)
    env.filters.update(money=_money, date=_date, datetime=_datetime, percent=_percent, period=_period, number=_number,
                       territory=_territory, term=_vocabulary)
    env.globals.update(money=_money, territory=_territory, chart_svg=chart_svg, font_stack=Markup(FONT_STACK),
                       mono_stack=Markup(MONO_STACK))
    return env


environment: Environment = _build()


def render(template: str, context: dict, locale: str = DEFAULT) -> str:
    """Render ``template`` (a file under ``templates/``) as HTML in ``locale``.

    ``locale`` must be one of :data:`obra.render.SUPPORTED` (or a regional form of one,
    ``pt_BR``); callers holding a header or a user's option pass it through
    :func:`obra.render.negotiate` first. The template sees ``context`` plus ``locale``.
    """
    language = require_supported(locale)
    token = _ACTIVE.set(_Active(language, translations(language, domain_of(template))))
    try:
        try:
            compiled = environment.get_template(template)
        except TemplateNotFound:
            raise NotFound(f"no document template '{template}' in obra/render/templates; "
                           f"the templates are: {', '.join(environment.list_templates())}") from None
        return compiled.render({**context, "locale": language})
    finally:
        _ACTIVE.reset(token)
