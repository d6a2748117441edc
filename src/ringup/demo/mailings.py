"""The demo operator's mailings: one working example for each circle of the funnel that
is done by e-mail (docs/seven-circles.md), each with an English and a Russian variant,
HTML and text.

* Reach — the segment "Look-alike seed" (paying customers of the last 12 months), whose
  CSV export feeds an ad network's look-alike audience; the ``START`` code is the
  promotions demo's.
* Capture — "Welcome: the PBX set-up checklist", triggered by ``customer.registered``.
* Warm — "Registered, no service yet" (segment) gets a monthly educational letter.
* Upsell — "On the cheapest plan for 2 months" (the promotions demo's segment) gets the
  ``UPGRADE`` offer on entering it; buying the top plan (a change up to Contact Centre)
  triggers a letter on the products that go with it.
* Loyalty — "Invoiced 12,000 a year" (segment) is thanked and told about the automatic
  5 % loyalty discount on entering it.
* Recommendation — the referral program is the referrals demo's; the segment "Recommended
  us: brought a customer" (``referral_count`` ≥ 1) shows its referrers.

The triggered mailings are active: only customers who sign up or upgrade from now on
receive them. The segment mailings (Warm, Upsell, Loyalty) are left as drafts to be
activated in the back office: with a mail server configured they would write to the
generated customers, whose addresses are invented but could exist. Running it again
changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone

from ringup.marketing.mailings.models import Mailing, Template, TemplateVariant
from ringup.marketing.mailings.services import activate
from ringup.marketing.segments.models import Segment

from .promotions import CHEAPEST_PLAN

LOOK_ALIKE = "Look-alike seed: paying customers of the last 12 months"
NO_SERVICE = "Registered, no service yet"
LOYAL = "Invoiced 12,000 a year"
REFERRERS = "Recommended us: brought a customer"
TOP_PLAN = "contact-centre"

SEGMENTS = {
    LOOK_ALIKE: (
        "Export as CSV for an ad network's look-alike audience (Reach).",
        {
            "all": [
                {"field": "revenue", "op": "gte", "value": {"months": 12, "amount": "1.00"}},
                {"field": "no_active_service", "op": "is", "value": False},
            ]
        },
    ),
    NO_SERVICE: (
        "Signed up at least 3 days ago and has no live subscription (Warm).",
        {
            "all": [
                {"field": "no_active_service", "op": "is", "value": True},
                {"field": "registered_days_ago", "op": "gte", "value": 3},
            ]
        },
    ),
    REFERRERS: (
        "Customers who brought at least one customer through their link (Recommendation).",
        {"all": [{"field": "referral_count", "op": "gte", "value": 1}]},
    ),
    LOYAL: (
        "Invoiced at least 12,000.00 over the last 12 months (Loyalty).",
        {"all": [{"field": "revenue", "op": "gte", "value": {"months": 12, "amount": "12000.00"}}]},
    ),
}

P = '<p style="margin:0 0 14px">'
BUTTON = (
    '<p style="margin:20px 0"><a href="{href}" style="background:#4338ca;color:#ffffff;'
    'padding:10px 18px;border-radius:4px;text-decoration:none;display:inline-block">'
    "{label}</a></p>"
)
LIST = '<ul style="margin:0 0 14px;padding-left:20px">{items}</ul>'


def _html(*blocks: str) -> str:
    return "\n".join(blocks)


def _items(*items: str) -> str:
    return LIST.format(items="".join(f'<li style="margin:0 0 6px">{i}</li>' for i in items))


TEMPLATES: dict[str, dict[str, tuple[str, str, str]]] = {
    "Welcome: the PBX set-up checklist": {
        "en": (
            "{{ customer_name }}, your PBX set-up checklist",
            _html(
                f"{P}Hello, {{{{ customer_name }}}}!</p>",
                f"{P}Thank you for signing up with {{{{ operator_name }}}}. Most offices are "
                "taking calls on their new number within an hour; this checklist is what our "
                "engineers go through with every new customer:</p>",
                _items(
                    "Pick a number: a local one for your city, or 8-800 for free calls "
                    "from all of Russia.",
                    "Add your staff as extensions and install the softphone on their "
                    "computers and mobiles.",
                    "Record a greeting and set working hours: callers after hours hear it "
                    "and can leave a voicemail.",
                    "Set up a queue so that no caller hears the engaged tone.",
                ),
                BUTTON.format(href="{{ links.portal }}", label="Open your account"),
                f"{P}Questions? Just reply to this e-mail: an engineer answers within one "
                "working day.</p>",
            ),
            "Hello, {{ customer_name }}!\n\n"
            "Thank you for signing up with {{ operator_name }}. Most offices are taking "
            "calls on their new number within an hour; this is the checklist our engineers "
            "go through with every new customer:\n\n"
            "1. Pick a number: a local one for your city, or 8-800 for free calls from all "
            "of Russia.\n"
            "2. Add your staff as extensions and install the softphone on their computers "
            "and mobiles.\n"
            "3. Record a greeting and set working hours.\n"
            "4. Set up a queue so that no caller hears the engaged tone.\n\n"
            "Your account: {{ links.portal }}\n\n"
            "Questions? Just reply to this e-mail: an engineer answers within one working "
            "day.\n",
        ),
        "ru": (
            "{{ customer_name }}, чек-лист настройки АТС",
            _html(
                f"{P}Здравствуйте, {{{{ customer_name }}}}!</p>",
                f"{P}Спасибо за регистрацию в {{{{ operator_name }}}}. Большинство офисов "
                "принимают звонки на новый номер уже в течение часа. Вот чек-лист, по "
                "которому наши инженеры проходят с каждым новым клиентом:</p>",
                _items(
                    "Выберите номер: городской в вашем городе или 8-800 для бесплатных "
                    "звонков со всей России.",
                    "Заведите сотрудников как внутренние номера и установите софтфон на их "
                    "компьютеры и телефоны.",
                    "Запишите приветствие и задайте рабочие часы: в нерабочее время "
                    "звонящий услышит его и сможет оставить голосовое сообщение.",
                    "Настройте очередь, чтобы никто из клиентов не слышал короткие гудки.",
                ),
                BUTTON.format(href="{{ links.portal }}", label="Открыть личный кабинет"),
                f"{P}Остались вопросы? Просто ответьте на это письмо — инженер ответит в "
                "течение рабочего дня.</p>",
            ),
            "Здравствуйте, {{ customer_name }}!\n\n"
            "Спасибо за регистрацию в {{ operator_name }}. Большинство офисов принимают "
            "звонки на новый номер уже в течение часа. Вот чек-лист, по которому наши "
            "инженеры проходят с каждым новым клиентом:\n\n"
            "1. Выберите номер: городской в вашем городе или 8-800 для бесплатных звонков "
            "со всей России.\n"
            "2. Заведите сотрудников как внутренние номера и установите софтфон на их "
            "компьютеры и телефоны.\n"
            "3. Запишите приветствие и задайте рабочие часы.\n"
            "4. Настройте очередь, чтобы никто не слышал короткие гудки.\n\n"
            "Личный кабинет: {{ links.portal }}\n\n"
            "Остались вопросы? Просто ответьте на это письмо — инженер ответит в течение "
            "рабочего дня.\n",
        ),
    },
    "Warm: how a cloud PBX pays for itself": {
        "en": (
            "How a cloud PBX pays for itself in the first month",
            _html(
                f"{P}Hello, {{{{ customer_name }}}}!</p>",
                f"{P}You signed up with {{{{ operator_name }}}} but have not connected a "
                "number yet. Here is what our customers tell us changed in their first "
                "month:</p>",
                _items(
                    "<strong>No lost calls.</strong> A dental clinic in Kazan found that one "
                    "call in five went unanswered at lunchtime; a queue and a callback "
                    "brought those patients back.",
                    "<strong>No hardware.</strong> The PBX runs with us; your staff need a "
                    "headset and the softphone, at the office or at home.",
                    "<strong>Every call on record.</strong> Disputes with a client are "
                    "settled by listening, not by arguing.",
                ),
                f"{P}Try it for 14 days without paying: the calculator shows the price for "
                "your number of employees before you decide.</p>",
                BUTTON.format(href="{{ links.pricing }}", label="See the prices"),
            ),
            "Hello, {{ customer_name }}!\n\n"
            "You signed up with {{ operator_name }} but have not connected a number yet. "
            "Here is what our customers tell us changed in their first month:\n\n"
            "- No lost calls. A dental clinic in Kazan found that one call in five went "
            "unanswered at lunchtime; a queue and a callback brought those patients back.\n"
            "- No hardware. The PBX runs with us; your staff need a headset and the "
            "softphone, at the office or at home.\n"
            "- Every call on record. Disputes with a client are settled by listening.\n\n"
            "Try it for 14 days without paying: {{ links.pricing }}\n",
        ),
        "ru": (
            "Как облачная АТС окупается в первый же месяц",
            _html(
                f"{P}Здравствуйте, {{{{ customer_name }}}}!</p>",
                f"{P}Вы зарегистрировались в {{{{ operator_name }}}}, но ещё не подключили "
                "номер. Вот что, по словам наших клиентов, изменилось у них за первый "
                "месяц:</p>",
                _items(
                    "<strong>Ни одного потерянного звонка.</strong> Стоматология в Казани "
                    "выяснила, что в обед без ответа оставался каждый пятый звонок; очередь "
                    "и обратный звонок вернули этих пациентов.",
                    "<strong>Никакого оборудования.</strong> АТС работает у нас; "
                    "сотрудникам нужны гарнитура и софтфон — в офисе или дома.",
                    "<strong>Каждый разговор записан.</strong> Споры с клиентом решаются "
                    "прослушиванием записи, а не спорами.",
                ),
                f"{P}Попробуйте 14 дней бесплатно: калькулятор покажет цену для вашего "
                "числа сотрудников до того, как вы примете решение.</p>",
                BUTTON.format(href="{{ links.pricing }}", label="Посмотреть цены"),
            ),
            "Здравствуйте, {{ customer_name }}!\n\n"
            "Вы зарегистрировались в {{ operator_name }}, но ещё не подключили номер. Вот "
            "что, по словам наших клиентов, изменилось у них за первый месяц:\n\n"
            "- Ни одного потерянного звонка. Стоматология в Казани выяснила, что в обед "
            "без ответа оставался каждый пятый звонок; очередь и обратный звонок вернули "
            "этих пациентов.\n"
            "- Никакого оборудования. АТС работает у нас; сотрудникам нужны гарнитура и "
            "софтфон — в офисе или дома.\n"
            "- Каждый разговор записан. Споры с клиентом решаются прослушиванием записи.\n\n"
            "Попробуйте 14 дней бесплатно: {{ links.pricing }}\n",
        ),
    },
    "Upsell: give everyone an extension (UPGRADE)": {
        "en": (
            "25% off Office PBX for 3 months, {{ customer_name }}",
            _html(
                f"{P}Hello, {{{{ customer_name }}}}!</p>",
                f"{P}You have been with us on {{{{ plan }}}} for two months. When more than "
                "one person answers the phone, Office PBX gives each of them an extension, "
                "a queue and call transfer — and with the code <strong>UPGRADE</strong> "
                "the first 3 months are 25% cheaper.</p>",
                BUTTON.format(href="{{ links.portal }}", label="Upgrade with UPGRADE"),
                f"{P}Your number and your call history stay as they are.</p>",
            ),
            "Hello, {{ customer_name }}!\n\n"
            "You have been with us on {{ plan }} for two months. When more than one person "
            "answers the phone, Office PBX gives each of them an extension, a queue and "
            "call transfer — and with the code UPGRADE the first 3 months are 25% "
            "cheaper.\n\n"
            "Upgrade in your account: {{ links.portal }}\n"
            "Your number and your call history stay as they are.\n",
        ),
        "ru": (
            "{{ customer_name }}, «Office PBX» на 25% дешевле 3 месяца",
            _html(
                f"{P}Здравствуйте, {{{{ customer_name }}}}!</p>",
                f"{P}Вы уже два месяца с нами на тарифе «{{{{ plan }}}}». Когда на звонки "
                "отвечает больше одного человека, «Office PBX» даёт каждому внутренний "
                "номер, очередь и перевод звонка, а по промокоду <strong>UPGRADE</strong> "
                "первые 3 месяца обойдутся на 25% дешевле.</p>",
                BUTTON.format(href="{{ links.portal }}", label="Перейти с кодом UPGRADE"),
                f"{P}Номер и история звонков останутся прежними.</p>",
            ),
            "Здравствуйте, {{ customer_name }}!\n\n"
            "Вы уже два месяца с нами на тарифе «{{ plan }}». Когда на звонки отвечает "
            "больше одного человека, «Office PBX» даёт каждому внутренний номер, очередь и "
            "перевод звонка, а по промокоду UPGRADE первые 3 месяца обойдутся на 25% "
            "дешевле.\n\n"
            "Перейти в личном кабинете: {{ links.portal }}\n"
            "Номер и история звонков останутся прежними.\n",
        ),
    },
    "Upsell: what goes with Contact Centre": {
        "en": (
            "Welcome to Contact Centre: two tools that go with it",
            _html(
                f"{P}Hello, {{{{ customer_name }}}}!</p>",
                f"{P}Thank you for moving up to {{{{ plan }}}}. Teams with a queue of "
                "their own usually add one of these next:</p>",
                _items(
                    "<strong>Speech analytics</strong> — checks every call against your "
                    "sales script and flags the ones to listen to.",
                    "<strong>Wallboard</strong> — shows the queue, waiting times and free "
                    "agents to the whole team in real time.",
                ),
                BUTTON.format(href="{{ links.portal }}", label="Add an option"),
            ),
            "Hello, {{ customer_name }}!\n\n"
            "Thank you for moving up to {{ plan }}. Teams with a queue of their own usually "
            "add one of these next:\n\n"
            "- Speech analytics: checks every call against your sales script and flags the "
            "ones to listen to.\n"
            "- Wallboard: shows the queue, waiting times and free agents to the whole team "
            "in real time.\n\n"
            "Add an option in your account: {{ links.portal }}\n",
        ),
        "ru": (
            "Добро пожаловать в «Contact Centre»: два инструмента к нему",
            _html(
                f"{P}Здравствуйте, {{{{ customer_name }}}}!</p>",
                f"{P}Спасибо, что перешли на тариф «{{{{ plan }}}}». Команды со своей "
                "очередью обычно следующим подключают одно из этого:</p>",
                _items(
                    "<strong>Речевая аналитика</strong> — проверяет каждый разговор по "
                    "скрипту продаж и отмечает те, что стоит прослушать.",
                    "<strong>Табло оператора</strong> — показывает всей команде очередь, "
                    "время ожидания и свободных операторов в реальном времени.",
                ),
                BUTTON.format(href="{{ links.portal }}", label="Подключить опцию"),
            ),
            "Здравствуйте, {{ customer_name }}!\n\n"
            "Спасибо, что перешли на тариф «{{ plan }}». Команды со своей очередью обычно "
            "следующим подключают одно из этого:\n\n"
            "- Речевая аналитика: проверяет каждый разговор по скрипту продаж и отмечает те, "
            "что стоит прослушать.\n"
            "- Табло оператора: показывает всей команде очередь, время ожидания и свободных "
            "операторов в реальном времени.\n\n"
            "Подключить опцию в личном кабинете: {{ links.portal }}\n",
        ),
    },
    "Loyalty: thank you, 5% off from now on": {
        "en": (
            "Thank you, {{ customer_name }}: 5% off every invoice from now on",
            _html(
                f"{P}Hello, {{{{ customer_name }}}}!</p>",
                f"{P}Over the past twelve months you have been one of our largest "
                "customers. As a thank-you, every invoice from the next period on is 5% "
                "lower — nothing to type, the discount is already on your account.</p>",
                f"{P}Paying for a year in advance takes another 15% off.</p>",
                BUTTON.format(href="{{ links.portal }}", label="Your account"),
            ),
            "Hello, {{ customer_name }}!\n\n"
            "Over the past twelve months you have been one of our largest customers. As a "
            "thank-you, every invoice from the next period on is 5% lower — nothing to "
            "type, the discount is already on your account.\n\n"
            "Paying for a year in advance takes another 15% off: {{ links.portal }}\n",
        ),
        "ru": (
            "Спасибо, {{ customer_name }}: теперь скидка 5% на каждый счёт",
            _html(
                f"{P}Здравствуйте, {{{{ customer_name }}}}!</p>",
                f"{P}За последние двенадцать месяцев вы стали одним из крупнейших наших "
                "клиентов. В благодарность каждый счёт, начиная со следующего периода, "
                "будет на 5% меньше — ничего вводить не нужно, скидка уже действует.</p>",
                f"{P}При оплате за год вперёд — ещё 15%.</p>",
                BUTTON.format(href="{{ links.portal }}", label="Личный кабинет"),
            ),
            "Здравствуйте, {{ customer_name }}!\n\n"
            "За последние двенадцать месяцев вы стали одним из крупнейших наших клиентов. "
            "В благодарность каждый счёт, начиная со следующего периода, будет на 5% "
            "меньше — ничего вводить не нужно, скидка уже действует.\n\n"
            "При оплате за год вперёд — ещё 15%: {{ links.portal }}\n",
        ),
    },
}


@dataclass(frozen=True)
class MailingsDemo:
    mailings: list[Mailing]

    @property
    def message(self) -> str:
        active = sum(m.status == Mailing.Status.ACTIVE for m in self.mailings)
        return (
            f"Mailings: {len(self.mailings)} (seven-circles examples, {active} active, "
            f"the segment ones as drafts), {len(TEMPLATES)} templates in English and Russian."
        )


def _templates() -> dict[str, Template]:
    made = {}
    for name, variants in TEMPLATES.items():
        template, created = Template.objects.get_or_create(name=name)
        if created:
            TemplateVariant.objects.bulk_create(
                TemplateVariant(template=template, language=lang, subject=s, html=h, text=t)
                for lang, (s, h, t) in variants.items()
            )
        made[name] = template
    return made


def _segments() -> dict[str, Segment]:
    return {
        name: Segment.objects.get_or_create(
            name=name, defaults={"description": text, "conditions": conditions}
        )[0]
        for name, (text, conditions) in SEGMENTS.items()
    }


def load_mailings(*, at: datetime | None = None) -> MailingsDemo:
    """Create the demo templates, segments and mailings (after the promotions demo, whose
    segment and codes they use); running it again changes nothing."""
    at = at or timezone.now()
    with transaction.atomic():
        templates, segments = _templates(), _segments()
        cheapest = Segment.objects.get(name=CHEAPEST_PLAN)
        wanted = [
            (
                "Capture: lead magnet on registration",
                templates["Welcome: the PBX set-up checklist"],
                {
                    "kind": Mailing.Kind.TRIGGERED,
                    "trigger_kind": "customer.registered",
                    "delay_minutes": 10,
                    "conversion_kind": "subscription.started",
                },
                True,
            ),
            (
                "Warm: monthly letter to sign-ups without a service",
                templates["Warm: how a cloud PBX pays for itself"],
                {
                    "kind": Mailing.Kind.RECURRING,
                    "segment": segments[NO_SERVICE],
                    "day_of_month": 10,
                    "time_of_day": time(11, 0),
                    "conversion_kind": "subscription.started",
                },
                False,
            ),
            (
                "Upsell: UPGRADE offer after 2 months on the cheapest plan",
                templates["Upsell: give everyone an extension (UPGRADE)"],
                {
                    "kind": Mailing.Kind.TRIGGERED,
                    "trigger_kind": "segment.entered",
                    "segment": cheapest,
                    "time_of_day": time(10, 0),
                    "conversion_kind": "subscription.changed",
                    "conversion_changes": ["plan_up"],
                },
                False,
            ),
            (
                "Upsell: related products after buying Contact Centre",
                templates["Upsell: what goes with Contact Centre"],
                {
                    "kind": Mailing.Kind.TRIGGERED,
                    "trigger_kind": "subscription.changed",
                    "trigger_changes": ["plan_up"],
                    "trigger_plans": [TOP_PLAN],
                    "delay_minutes": 60 * 24,
                    "conversion_kind": "option.added",
                },
                True,
            ),
            (
                "Loyalty: thank-you on reaching 12,000 a year",
                templates["Loyalty: thank you, 5% off from now on"],
                {
                    "kind": Mailing.Kind.TRIGGERED,
                    "trigger_kind": "segment.entered",
                    "segment": segments[LOYAL],
                    "time_of_day": time(10, 30),
                    "conversion_kind": "invoice.paid",
                },
                False,
            ),
        ]
        mailings = []
        for name, template, fields, active in wanted:
            mailing, created = Mailing.objects.get_or_create(
                name=name, defaults={"template": template, **fields}
            )
            if created and active:
                activate(mailing, at=at)
            mailings.append(mailing)
    return MailingsDemo(mailings)
