"""The message templates (短信模板): the only texts the platform sends.

A provider sends only a template approved in its console, under the approved signature, with
its parameters filled in; so each template here has its zh-Hans text exactly as approved (the
body stored and shown), its parameters in the order Tencent numbers them ({1}, {2}, …), and a
code per provider from settings (``FANGKONG_SMS_ALIYUN["templates"]``, ``FANGKONG_SMS_TENCENT``).
The English text is for English pages only; residents get the Chinese one.

Rule: a parameter carries only what concerns the recipient (a number of days, their own link or
ticket code), never another person's name, ID, phone or address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fangkong.common.errors import Invalid

MAX_PARAM_LENGTH = 100  # a bound, not a provider's rule: each long message is billed as several


@dataclass(frozen=True)
class SmsTemplate:
    name: str
    label: str | Promise
    zh: str  # as approved by the providers, without the signature (the provider adds 【…】)
    en: str | Promise
    params: tuple[str, ...]  # in the order of Tencent's {1}, {2}, …

    def render(self, params: Mapping[str, str]) -> str:
        """The zh-Hans body as the recipient reads it, with the signature."""
        return f"【{settings.FANGKONG_SMS_SIGNATURE}】" + self.zh.format(**params)

    def code(self, provider: str) -> str:
        """The provider's code of this template (empty when not configured)."""
        config = getattr(settings, f"FANGKONG_SMS_{provider.upper()}", {})
        return str(config.get("templates", {}).get(self.name, ""))


TEMPLATES: dict[str, SmsTemplate] = {
    "companion_notice": SmsTemplate(
        name="companion_notice",
        label=_("Companion notice"),
        zh="您近期与新冠病例存在时空伴随，请于{days}天内完成{tests}次核酸检测，并向社区报备：{link}",
        en=_(
            "You were recently in the same place at the same time as a COVID-19 case. Please take "
            "{tests} PCR tests within {days} days and report to your community: {link}"
        ),
        params=("days", "tests", "link"),
    ),
    "self_report": SmsTemplate(
        name="self_report",
        label=_("Self-report link"),
        zh="您正在接受健康观察，请通过以下链接报备健康状况：{link}",
        en=_("You are under health observation. Please report your health through this link: {link}"),
        params=("link",),
    ),
    "help_ack": SmsTemplate(
        name="help_ack",
        label=_("Help request acknowledgement"),
        zh="您的求助已受理，编号{ticket}，我们将在{minutes}分钟内回电。",
        en=_(
            "Your request for help was received, ticket {ticket}; we will call you back within {minutes} minutes."
        ),
        params=("ticket", "minutes"),
    ),
}


def template_get(name: str) -> SmsTemplate:
    """The template ``name``; an unknown name is ``Invalid`` on the field ``template``."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise Invalid.field(
            "template", gettext("Unknown message template: %(name)s.") % {"name": name}
        ) from None


def params_clean(template: SmsTemplate, params: Mapping[str, str]) -> dict[str, str]:
    """The template's parameters as strings; a missing, empty, extra or too long one is
    ``Invalid`` naming it (an extra one could carry what the approved text does not say)."""
    errors: dict[str, list[str]] = {}
    for name in template.params:
        value = str(params.get(name, "")).strip()
        if not value:
            errors[name] = [gettext("The message needs the parameter %(name)s.") % {"name": name}]
        elif len(value) > MAX_PARAM_LENGTH:
            errors[name] = [
                gettext("The parameter %(name)s is longer than %(n)d characters.")
                % {"name": name, "n": MAX_PARAM_LENGTH}
            ]
    for name in set(params) - set(template.params):
        errors[name] = [gettext("The template has no parameter %(name)s.") % {"name": name}]
    if errors:
        raise Invalid(errors)
    return {name: str(params[name]).strip() for name in template.params}
